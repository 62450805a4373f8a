"""The warehouse domain: the dbt project as assets, the jobs that build it (daily, weekly, `make
run`'s build, snapshots), their schedules, and the sensor that snapshots after each daily
partition."""

from __future__ import annotations

from dagster import DailyPartitionsDefinition, Definitions

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.warehouse.assets import build_dbt_assets
from techflow_orchestration.defs.warehouse.cadence import build_weekly_job, build_weekly_schedule
from techflow_orchestration.defs.warehouse.jobs import TechflowJobs, build_jobs
from techflow_orchestration.defs.warehouse.schedules import build_daily_schedule
from techflow_orchestration.defs.warehouse.sensors import build_snapshots_after_daily_sensor
from techflow_orchestration.lib.resources import dbt_resource, warehouse_writer_resource


def defs(
    settings: TechflowSettings, partitions_def: DailyPartitionsDefinition
) -> tuple[Definitions, TechflowJobs]:
    """The domain's definitions, and its jobs for the domains that request their runs."""
    dbt_warehouse = build_dbt_assets(partitions_def)
    jobs = build_jobs(dbt_warehouse)
    weekly = build_weekly_job(dbt_warehouse)
    return (
        Definitions(
            assets=[dbt_warehouse],
            jobs=[jobs.daily, jobs.snapshots, jobs.build, weekly],
            schedules=[
                build_daily_schedule(jobs.daily, partitions_def),
                build_weekly_schedule(weekly),
            ],
            sensors=[build_snapshots_after_daily_sensor(jobs.daily, jobs.snapshots)],
            resources={
                "dbt": dbt_resource(),
                "warehouse_writer": warehouse_writer_resource(settings),
            },
        ),
        jobs,
    )
