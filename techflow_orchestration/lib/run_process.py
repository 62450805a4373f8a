"""Which process executes a run, recorded so that "is it still alive?" has an exact answer.

A run is dead when the process executing it is gone. A pid alone cannot tell: pids are reused
(a rebuilt container starts counting again), and comparing the run's start time (wall clock)
with the process's age (the kernel's boot clock) lets a forward step of the wall clock make a live
process look younger than its run, i.e. a reused pid — and a live run was failed. So the executor
of this code location tags every run, before its first step, with the identity of the process
that executes it, in the kernel's own terms:

    techflow/process = "<host> <boot id> <pid> <start time in clock ticks after boot>"

`judge` compares that with /proc on the machine asking: same host and boot, and a process with
that pid and that start time -> alive; same host but another boot, no such pid, a zombie, or a
pid now started at another time -> dead; another host -> cannot be told from here (unknown).
No wall-clock reading is involved, so no clock step can fool it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dagster import DagsterEvent, ExecutorDefinition, in_process_executor
from dagster._core.executor.in_process import InProcessExecutor

from techflow_orchestration.lib.tags import HOST_TAG, PROCESS_TAG

# The tag `make run` puts on its runs at creation: the machine that executes them.
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    boot_id: str
    pid: int
    start_ticks: int  # /proc/<pid>/stat field 22: when it started, in clock ticks after boot

    def tag(self) -> str:
        return f"{self.host} {self.boot_id} {self.pid} {self.start_ticks}"

    @classmethod
    def from_tag(cls, tag: str | None) -> ProcessIdentity | None:
        try:
            host, boot_id, pid, ticks = (tag or "").split(" ")
            return cls(host, boot_id, int(pid), int(ticks))
        except ValueError:
            return None

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """This machine's identity of process `pid`; None where /proc cannot tell (another OS,
        no such process, a zombie)."""
        ticks = start_ticks(pid)
        boot = boot_id()
        if ticks is None or boot is None:
            return None
        return cls(socket.gethostname(), boot, pid, ticks)


def boot_id() -> str | None:
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return None


def start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks after boot); None when there is no such process or it
    has exited and only waits to be reaped (a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


class Liveness(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # cannot be told from this machine


@dataclass(frozen=True)
class Judgement:
    liveness: Liveness
    reason: str
    pid: int | None = None


def judge(tags: Mapping[str, str], event_pid: int | None) -> Judgement:
    """Whether the process executing a run (its tags; `event_pid`: the pid its start event
    recorded, for runs without the identity tag) is alive, dead, or unknown from here."""
    identity = ProcessIdentity.from_tag(tags.get(PROCESS_TAG))
    here = socket.gethostname()
    if identity is not None:
        pid = identity.pid
        if identity.host != here:
            return Judgement(Liveness.UNKNOWN, f"it runs on host {identity.host!r}", pid)
        if identity.boot_id != boot_id():
            return Judgement(Liveness.DEAD, f"pid {pid} ran before this machine rebooted", pid)
        ticks = start_ticks(pid)
        if ticks is None:
            return Judgement(Liveness.DEAD, f"pid {pid} is gone", pid)
        if ticks != identity.start_ticks:
            return Judgement(Liveness.DEAD, f"pid {pid} is gone (now another process)", pid)
        return Judgement(Liveness.ALIVE, f"pid {pid} is running", pid)
    # No identity: a run still starting, or executed without this code location's executor.
    host = tags.get(HOST_TAG)
    if host is not None and host != here:
        return Judgement(Liveness.UNKNOWN, f"it runs on host {host!r}", event_pid)
    if event_pid is None:
        return Judgement(Liveness.UNKNOWN, "no process has recorded itself for it", None)
    if start_ticks(event_pid) is None:
        return Judgement(Liveness.DEAD, f"pid {event_pid} is gone", event_pid)
    # Alive, as far as a bare pid can tell (it cannot tell a reused pid).
    return Judgement(Liveness.ALIVE, f"pid {event_pid} is running", event_pid)


class IdentifiedInProcessExecutor(InProcessExecutor):
    """Dagster's in-process executor that first tags the run with this process's identity."""

    def execute(self, plan_context, execution_plan) -> Iterator[DagsterEvent]:  # type: ignore[override]
        identity = ProcessIdentity.of(os.getpid())
        if identity is not None:
            plan_context.instance.add_run_tags(
                plan_context.run_id, {PROCESS_TAG: identity.tag(), HOST_TAG: identity.host}
            )
        yield from super().execute(plan_context, execution_plan)


def _create_executor(init_context) -> IdentifiedInProcessExecutor:
    base = in_process_executor.executor_creation_fn(init_context)  # type: ignore[misc]
    return IdentifiedInProcessExecutor(
        retries=base.retries,
        step_dependency_config=base.step_dependency_config,
        marker_to_close=base.marker_to_close,
    )


# Dagster's `in_process` executor (same name and config), plus the identity tag.
identified_in_process_executor = ExecutorDefinition(
    name="in_process",
    config_schema=in_process_executor.config_schema,
    executor_creation_fn=_create_executor,
    description="Executes every step in the run's process; tags the run with that process.",
)
