"""Builds the code location's `Definitions` for given settings.

Kept apart from definitions.py (which builds it once from the environment at import) so tests can
build the same code location over a temporary data directory and world start without importing
the module-level `defs`.
"""

from __future__ import annotations

from dagster import AssetKey, AssetsDefinition, Definitions

from techflow_orchestration.assets.dbt import build_dbt_assets
from techflow_orchestration.assets.exposures import build_exposure_assets
from techflow_orchestration.assets.raw import build_raw_assets
from techflow_orchestration.cadence import build_weekly_job, build_weekly_schedule
from techflow_orchestration.jobs import build_jobs
from techflow_orchestration.partitions import daily_partitions
from techflow_orchestration.relanded import build_relanded_sensor
from techflow_orchestration.resources import (
    alerts_resource,
    dbt_resource,
    warehouse_resource,
    warehouse_writer_resource,
    world_resource,
)
from techflow_orchestration.run_process import identified_in_process_executor
from techflow_orchestration.schedules import build_churn_schedule, build_daily_schedule
from techflow_orchestration.sensors import (
    build_freshness_alert_sensor,
    build_snapshots_after_daily_sensor,
    release_dead_runs_sensor,
    run_failure_alerts,
    run_recovery_alerts,
)
from techflow_orchestration.settings import TechflowSettings


def keys_with_freshness_policy(assets: list[AssetsDefinition]) -> list[AssetKey]:
    return sorted(
        (spec.key for a in assets for spec in a.specs if spec.freshness_policy is not None),
        key=lambda k: k.to_user_string(),
    )


def build_definitions(settings: TechflowSettings) -> Definitions:
    partitions_def = daily_partitions(settings.world_start, settings.last_partition_day)
    raw_world = build_raw_assets(partitions_def)
    dbt_warehouse = build_dbt_assets(partitions_def)
    assets = [raw_world, dbt_warehouse, *build_exposure_assets()]
    jobs = build_jobs(raw_world, dbt_warehouse)
    weekly_job = build_weekly_job(dbt_warehouse)
    return Definitions(
        assets=assets,
        jobs=[jobs.daily, jobs.snapshots, jobs.churn, jobs.build, weekly_job],
        schedules=[
            build_daily_schedule(jobs.daily, partitions_def),
            build_churn_schedule(jobs.churn),
            build_weekly_schedule(weekly_job),
        ],
        sensors=[
            build_freshness_alert_sensor(keys_with_freshness_policy(assets)),
            run_failure_alerts,
            run_recovery_alerts,
            build_snapshots_after_daily_sensor(jobs.daily, jobs.snapshots),
            release_dead_runs_sensor,
            build_relanded_sensor(jobs.daily, settings.raw_dir, partitions_def.get_partition_keys),
        ],
        # Every job runs its steps in the run's own process. The steps form one chain (raw ->
        # dbt -> the exposures) serialized by the single-slot `duckdb` pool anyway, and the
        # multiprocess default would start a subprocess per step that imports this code location
        # again (seconds each, far more on a loaded machine) for no parallelism. Dagster's
        # in-process executor, which also tags each run with the process executing it
        # (run_process.py: how dead runs are told).
        executor=identified_in_process_executor,
        resources={
            "dbt": dbt_resource(),
            "warehouse": warehouse_resource(settings),
            "warehouse_writer": warehouse_writer_resource(settings),
            "world": world_resource(settings),
            "alerts": alerts_resource(settings),
        },
    )
