"""`churn_model_weekly`: the churn model, weekly like the exposure it is (it needs months of
labelled weeks; a young world cannot fail the daily job), and its Monday schedule."""

from __future__ import annotations

from typing import Any

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from techflow_orchestration.lib.keys import CHURN_PREDICTION_MODEL

CHURN_JOB_NAME = "churn_model_weekly"


def build_churn_job() -> Any:  # dagster's UnresolvedAssetJobDefinition, which it does not export
    return define_asset_job(
        name=CHURN_JOB_NAME,
        selection=AssetSelection.assets(CHURN_PREDICTION_MODEL),
        description="Retrain the churn model on fct_churn_signals and score today's customers.",
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
