"""Runs whose process died (kill -9, OOM, a lost machine) must not block the warehouse.

A run killed mid-step never writes its end: it stays STARTED and keeps its `duckdb` pool slot,
so every later run waits on that slot forever. Under `make dev` the daemon's run monitoring
(.dagster_home/dagster.yaml) fails such runs after `max_runtime_seconds` — the default run
launcher cannot check a worker's health — and frees slots of finished runs. `make run` has no
daemon (in-process `execute_job`), so it calls `release_dead_runs` first; under `make dev` the
sensor `release_dead_runs` calls it every minute, so a dead run is released long before the
runtime limit.

What "dead" means is run_process.judge: the process the executor recorded for the run (host,
boot, pid, start time in the kernel's clock) no longer exists on this machine — exact, and no
wall-clock step can make a live run look dead. A dead run is

1. re-read right before it is failed, and left alone if it finished meanwhile (a run that
   succeeded between the listing and the check is never overwritten as failed);
2. reported failed (`report_run_failed`), its pool slots and pending claims freed;
3. alerted once (run_failure_alert, deduplicated by run id with the sensor's and `make run`'s).

All of it under a lock beside the instance (write_lock.py), so two releasers at once (a `make
run` beside `make dev`'s sensor) release and alert each run once. The warehouse needs no cleanup
here: the dead run's dbt died with it (dbt_child.py) and its unpublished writes are reset by the
next writer (publish.py).

A run that cannot be judged from here — executed on another host (a rebuilt container, another
machine on the same instance), or with no process recorded — is never failed automatically and
never waited on silently: it is named with what to do (`python -m techflow_orchestration.dead_runs
--release RUN_ID`), `make run` refuses to queue behind one that holds the pool slot, and the
sensor alerts once per such run. Slots still held by runs that already finished are freed too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from techflow_orchestration.alerts import (
    Alert,
    AlertKind,
    AlertSink,
    AlertStatus,
    run_failure_alert,
)
from techflow_orchestration.keys import DUCKDB_POOL
from techflow_orchestration.run_process import HOST_TAG, PROCESS_TAG, Liveness, judge
from techflow_orchestration.write_lock import exclusive

__all__ = ["HOST_TAG", "PROCESS_TAG", "ReleaseReport", "release_dead_runs", "release_run"]

LIVE_STATUSES = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
RELEASE_COMMAND = "uv run --locked python -m techflow_orchestration.dead_runs --release"
RELEASER_LOCK_NAME = ".techflow_release_dead_runs.lock"

Log = Callable[[str], None]


@dataclass(frozen=True)
class ReleasedRun:
    run_id: str
    job_name: str
    status: DagsterRunStatus
    pid: int | None
    reason: str


@dataclass(frozen=True)
class UnjudgedRun:
    """A live-looking run whose process cannot be checked from this machine."""

    run_id: str
    job_name: str
    status: DagsterRunStatus
    reason: str
    holds_pool_slot: bool

    def advice(self) -> str:
        slot = f", and it holds the `{DUCKDB_POOL}` pool slot" if self.holds_pool_slot else ""
        return (
            f"Run {self.run_id} ({self.job_name}) is {self.status.value} but {self.reason}: "
            f"its process cannot be checked from this machine{slot}. If it is still running, "
            "let it finish; if its machine or process is gone, release it (marks it failed, "
            f"frees its pool slots): {RELEASE_COMMAND} {self.run_id}"
        )


@dataclass(frozen=True)
class ReleaseReport:
    released: list[ReleasedRun] = field(default_factory=list)
    unjudged: list[UnjudgedRun] = field(default_factory=list)

    @property
    def blocking(self) -> list[UnjudgedRun]:
        """Unjudged runs that hold the warehouse's pool slot: every writer would wait on them."""
        return [run for run in self.unjudged if run.holds_pool_slot]


def run_pid(instance: DagsterInstance, run_id: str) -> int | None:
    """The pid the run's start event recorded, else (a run still starting) its first event's."""
    starts = instance.all_logs(run_id, of_type=DagsterEventType.RUN_START)
    for record in starts or instance.all_logs(run_id):
        event = record.dagster_event
        if event is not None and event.pid is not None:
            return event.pid
    return None


def releaser_lock(instance: DagsterInstance) -> Path:
    return Path(instance.root_directory) / RELEASER_LOCK_NAME


def _slot_holders(instance: DagsterInstance) -> set[str]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return set()
    return set(storage.get_concurrency_run_ids())


def _fail(
    instance: DagsterInstance, run_id: str, message: str, sink: AlertSink | None, log: Log
) -> bool:
    """Fail the run if it is still live when re-read now; free its slots; alert once."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.status not in LIVE_STATUSES:
        return False  # it finished (or was released by someone else) since it was listed
    instance.report_run_failed(run, message)
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    if sink is not None:
        partition = run.tags.get("dagster/partition") or run.tags.get(
            "dagster/asset_partition_range_start"
        )
        sink.emit(run_failure_alert(run.job_name, run_id, message, partition), _Logger(log))
    return True


def release_dead_runs(
    instance: DagsterInstance, log: Log = print, sink: AlertSink | None = None
) -> ReleaseReport:
    """Fail every unfinished run whose process is gone and free its pool slots (alerting through
    `sink` once per run); name the runs that cannot be judged from here; free slots still held
    by finished runs."""
    released: list[ReleasedRun] = []
    unjudged: list[UnjudgedRun] = []
    with exclusive(releaser_lock(instance), "release_dead_runs"):
        holders = _slot_holders(instance)
        for record in instance.get_run_records(RunsFilter(statuses=LIVE_STATUSES)):
            run = record.dagster_run
            verdict = judge(dict(run.tags), run_pid(instance, run.run_id))
            if verdict.liveness is Liveness.ALIVE:
                continue
            if verdict.liveness is Liveness.UNKNOWN:
                holds_slot = run.run_id in holders
                # A run still starting has recorded no process yet and holds nothing: not news.
                if holds_slot or run.status is not DagsterRunStatus.STARTING:
                    unjudged.append(
                        UnjudgedRun(
                            run.run_id, run.job_name, run.status, verdict.reason, holds_slot
                        )
                    )
                continue
            message = (
                f"Marked failed by the dead-run releaser: the process executing this run is gone "
                f"({verdict.reason}; killed, or its machine lost); its pool slots were freed."
            )
            if not _fail(instance, run.run_id, message, sink, log):
                continue
            released.append(
                ReleasedRun(run.run_id, run.job_name, run.status, verdict.pid, verdict.reason)
            )
            log(
                f"Released dead run {run.run_id} ({run.job_name}, was {run.status.value}, "
                f"{verdict.reason}): marked failed, pool slots freed."
            )
        storage = instance.event_log_storage
        if holders:
            finished = instance.get_runs(
                RunsFilter(run_ids=list(holders), statuses=list(FINISHED_STATUSES))
            )
            for run in finished:
                storage.free_concurrency_slots_for_run(run.run_id)
                log(f"Freed pool slots held by finished run {run.run_id} ({run.status.value}).")
    for run in unjudged:
        log(run.advice())
    return ReleaseReport(released, unjudged)


def release_run(
    instance: DagsterInstance, run_id: str, log: Log = print, sink: AlertSink | None = None
) -> bool:
    """Release one run by hand (its process is known to be gone): fail it if it is still live,
    free its slots, alert once. False when it had already finished."""
    message = "Marked failed by hand (dead_runs --release): its process is gone; slots freed."
    with exclusive(releaser_lock(instance), "release_dead_runs --release"):
        done = _fail(instance, run_id, message, sink, log)
    log(f"Released run {run_id}." if done else f"Run {run_id} is not running; nothing to do.")
    return done


def stuck_run_alert(run: UnjudgedRun) -> Alert:
    return Alert(
        kind=AlertKind.STUCK_RUN,
        status=AlertStatus.FAILING,
        subject=run.job_name,
        message=run.advice(),
        details={"run_id": run.run_id},
        dedupe_key=f"stuck_run:{run.run_id}",
    )


class _Logger:
    """A `log(str)` callable as the logger AlertSink.emit expects."""

    def __init__(self, log: Log) -> None:
        self._log = log

    def error(self, message: str) -> None:
        self._log(message)

    def info(self, message: str) -> None:
        self._log(message)

    def warning(self, message: str) -> None:
        self._log(message)


def main(argv: Sequence[str] | None = None) -> int:
    from techflow_core.settings import TechflowSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--release", metavar="RUN_ID", help="fail this run by hand (its process is known gone)"
    )
    args = parser.parse_args(argv)
    try:
        settings = TechflowSettings.from_env()
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    sink = AlertSink(settings.alerts_file, settings.alert_webhook)
    with DagsterInstance.get() as instance:
        if args.release:
            release_run(instance, args.release, sink=sink)
        else:
            release_dead_runs(instance, sink=sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
