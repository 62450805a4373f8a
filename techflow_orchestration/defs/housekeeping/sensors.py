"""`release_dead_runs` (every minute under `make dev`): a run whose process is gone (kill -9, OOM)
is marked failed and its `duckdb` pool slot freed at once, instead of after the instance's
max_runtime_seconds (the default run launcher cannot check a run worker's health). The same check
`make run` makes before it plans (dead_runs.py). A run it cannot judge from this machine (another
host, no recorded process) is alerted once, with what to do.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from techflow_orchestration.defs.housekeeping.dead_runs import release_dead_runs, stuck_run_alert
from techflow_orchestration.lib.resources import AlertsResource

DEAD_RUN_SENSOR_INTERVAL_SECONDS = 60


@sensor(
    name="release_dead_runs",
    minimum_interval_seconds=DEAD_RUN_SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Fails runs whose process is gone (kill -9, OOM) and frees their pool slots.",
)
def release_dead_runs_sensor(
    context: SensorEvaluationContext, alerts: AlertsResource
) -> SkipReason:
    sink = alerts.sink()
    report = release_dead_runs(context.instance, context.log.warning, sink)
    for run in report.blocking:  # once per run: the sink deduplicates by run id
        sink.emit(stuck_run_alert(run), context.log)
    parts = [
        f"{len(report.released)} dead run(s) marked failed, pool slots freed"
        if report.released
        else "no dead runs"
    ]
    if report.unjudged:
        parts.append(
            f"{len(report.unjudged)} run(s) that cannot be checked from this machine: "
            + ", ".join(run.run_id for run in report.unjudged)
        )
    return SkipReason("; ".join(parts))
