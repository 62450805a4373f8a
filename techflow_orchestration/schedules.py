"""The daily schedule: yesterday's partition of the daily job, shortly after the UTC day closes."""

from __future__ import annotations

from typing import Any

from dagster import (
    DefaultScheduleStatus,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
)

DAILY_SCHEDULE_HOUR_UTC = 0
DAILY_SCHEDULE_MINUTE = 30


def build_daily_schedule(daily_job: Any):
    # A daily-partitioned job's schedule fires after each partition's day ends and requests that
    # partition, so at 00:30 UTC it runs the day that just completed: yesterday.
    return build_schedule_from_partitioned_job(
        daily_job,
        name="techflow_daily_schedule",
        hour_of_day=DAILY_SCHEDULE_HOUR_UTC,
        minute_of_hour=DAILY_SCHEDULE_MINUTE,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Yesterday's raw world and fct_mrr_daily partition, then the marts.",
    )


def build_churn_schedule(churn_job: Any) -> ScheduleDefinition:
    # Mondays 03:00 UTC: after Sunday's partition (00:30) has built the week's last churn signals.
    return ScheduleDefinition(
        name="churn_model_weekly_schedule",
        job=churn_job,
        cron_schedule="0 3 * * 1",
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Retrain the churn model and score the week's paying customers.",
    )
