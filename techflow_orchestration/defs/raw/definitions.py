"""The raw domain: the generator's tables as daily-partitioned assets, the world they are drawn
from, and the sensor that rebuilds what depends on a raw partition landed again."""

from __future__ import annotations

from typing import Any

from dagster import DailyPartitionsDefinition, Definitions

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.raw.assets import build_raw_assets
from techflow_orchestration.defs.raw.relanded import build_relanded_sensor
from techflow_orchestration.lib.resources import world_resource


def defs(
    settings: TechflowSettings, partitions_def: DailyPartitionsDefinition, daily_job: Any
) -> Definitions:
    """`daily_job`: the warehouse's daily job, which a re-landed partition re-runs from its day."""
    return Definitions(
        assets=[build_raw_assets(partitions_def)],
        sensors=[
            build_relanded_sensor(daily_job, settings.raw_dir, partitions_def.get_partition_keys)
        ],
        resources={"world": world_resource(settings)},
    )
