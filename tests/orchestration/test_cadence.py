"""The weekly cadence the asset graph states: history-wide aggregates leave the daily job for a
weekly job and schedule with a week's freshness; the full build still builds everything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dagster import AssetKey, AssetSelection

from techflow_orchestration.defs.warehouse.cadence import (
    WEEKLY_JOB_NAME,
    WEEKLY_SCHEDULE_NAME,
    WEEKLY_TAG,
)
from techflow_orchestration.defs.warehouse.jobs import BUILD_JOB_NAME, DAILY_JOB_NAME
from techflow_orchestration.lib.keys import CHURN_PREDICTION_MODEL
from techflow_orchestration.project import load_manifest

# Written out here, not read from the code: what a reader of the asset graph must find weekly.
WEEKLY_MARTS = {
    AssetKey(name)
    for name in (
        "fct_churn_signals",
        "fct_cohort_activity_monthly",
        "rpt_cohort_retention",
        "rpt_feature_adoption",
        "rpt_feature_adoption_monthly",
        "fct_customer_retention_monthly",
    )
}
WINDOW_TESTED_MARTS = {AssetKey("fct_events"), AssetKey("fct_user_engagement_daily")}


def job_keys(defs, name: str) -> set[AssetKey]:
    return set(defs.resolve_job_def(name).asset_layer.selected_asset_keys)


def job_check_targets(defs, name: str) -> set[AssetKey]:
    """The assets whose checks (dbt tests) the job runs."""
    layer = defs.resolve_job_def(name).asset_layer
    return {key.asset_key for data in layer.data for key in data.assets_def.check_keys}


@pytest.fixture
def defs(defs_and_settings):
    return defs_and_settings[0]


def test_the_daily_job_leaves_out_the_weekly_marts_and_keeps_the_window_tested_ones(defs):
    daily = job_keys(defs, DAILY_JOB_NAME)
    assert not daily & WEEKLY_MARTS
    assert daily >= WINDOW_TESTED_MARTS
    assert {
        AssetKey("fct_mrr_daily"),
        AssetKey("dim_users"),
        AssetKey("rpt_marketing_roi"),
    } <= daily


def test_the_weekly_job_builds_the_weekly_and_window_tested_marts_with_their_tests(defs):
    weekly = defs.resolve_job_def(WEEKLY_JOB_NAME)
    assert job_keys(defs, WEEKLY_JOB_NAME) == WEEKLY_MARTS | WINDOW_TESTED_MARTS
    # Unpartitioned: no window is requested, so every test reads the whole table.
    assert weekly.partitions_def is None
    assert job_check_targets(defs, WEEKLY_JOB_NAME) >= WEEKLY_MARTS | WINDOW_TESTED_MARTS


def test_the_full_build_still_builds_the_weekly_marts_and_the_exposures_reading_them(defs):
    build = job_keys(defs, BUILD_JOB_NAME)
    assert build >= WEEKLY_MARTS
    assert CHURN_PREDICTION_MODEL in build
    graph = defs.resolve_asset_graph()
    readers = AssetSelection.assets(*WEEKLY_MARTS).downstream(depth=1).resolve(graph)
    exposures = {key for key in readers if graph.get(key).group_name not in {"product", "finance"}}
    assert exposures and exposures <= build


def test_weekly_marts_warn_after_8_days_and_fail_after_9(defs):
    graph = defs.resolve_asset_graph()
    # The cadence shows in the UI as the assets' tag.
    assert AssetSelection.tag(WEEKLY_TAG, "").resolve(graph) == WEEKLY_MARTS
    for key in WEEKLY_MARTS:
        policy = graph.get(key).freshness_policy
        assert policy.warn_window.to_timedelta() == timedelta(days=8), key
        assert policy.fail_window.to_timedelta() == timedelta(days=9), key
    assert graph.get(AssetKey("fct_events")).freshness_policy.fail_window.to_timedelta() == (
        timedelta(hours=26)
    )


def test_no_daily_model_reads_a_weekly_mart(prepared_manifest):
    """A daily mart built from a weekly one would silently read a week-old input."""
    manifest = load_manifest()
    weekly_ids = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and "weekly" in node["config"]["tags"]
    }
    assert {uid.split(".")[-1] for uid in weekly_ids} == {key.path[-1] for key in WEEKLY_MARTS}
    for uid in weekly_ids:
        for child in manifest["child_map"][uid]:
            if child.startswith("model."):
                assert child in weekly_ids, f"{child} (daily) reads {uid} (weekly)"


def cron_time(cron: str) -> tuple[str, str, tuple[int, int]]:
    """(day of month, day of week, (hour, minute)) of a cron string with fixed minute and hour."""
    minute, hour, day, _, weekday = cron.split()
    return day, weekday, (int(hour), int(minute))


def test_the_weekly_schedule_runs_mondays_between_the_daily_run_and_the_churn_model(defs):
    weekly = defs.resolve_schedule_def(WEEKLY_SCHEDULE_NAME)
    daily = defs.resolve_schedule_def("techflow_daily_schedule")
    churn = defs.resolve_schedule_def("churn_model_weekly_schedule")
    assert weekly.job_name == WEEKLY_JOB_NAME
    assert weekly.execution_timezone == daily.execution_timezone == "UTC"
    _, weekly_day, weekly_at = cron_time(weekly.cron_schedule)
    _, churn_day, churn_at = cron_time(churn.cron_schedule)
    _, daily_day, daily_at = cron_time(daily.cron_schedule)
    # Monday: after the daily run of Sunday's partition, before the churn model reads the week.
    assert weekly_day == churn_day == "1" and daily_day == "*"
    assert daily_at < weekly_at < churn_at
