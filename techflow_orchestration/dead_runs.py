"""Runs whose process died (kill -9, OOM, a lost machine) must not block the warehouse.

A run killed mid-step never writes its end: it stays STARTED and keeps its `duckdb` pool slot,
so every later run waits on that slot forever. Under `make dev` the daemon's run monitoring
(.dagster_home/dagster.yaml) fails such runs after `max_runtime_seconds` — the default run
launcher cannot check a worker's health — and frees slots of finished runs. `make run` has no
daemon (in-process `execute_job`), so it calls `release_dead_runs` first; under `make dev` the
sensor `release_dead_runs` calls it every minute, so a dead run is released long before the
runtime limit:

- a run that is STARTING, STARTED or CANCELING is dead when the process that executes it is gone.
  That process is the one that wrote the run's start event (every Dagster event records its pid:
  for `make run` the make-run process itself, for a UI launch the run worker the launcher
  started). A pid that now belongs to a process started after the run began was reused, so the
  run's process is gone too. Runs of another machine cannot be judged from here and are left
  alone (the instance lives in the repo, so there are none in practice).
- a dead run is reported failed (`report_run_failed`) and its pool slots and pending slot claims
  are freed; so are slots still held by runs that already finished.

One line per cleaned run goes to the caller's `log`.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.storage.dagster_run import FINISHED_STATUSES

LIVE_STATUSES = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
# The tag `make run` puts on its runs: the machine that executes them (see run_all.run_stage).
HOST_TAG = "techflow/host"
# A process that started this long after the run's first event cannot be the run's process.
PID_REUSE_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class ReleasedRun:
    run_id: str
    job_name: str
    status: DagsterRunStatus
    pid: int | None


def _process_age(pid: int) -> float | None:
    """How long ago `pid` started (seconds), from /proc; None where /proc is not available, inf
    for a zombie. An age, not a start time: /proc counts from boot on the kernel's clock, while
    run timestamps come from the (possibly adjusted or faked) wall clock; ages compare across
    both because each side is measured against its own clock."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    state, start_ticks = fields[0], int(fields[19])
    if state in ("Z", "X"):  # a zombie has finished: it only waits for its parent to reap it
        return float("inf")
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, started_by: float | None = None) -> bool:
    """Whether `pid` is a live process that already existed at `started_by` (epoch seconds)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    age = _process_age(pid)
    if age is None:
        return True
    if age == float("inf"):
        return False
    return started_by is None or age + PID_REUSE_SLACK_SECONDS >= time.time() - started_by


def run_process(instance: DagsterInstance, run_id: str) -> tuple[int | None, float | None]:
    """The pid that executes the run and when the run started: from the run's start event, else
    (a run still starting) from its first event that records a pid."""
    starts = instance.all_logs(run_id, of_type=DagsterEventType.RUN_START)
    records = starts or instance.all_logs(run_id)
    for record in records:
        event = record.dagster_event
        if event is not None and event.pid is not None:
            return event.pid, record.timestamp
    return None, None


def _on_this_host(tags: dict[str, str]) -> bool:
    host = tags.get(HOST_TAG)
    return host is None or host == socket.gethostname()


def release_dead_runs(
    instance: DagsterInstance, log: Callable[[str], None] = print
) -> list[ReleasedRun]:
    """Fail every unfinished run whose process is gone and free its pool slots; free slots
    still held by finished runs. Returns the runs it failed."""
    released: list[ReleasedRun] = []
    for record in instance.get_run_records(RunsFilter(statuses=LIVE_STATUSES)):
        run = record.dagster_run
        if not _on_this_host(dict(run.tags)):
            continue
        pid, started = run_process(instance, run.run_id)
        if pid is None or process_alive(pid, started):
            continue  # not started far enough to tell, or still running
        instance.report_run_failed(
            run,
            f"Marked failed by make run: the process executing this run (pid {pid}) is gone "
            "(killed, or its machine lost); its pool slots were freed.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(ReleasedRun(run.run_id, run.job_name, run.status, pid))
        log(
            f"Released dead run {run.run_id} ({run.job_name}, was {run.status.value}, "
            f"pid {pid} gone): marked failed, pool slots freed."
        )
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        holders = storage.get_concurrency_run_ids()
        if holders:
            finished = instance.get_runs(
                RunsFilter(run_ids=list(holders), statuses=list(FINISHED_STATUSES))
            )
            for run in finished:
                storage.free_concurrency_slots_for_run(run.run_id)
                log(f"Freed pool slots held by finished run {run.run_id} ({run.status.value}).")
    return released
