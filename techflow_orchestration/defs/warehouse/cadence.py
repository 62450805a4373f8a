"""The weekly cadence: history-wide aggregates rebuilt once a week, and whole-table tests.

Some marts read the whole history for every row (signup cohorts, feature adoption since signup,
a customer's retention months, the churn model's weekly features), so building them for one new
day costs as much as building them from scratch. They carry the dbt tag `weekly`
(techflow_dbt/dbt_project.yml, with a freshness policy of 8 days warn / 9 days fail): the daily
job leaves them out (`weekly_marts`, subtracted from its selection in jobs.py) and
`techflow_weekly` rebuilds them every Monday after Sunday's daily run, before the churn model
retrains on fct_churn_signals (churn_model_weekly, Mondays 03:00). `make run`'s build job builds
everything, the weekly marts and the exposures that read them included.

The weekly job also builds the marts whose tests a daily run sizes to its window (config meta
`window_column`: techflow_dbt/macros/test_window.sql). The job is unpartitioned, so no window is
requested: those marts rebuild only their last `lookback` days, and every test on them reads the
whole table, catching what a daily run's window cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetsDefinition,
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)
from dagster_dbt import build_dbt_asset_selection

from techflow_orchestration.project import load_manifest

WEEKLY_JOB_NAME = "techflow_weekly"
WEEKLY_SCHEDULE_NAME = "techflow_weekly_schedule"
# The dbt tag of the marts on the weekly cadence (dbt_project.yml), and dbt's selector for them;
# dagster-dbt also shows it as an asset tag ({"weekly": ""}).
WEEKLY_TAG = "weekly"
WEEKLY_SELECT = f"tag:{WEEKLY_TAG}"
# Mondays 01:30 UTC: after Sunday's daily partition (00:30), before the churn model (03:00).
WEEKLY_CRON = "30 1 * * 1"


def weekly_marts(dbt_assets: AssetsDefinition) -> AssetSelection:
    """The marts on the weekly cadence (what the daily job leaves out)."""
    return build_dbt_asset_selection([dbt_assets], dbt_select=WEEKLY_SELECT)


def window_tested_models(manifest: Mapping[str, Any]) -> list[str]:
    """The models whose tests a daily run sizes to its window (config meta `window_column`)."""
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (node.get("config", {}).get("meta") or {}).get("window_column")
    )


def weekly_selection(dbt_assets: AssetsDefinition) -> AssetSelection:
    """The weekly marts and the window-tested marts, each with all its tests (asset checks)."""
    window_tested = " ".join(window_tested_models(load_manifest()))
    return build_dbt_asset_selection([dbt_assets], dbt_select=f"{WEEKLY_SELECT} {window_tested}")


def build_weekly_job(dbt_assets: AssetsDefinition) -> Any:
    return define_asset_job(
        name=WEEKLY_JOB_NAME,
        selection=weekly_selection(dbt_assets),
        description=(
            "History-wide aggregates (dbt tag weekly) rebuilt with their tests, and the "
            "whole-table tests of the marts a daily run tests on its window only."
        ),
    )


def build_weekly_schedule(weekly_job: Any) -> ScheduleDefinition:
    return ScheduleDefinition(
        name=WEEKLY_SCHEDULE_NAME,
        job=weekly_job,
        cron_schedule=WEEKLY_CRON,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
        description="Rebuild the weekly marts and test the window-tested marts whole.",
    )
