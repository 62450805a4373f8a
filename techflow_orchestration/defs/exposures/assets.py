"""The dbt exposures as Dagster assets: the two dashboards and the churn model.

Each takes its name, description, owner and dependencies from its exposure in the dbt manifest
(manifest.py). Heavy libraries (MetricFlow, plotly, scikit-learn) are imported inside the asset
bodies, never at code-location load.
"""

from __future__ import annotations

from dagster import AssetsDefinition

from techflow_orchestration.defs.exposures.churn import build_churn_asset
from techflow_orchestration.defs.exposures.dashboards import build_dashboard_assets


def build_exposure_assets() -> list[AssetsDefinition]:
    return [*build_dashboard_assets(), build_churn_asset()]
