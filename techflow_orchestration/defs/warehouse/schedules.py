"""The daily schedule: yesterday's partition of the daily job, shortly after the UTC day closes.

A plain `@schedule` that asks the partitions for their last key itself and yields
`RunRequest(partition_key=...)`. `build_schedule_from_partitioned_job` would do the same, but its
tick evaluation calls the deprecated `JobDefinition.run_request_for_partition` (dagster 1.13,
partitioned_schedule.py), so every tick raised a DeprecationWarning on our behalf.
"""

from __future__ import annotations

from typing import Any

from dagster import (
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from techflow_orchestration.lib.partitions import TIMEZONE

DAILY_SCHEDULE_HOUR_UTC = 0
DAILY_SCHEDULE_MINUTE = 30
DAILY_SCHEDULE_NAME = "techflow_daily_schedule"


def build_daily_schedule(
    daily_job: Any, partitions_def: DailyPartitionsDefinition
) -> ScheduleDefinition:
    @schedule(
        name=DAILY_SCHEDULE_NAME,
        job=daily_job,
        cron_schedule=f"{DAILY_SCHEDULE_MINUTE} {DAILY_SCHEDULE_HOUR_UTC} * * *",
        execution_timezone=TIMEZONE,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Yesterday's raw world and fct_mrr_daily partition, then the marts.",
    )
    def techflow_daily_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        # The last partition whose day has ended by the tick: at 00:30 UTC, the day that just
        # ended. With a pinned as-of day the partitions stop there, so later ticks ask for the
        # as-of day again; the run key (the partition) makes that one run, not one per tick.
        keys = partitions_def.get_partition_keys(current_time=context.scheduled_execution_time)
        key = keys[-1] if keys else None
        if key is None:
            return SkipReason("no daily partition has ended yet")
        return RunRequest(run_key=key, partition_key=key)

    return techflow_daily_schedule
