"""`snapshots_after_daily`: the snapshot job once per daily partition the daily job built.

After the first successful daily-job run of a partition (or of a range ending on it), never for a
retry or a re-run of the same day, an unpartitioned run, or a `make run` run (which snapshots
itself). The decision is a pure function (`snapshot_run_request`); `run_key` keeps it to one run.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

from collections.abc import Mapping
from typing import Any

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunStatusSensorContext,
    SensorDefinition,
    SkipReason,
    run_status_sensor,
)

from techflow_orchestration.lib.tags import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RUN_ALL_TAG,
    SNAPSHOT_DAY_TAG,
)

# What define_asset_job returns (dagster does not export the type).
JobSelection = Any


def snapshot_run_request(run_tags: Mapping[str, str]) -> RunRequest | SkipReason:
    """What a successful daily-job run with these tags asks of the snapshot job.

    The snapshots record the mutable raw entities as of the newest day built, so one snapshot
    run per daily partition: keyed by the run's partition (a range run: its last day), Dagster
    starts it at most once however often that day is rebuilt or retried.
    """
    if RUN_ALL_TAG in run_tags:
        return SkipReason("a `make run` run: make run takes its snapshots itself")
    day = run_tags.get(PARTITION_TAG) or run_tags.get(RANGE_END_TAG)
    if not day:
        return SkipReason("an unpartitioned run: no new day to snapshot")
    return RunRequest(run_key=f"snapshots-{day}", tags={SNAPSHOT_DAY_TAG: day})


def build_snapshots_after_daily_sensor(
    daily_job: JobSelection, snapshot_job: JobSelection
) -> SensorDefinition:
    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        name="snapshots_after_daily",
        monitored_jobs=[daily_job],
        request_job=snapshot_job,
        default_status=DefaultSensorStatus.RUNNING,
        description="Snapshots the marts' sources once per daily partition the daily job built.",
    )
    def snapshots_after_daily(context: RunStatusSensorContext) -> RunRequest | SkipReason:
        return snapshot_run_request(context.dagster_run.tags)

    return snapshots_after_daily
