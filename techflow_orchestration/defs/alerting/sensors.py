"""Sensors that turn bad news into alerts: stale assets and failed runs, each told once.

- `freshness_alerts` reads the instance's freshness state (evaluated by the daemon from the
  assets' FreshnessPolicy) for every asset that has a policy. Its cursor remembers which assets it
  has already reported as failing, so a stale asset yields one alert, and one recovery note when it
  is fresh again — not one per tick.
- `run_failure_alerts` reports each failed run once (Dagster's run-status cursor guarantees it),
  and `run_recovery_alerts` reports the first success of a job whose previous run failed.

Run failures are alerted with a dedupe key (the run id), so a failure `make run` or the dead-run
releaser already told is not told again here.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunsFilter,
    RunStatusSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    run_status_sensor,
    sensor,
)

from techflow_orchestration.alerts import (
    Alert,
    AlertKind,
    AlertStatus,
    run_failure_alert,
    run_recovery_alert,
)
from techflow_orchestration.lib.resources import AlertsResource
from techflow_orchestration.lib.tags import first_partition

FRESHNESS_SENSOR_INTERVAL_SECONDS = 60
# Freshness states as the instance stores them (a str enum that dagster does not export).
FAIL = "FAIL"
UNKNOWN = "UNKNOWN"
# States that end a failure. WARN is still within the fail window, so it counts as recovered.
HEALTHY_STATES = frozenset({"PASS", "WARN"})


@dataclass(frozen=True)
class FreshnessTransitions:
    alerts: list[Alert]
    failing: frozenset[str]


def freshness_transitions(
    states: Mapping[AssetKey, str], previously_failing: Iterable[str]
) -> FreshnessTransitions:
    """Compare the current states with what was already reported; pure, so it is easy to test.

    UNKNOWN (never materialized, or no evaluation yet) neither starts nor ends a failure.
    """
    failing = set(previously_failing)
    alerts: list[Alert] = []
    for key, raw_state in sorted(states.items(), key=lambda item: item[0].to_user_string()):
        name = key.to_user_string()
        state = str(getattr(raw_state, "value", raw_state))
        if state == FAIL and name not in failing:
            failing.add(name)
            alerts.append(
                Alert(
                    kind=AlertKind.FRESHNESS,
                    status=AlertStatus.FAILING,
                    subject=name,
                    message="stale: not materialized within its freshness policy's fail window",
                    details={"freshness_state": state},
                )
            )
        elif state in HEALTHY_STATES and name in failing:
            failing.discard(name)
            alerts.append(
                Alert(
                    kind=AlertKind.FRESHNESS,
                    status=AlertStatus.RECOVERED,
                    subject=name,
                    message="fresh again",
                    details={"freshness_state": state},
                )
            )
    return FreshnessTransitions(alerts=alerts, failing=frozenset(failing))


def _load_cursor(cursor: str | None) -> list[str]:
    return json.loads(cursor)["failing"] if cursor else []


def build_freshness_alert_sensor(keys_with_policy: Sequence[AssetKey]) -> SensorDefinition:
    @sensor(
        name="freshness_alerts",
        minimum_interval_seconds=FRESHNESS_SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description="Alerts once when an asset fails its freshness policy, once when it recovers.",
    )
    def freshness_alerts(context: SensorEvaluationContext, alerts: AlertsResource) -> SkipReason:
        records = context.instance.get_freshness_state_records(list(keys_with_policy))
        states = {
            key: records[key].freshness_state if key in records else UNKNOWN
            for key in keys_with_policy
        }
        result = freshness_transitions(states, _load_cursor(context.cursor))
        sink = alerts.sink()
        for alert in result.alerts:
            sink.emit(alert, context.log)
        context.update_cursor(json.dumps({"failing": sorted(result.failing)}))
        return SkipReason(
            f"{len(result.alerts)} alert(s); {len(result.failing)} of "
            f"{len(keys_with_policy)} asset(s) with a freshness policy failing"
        )

    return freshness_alerts


@run_failure_sensor(
    name="run_failure_alerts",
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts once for every failed run in this code location.",
)
def run_failure_alerts(context: RunFailureSensorContext, alerts: AlertsResource) -> None:
    run = context.dagster_run
    alerts.sink().emit(
        run_failure_alert(
            run.job_name,
            run.run_id,
            context.failure_event.message or "run failed",
            first_partition(run.tags),
        ),
        context.log,
    )


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    name="run_recovery_alerts",
    default_status=DefaultSensorStatus.RUNNING,
    description="Notes once when a job succeeds after its previous run failed.",
)
def run_recovery_alerts(context: RunStatusSensorContext, alerts: AlertsResource) -> None:
    alert = recovery_alert(context.instance, context.dagster_run)
    if alert is not None:
        alerts.sink().emit(alert, context.log)


def recovery_alert(instance: DagsterInstance, run: DagsterRun) -> Alert | None:
    """The recovery note for a successful run whose job's previous finished run failed."""
    previous = instance.get_runs(
        filters=RunsFilter(
            job_name=run.job_name,
            statuses=[DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE],
            created_before=instance.get_run_record_by_id(run.run_id).create_timestamp,
        ),
        limit=1,
    )
    if previous and previous[0].status is DagsterRunStatus.FAILURE:
        return run_recovery_alert(run.job_name, run.run_id, previous[0].run_id)
    return None
