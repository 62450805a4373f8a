"""Sensors: a stale asset is told once and its recovery once; a failed run is told once."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest
from dagster import (
    AssetKey,
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    RunRequest,
    SkipReason,
    asset,
    build_run_status_sensor_context,
    build_sensor_context,
    define_asset_job,
)
from dagster._core.definitions.freshness import FreshnessState, FreshnessStateChange

from techflow_orchestration.alerts import read_alerts
from techflow_orchestration.defs.alerting.sensors import (
    build_freshness_alert_sensor,
    freshness_transitions,
    run_failure_alerts,
    run_recovery_alerts,
)
from techflow_orchestration.lib.resources import AlertsResource
from tests.support import AS_OF

MRR = AssetKey("fct_mrr_daily")
ARR = AssetKey("rpt_arr")


def test_transitions_alert_on_first_fail_only():
    first = freshness_transitions({MRR: "FAIL", ARR: "PASS"}, previously_failing=[])
    again = freshness_transitions({MRR: "FAIL", ARR: "PASS"}, previously_failing=first.failing)

    assert [(a.subject, a.status) for a in first.alerts] == [("fct_mrr_daily", "failing")]
    assert again.alerts == []
    assert again.failing == {"fct_mrr_daily"}


def test_transitions_recover_once_and_unknown_changes_nothing():
    recovered = freshness_transitions({MRR: "PASS"}, previously_failing=["fct_mrr_daily"])
    unknown = freshness_transitions({MRR: "UNKNOWN"}, previously_failing=["fct_mrr_daily"])

    assert [(a.subject, a.status) for a in recovered.alerts] == [("fct_mrr_daily", "recovered")]
    assert recovered.failing == frozenset()
    assert unknown.alerts == [] and unknown.failing == {"fct_mrr_daily"}


@pytest.fixture
def alerts(tmp_path) -> AlertsResource:
    return AlertsResource(alerts_file=str(tmp_path / "alerts" / "alerts.jsonl"))


# State changes get fixed, increasing timestamps (one second apart, from the end of the suite's
# as-of day): the sensor's verdict depends on the states alone, never on when the test runs.
_CHANGE_TIMES = itertools.count(
    datetime.combine(AS_OF + timedelta(days=1), time(), tzinfo=UTC).timestamp()
)


def _set_state(instance: DagsterInstance, key: AssetKey, state: FreshnessState) -> None:
    # What the instance's freshness daemon records when it evaluates a policy.
    instance.report_runless_asset_event(
        FreshnessStateChange(
            key=key,
            new_state=state,
            previous_state=FreshnessState.UNKNOWN,
            state_change_timestamp=next(_CHANGE_TIMES),
        )
    )


def test_stale_asset_yields_exactly_one_alert_and_one_recovery(alerts):
    sensor = build_freshness_alert_sensor([MRR])
    cursor = None
    with DagsterInstance.ephemeral() as instance:

        def tick() -> None:
            nonlocal cursor
            context = build_sensor_context(
                instance=instance, cursor=cursor, resources={"alerts": alerts}
            )
            sensor(context)
            cursor = context.cursor

        _set_state(instance, MRR, FreshnessState.PASS)
        tick()
        _set_state(instance, MRR, FreshnessState.FAIL)
        tick()
        tick()
        _set_state(instance, MRR, FreshnessState.PASS)
        tick()
        tick()

    records = read_alerts(alerts.sink().alerts_file)
    assert [(r["subject"], r["status"]) for r in records] == [
        ("fct_mrr_daily", "failing"),
        ("fct_mrr_daily", "recovered"),
    ]


@asset
def flaky(context) -> None:
    if context.run.tags.get("fail") == "yes":
        raise RuntimeError("simulated failure")


FLAKY_JOB = define_asset_job("flaky_job", selection=[flaky])
FLAKY_DEFS = Definitions(assets=[flaky], jobs=[FLAKY_JOB])


def _run(instance: DagsterInstance, fail: bool):
    job = FLAKY_DEFS.resolve_job_def("flaky_job")
    result = job.execute_in_process(
        instance=instance, tags={"fail": "yes" if fail else "no"}, raise_on_error=False
    )
    run = instance.get_run_by_id(result.run_id)
    event_type = DagsterEventType.RUN_FAILURE if fail else DagsterEventType.RUN_SUCCESS
    event = next(e for e in result.all_events if e.event_type == event_type)
    return run, event


def tell_run_failure(instance: DagsterInstance, run, failure_event, alerts) -> None:
    """Evaluate run_failure_alerts for one failed run, as the daemon does."""
    run_failure_alerts(
        build_run_status_sensor_context(
            sensor_name="run_failure_alerts",
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=failure_event,
            resources={"alerts": alerts},
        ).for_run_failure()
    )


def test_failed_run_yields_one_alert_and_the_next_success_one_recovery(alerts):
    with DagsterInstance.ephemeral() as instance:
        failed_run, failure_event = _run(instance, fail=True)
        assert failed_run.status is DagsterRunStatus.FAILURE
        tell_run_failure(instance, failed_run, failure_event, alerts)

        # Two successes in a row: only the first follows a failure.
        for _ in range(2):
            ok_run, success_event = _run(instance, fail=False)
            run_recovery_alerts(
                build_run_status_sensor_context(
                    sensor_name="run_recovery_alerts",
                    dagster_instance=instance,
                    dagster_run=ok_run,
                    dagster_event=success_event,
                    resources={"alerts": alerts},
                )
            )

    records = read_alerts(alerts.sink().alerts_file)
    assert [(r["kind"], r["status"], r["subject"]) for r in records] == [
        ("run_failure", "failing", "flaky_job"),
        ("run_failure", "recovered", "flaky_job"),
    ]
    assert records[0]["details"]["run_id"] == failed_run.run_id
    assert "flaky" in records[0]["message"]  # names the failed step


def test_a_failure_make_run_already_told_is_not_told_again_by_the_sensor(alerts):
    """`make run` alerts its own failed runs (no daemon there); when `make dev`'s sensor later
    sees the same failure, the sink recognises it by the run id."""
    import logging

    from techflow_orchestration.alerts import run_failure_alert

    with DagsterInstance.ephemeral() as instance:
        failed_run, failure_event = _run(instance, fail=True)
        told = run_failure_alert(failed_run.job_name, failed_run.run_id, "stage failed")
        assert alerts.sink().emit(told, logging.getLogger("make run"))  # what run_stage does
        tell_run_failure(instance, failed_run, failure_event, alerts)
    records = read_alerts(alerts.sink().alerts_file)
    assert [(r["kind"], r["details"]["run_id"]) for r in records] == [
        ("run_failure", failed_run.run_id)
    ]
    assert records[0]["message"] == "stage failed"


def _snapshot_request(defs, instance, tags):
    """What snapshots_after_daily yields for a successful daily-job run with these tags."""
    sensor = defs.resolve_sensor_def("snapshots_after_daily")
    daily = defs.resolve_job_def("techflow_daily")
    run = instance.create_run_for_job(daily, status=DagsterRunStatus.SUCCESS, tags=tags)
    context = build_run_status_sensor_context(
        sensor_name="snapshots_after_daily",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=DagsterEvent(
            event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name=daily.name
        ),
    )
    assert sensor.job_name == "techflow_snapshots"
    return sensor(context)


def test_snapshots_run_once_per_daily_partition_however_often_it_is_built(defs_and_settings):
    """A partition built, then retried or re-run, asks for one snapshot run: the same run key
    each time, and Dagster starts one run per run key."""
    defs, settings = defs_and_settings
    day = settings.as_of.isoformat()
    with DagsterInstance.ephemeral() as instance:
        first = _snapshot_request(defs, instance, {"dagster/partition": day})
        again = _snapshot_request(defs, instance, {"dagster/partition": day})
        next_day = _snapshot_request(
            defs, instance, {"dagster/partition": (settings.as_of - timedelta(days=1)).isoformat()}
        )

    assert isinstance(first, RunRequest) and first.run_key == f"snapshots-{day}"
    assert again.run_key == first.run_key
    assert next_day.run_key != first.run_key
    assert first.tags["techflow/snapshot_day"] == day


def test_a_range_run_snapshots_its_last_day_and_make_run_or_unpartitioned_runs_none(
    defs_and_settings,
):
    defs, settings = defs_and_settings
    first, last = settings.world_start.isoformat(), settings.as_of.isoformat()
    range_tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
    }
    with DagsterInstance.ephemeral() as instance:
        ranged = _snapshot_request(defs, instance, range_tags)
        by_make_run = _snapshot_request(defs, instance, {**range_tags, "techflow/run_all": "daily"})
        unpartitioned = _snapshot_request(defs, instance, {})

    assert ranged.run_key == f"snapshots-{last}"
    # make run snapshots once itself, after its daily run; a daemon watching must not add one.
    assert isinstance(by_make_run, SkipReason) and "make run" in by_make_run.skip_message
    assert isinstance(unpartitioned, SkipReason)
