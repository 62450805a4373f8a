"""The code location's `Definitions`: one `defs(...)` per domain, merged.

Each domain folder holds its assets, resources, jobs, schedules and sensors together:

- raw: the generator's tables, the world resource, the re-landed-partition sensor;
- warehouse: the dbt assets, the daily / snapshot / `make run` build jobs, the daily schedule,
  the snapshots-after-daily sensor, the dbt and warehouse-writer resources;
- exposures: dashboards and churn model, the weekly churn job and schedule, the read-only
  warehouse resource;
- alerting: freshness and run-failure/recovery alerts, the alerts resource;
- housekeeping: the dead-run releaser and the executor that makes dead runs tellable.

Shared helpers (keys, tags, partitions, run context, the dbt translator, the write lock and
publishing) are in `techflow_orchestration.lib`. Kept apart from definitions.py (which builds the
location once from the environment at import) so tests can build the same code location over a
temporary data directory and world start without importing the module-level `defs`.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetKey, AssetsDefinition, Definitions

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.alerting import definitions as alerting
from techflow_orchestration.defs.exposures import definitions as exposures
from techflow_orchestration.defs.housekeeping import definitions as housekeeping
from techflow_orchestration.defs.raw import definitions as raw
from techflow_orchestration.defs.warehouse import definitions as warehouse
from techflow_orchestration.lib.partitions import daily_partitions


def keys_with_freshness_policy(assets: Sequence[AssetsDefinition]) -> list[AssetKey]:
    return sorted(
        (spec.key for a in assets for spec in a.specs if spec.freshness_policy is not None),
        key=lambda k: k.to_user_string(),
    )


def build_definitions(settings: TechflowSettings) -> Definitions:
    partitions_def = daily_partitions(settings.world_start, settings.last_partition_day)
    warehouse_defs, warehouse_jobs = warehouse.defs(settings, partitions_def)
    asset_domains = [
        raw.defs(settings, partitions_def, warehouse_jobs.daily),
        warehouse_defs,
        exposures.defs(settings),
    ]
    assets = [a for domain in asset_domains for a in domain.assets or []]
    return Definitions.merge(
        *asset_domains,
        alerting.defs(settings, keys_with_freshness_policy(assets)),
        housekeeping.defs(),
    )
