"""`make run`: materialize the whole graph for the default world through Dagster, then summarize.

Runs go into the instance at $DAGSTER_HOME — the same one `make dev` opens — so the UI shows their
history. Two Dagster runs, steps in this process:

  1. raw    the raw tables for every missing day: the daily job's raw op as one single-run
            backfill (one generate_range call) over the range from the first missing day to the
            as-of day;
  2. build  everything downstream of the raw tables, in the build job
            (techflow_orchestration/defs/warehouse/jobs.py): ONE `dbt build` of every model,
            seed, test and snapshot (fct_mrr_daily and int_subscription_versions for the days
            from the first one missing), then the two dashboards and the churn model.

Why two runs and not one: a range run of a job holding the raw op gets a run-wide partitions
subset in Dagster 1.13, and then plans an event for every (asset, day) pair, unpartitioned assets
included (the mechanism: the build job's docstring): 50 dbt and exposure assets x 698 days for a
fresh world. The build job holds no raw op, so its range run plans one event per unpartitioned
asset and one per (incremental, day). The per-(asset, day) events that remain — which let the UI
show every partition, and every partition of a failed run as failed — are written in batches
(event_batches.py; applied through storage_patches.py, on the tested Dagster version only).

The build runs when the raw run landed days, when a day of the incrementals is missing, when an
asset it builds has never been materialized, or when the newest build run did not succeed; so a
second `make run` on the same day builds nothing and only prints the summary, and the next
morning it builds one day.

Before planning, runs a killed `make run` (kill -9) or a dead UI run worker left STARTED are
marked failed and their `duckdb` pool slots freed
(techflow_orchestration.defs.housekeeping.dead_runs): there is no daemon here to do it, and the
slot would otherwise block every run forever. A run holding that slot whose process cannot be
checked from this machine (another host) stops `make run` with what to do, instead of a wait
without end.

A failed run alerts as a scheduled one does (the same sink: the log, alerts.jsonl, the webhook),
once: `make dev`'s run-failure sensor recognises the alert by its run id and does not repeat it.

The as-of day (TECHFLOW_AS_OF, default yesterday UTC) is resolved once, first, and pinned in the
environment before the definitions are imported: the partitions end on it, and every run, dbt
process and the summary agree on it even when `make run` crosses midnight.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    JobDefinition,
    RunsFilter,
    execute_job,
    reconstructable,
)

from techflow_core.clock import AS_OF_ENV, pin_as_of
from techflow_core.settings import TechflowSettings
from techflow_ops.storage_patches import apply_storage_patches
from techflow_ops.summary import print_summary
from techflow_orchestration.alerts import AlertSink, run_failure_alert
from techflow_orchestration.defs.housekeeping.dead_runs import release_dead_runs
from techflow_orchestration.defs.warehouse.jobs import BUILD_JOB_NAME, DAILY_JOB_NAME
from techflow_orchestration.lib.keys import (
    CHURN_PREDICTION_MODEL,
    EXPOSURE_KEYS,
    MRR_PARTITIONED_KEYS,
    RAW_ASSET_KEYS,
)
from techflow_orchestration.lib.tags import HOST_TAG, RANGE_END_TAG, RANGE_START_TAG, RUN_ALL_TAG

__all__ = ["RUN_ALL_TAG", "Stage", "main", "plan_stages", "run_stage"]
RUN_CONFIG = {
    # The terminal gets INFO and up; every DEBUG event (one per materialized partition, thousands
    # for a fresh world) stays in the instance's event log, where the UI shows it.
    "loggers": {"console": {"config": {"log_level": "INFO"}}},
    # Steps run in this process (the code location's in_process executor). A kill -9 of `make
    # run` takes its dbt child with it; dead_runs releases the run.
}


def daily_job() -> JobDefinition:
    """The raw run selects the daily job's raw op."""
    from techflow_orchestration.definitions import defs

    return defs.resolve_job_def(DAILY_JOB_NAME)


def build_job() -> JobDefinition:
    from techflow_orchestration.definitions import defs

    return defs.resolve_job_def(BUILD_JOB_NAME)


@dataclass(frozen=True)
class Stage:
    name: str
    assets: Sequence[AssetKey]
    job_fn: Callable[[], JobDefinition]
    first_day: date | None = None  # partitioned selections: first missing day (None: none)
    last_day: date | None = None

    def tags(self) -> dict[str, str]:
        tags = {RUN_ALL_TAG: self.name, HOST_TAG: socket.gethostname()}
        if self.first_day and self.last_day:
            tags[RANGE_START_TAG] = self.first_day.isoformat()
            tags[RANGE_END_TAG] = self.last_day.isoformat()
        return tags

    def describe(self) -> str:
        what = f"{self.name}: {len(self.assets)} asset(s)"
        if self.first_day and self.last_day:
            days = (self.last_day - self.first_day).days + 1
            return f"{what}, {self.first_day}..{self.last_day} ({days} day(s))"
        return what


def first_missing_day(
    instance: DagsterInstance, keys: Sequence[AssetKey], partition_keys: Sequence[str]
) -> date | None:
    """The earliest partition any of `keys` lacks (ISO dates sort chronologically)."""
    missing = [
        min(set(partition_keys) - instance.get_materialized_partitions(key), default=None)
        for key in keys
    ]
    present = [day for day in missing if day is not None]
    return date.fromisoformat(min(present)) if present else None


def never_materialized(instance: DagsterInstance, keys: Sequence[AssetKey]) -> bool:
    return any(instance.get_latest_materialization_event(key) is None for key in keys)


def last_run_failed(instance: DagsterInstance, job_name: str) -> bool:
    """The newest finished run of the job did not succeed (none: False)."""
    finished = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    runs = instance.get_runs(RunsFilter(job_name=job_name, statuses=finished), limit=1)
    return bool(runs) and runs[0].status is not DagsterRunStatus.SUCCESS


def check_partitions_reach(
    defs: Definitions, as_of: date, current_time: datetime | None = None
) -> None:
    """The daily partitions must end on the as-of day. Dagster caps them by its own clock
    (`current_time`, default now), so an as-of day that has not ended yet (UTC) has no
    partition: say so instead of building less."""
    partitions_def = defs.resolve_job_def(DAILY_JOB_NAME).partitions_def
    keys = partitions_def.get_partition_keys(current_time=current_time)
    last = keys[-1] if keys else None
    if last != as_of.isoformat():
        raise SystemExit(
            f"{AS_OF_ENV}={as_of} has not ended yet (UTC), so Dagster has no daily partition "
            f"for it (its last one is {last or 'none'}). Set {AS_OF_ENV} to a day that has "
            "ended, or unset it to build up to yesterday."
        )


def plan_stages(
    instance: DagsterInstance, defs: Definitions, *, exposures: bool = True
) -> list[Stage]:
    """The runs this invocation needs, in order. `exposures=False` leaves out the dashboards and
    the churn model (the benchmarks compare Dagster's dbt work with dbt's)."""
    partition_keys = defs.resolve_job_def(DAILY_JOB_NAME).partitions_def.get_partition_keys()
    last_day = date.fromisoformat(partition_keys[-1])

    stages: list[Stage] = []
    raw_keys = list(RAW_ASSET_KEYS)
    raw_from = first_missing_day(instance, raw_keys, partition_keys)
    if raw_from:
        stages.append(Stage("raw", raw_keys, daily_job, raw_from, last_day))

    build_keys = [
        key
        for key in defs.resolve_job_def(BUILD_JOB_NAME).asset_layer.executable_asset_keys
        if exposures or key not in EXPOSURE_KEYS
    ]
    mrr_keys = list(MRR_PARTITIONED_KEYS)
    mrr_from = min(
        (d for d in (raw_from, first_missing_day(instance, mrr_keys, partition_keys)) if d),
        default=None,
    )
    unpartitioned = [k for k in build_keys if k not in mrr_keys]
    # Not the churn model: on a world too young for it, its step materializes nothing (a warning
    # says why), and a second `make run` must still find nothing to do.
    expected = [k for k in unpartitioned if k != CHURN_PREDICTION_MODEL]
    if (
        stages
        or mrr_from
        or never_materialized(instance, expected)
        or last_run_failed(instance, BUILD_JOB_NAME)
    ):
        # Without a missing day the incrementals stay out: an unpartitioned run cannot hold them.
        selected = build_keys if mrr_from else unpartitioned
        stages.append(Stage("build", selected, build_job, mrr_from, last_day if mrr_from else None))
    return stages


def run_stage(stage: Stage, instance: DagsterInstance, sink: AlertSink | None = None) -> None:
    """Execute the stage's run; a failure is alerted through `sink` (once) and ends `make run`;
    a success after a failed run of the job is noted as a recovery, as the sensors do."""
    from techflow_orchestration.defs.alerting.sensors import recovery_alert

    result = execute_job(
        reconstructable(stage.job_fn),
        instance=instance,
        run_config=RUN_CONFIG,
        tags=stage.tags(),
        asset_selection=list(stage.assets),
    )
    run = instance.get_run_by_id(result.run_id)
    if not result.success:
        message = (
            f"Stage {stage.name!r} of make run failed in Dagster run {result.run_id}. Open `make "
            f"dev` -> Runs -> {result.run_id} for the failing step's logs, fix, and run `make run` "
            "again: it resumes from what is missing."
        )
        if sink is not None and run is not None:
            first_day = stage.first_day.isoformat() if stage.first_day else None
            sink.emit(run_failure_alert(run.job_name, run.run_id, message, first_day), _LOG)
        raise SystemExit(message)
    if sink is not None and run is not None:
        recovered = recovery_alert(instance, run)
        if recovered is not None:
            sink.emit(recovered, _LOG)


class _PrintLog:
    """The alert sink's log for `make run`: the terminal."""

    def error(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    info = warning = error


_LOG = _PrintLog()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-exposures",
        action="store_true",
        help="build the warehouse only, not the dashboards and the churn model (benchmarks)",
    )
    args = parser.parse_args(argv)
    # First: one as-of day for every stage, dbt process and the summary, even across midnight.
    try:
        as_of = pin_as_of()
        settings = TechflowSettings.from_env()
    except ValueError as exc:  # a malformed TECHFLOW_AS_OF, _WORLD_START or _WORLD_SCALE
        raise SystemExit(str(exc)) from exc
    settings.export_to_environment()
    # Imported after the environment is pinned: the definitions read it (partitions end on it).
    from techflow_orchestration.definitions import defs

    check_partitions_reach(defs, as_of)
    instance = DagsterInstance.get()
    # SQLite event-log speed-ups, on the Dagster versions they were tested with (storage_patches).
    apply_storage_patches(instance)
    sink = AlertSink(settings.alerts_file, settings.alert_webhook)
    released = release_dead_runs(instance, sink=sink)
    if released.blocking:
        raise SystemExit(
            "make run would wait on a run it cannot check, without end:\n"
            + "\n".join(run.advice() for run in released.blocking)
        )
    stages = plan_stages(instance, defs, exposures=not args.skip_exposures)
    if not stages:
        print(f"Everything is materialized up to {as_of} (the as-of day); nothing to build.")
    else:
        print(
            f"Building up to {as_of} (the as-of day, {AS_OF_ENV}): {len(stages)} stage(s)",
            flush=True,
        )
    for number, stage in enumerate(stages, start=1):
        print(f"[{number}/{len(stages)}] {stage.describe()}", flush=True)
        run_stage(stage, instance, sink)
    print_summary(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
