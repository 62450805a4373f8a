"""The alerting domain: stale assets and failed runs told once, to the log, the alerts file and
the webhook (the `alerts` resource)."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetKey, Definitions

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.alerting.sensors import (
    build_freshness_alert_sensor,
    run_failure_alerts,
    run_recovery_alerts,
)
from techflow_orchestration.lib.resources import alerts_resource


def defs(settings: TechflowSettings, keys_with_policy: Sequence[AssetKey]) -> Definitions:
    """`keys_with_policy`: the assets with a freshness policy, from the other domains."""
    return Definitions(
        sensors=[
            build_freshness_alert_sensor(keys_with_policy),
            run_failure_alerts,
            run_recovery_alerts,
        ],
        resources={"alerts": alerts_resource(settings)},
    )
