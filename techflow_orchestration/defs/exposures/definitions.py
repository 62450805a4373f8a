"""The exposures domain: the dashboards and the churn model as assets downstream of the marts
they read, the read-only warehouse they read it through, and the weekly churn job."""

from __future__ import annotations

from dagster import Definitions

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.exposures.assets import build_exposure_assets
from techflow_orchestration.defs.exposures.jobs import build_churn_job, build_churn_schedule
from techflow_orchestration.lib.resources import warehouse_resource


def defs(settings: TechflowSettings) -> Definitions:
    churn_job = build_churn_job()
    return Definitions(
        assets=build_exposure_assets(),
        jobs=[churn_job],
        schedules=[build_churn_schedule(churn_job)],
        resources={"warehouse": warehouse_resource(settings)},
    )
