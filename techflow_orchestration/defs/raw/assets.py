"""Raw assets: one per raw table, keyed ["raw", system, table], daily-partitioned.

A single subsettable multi-asset drives them because the generator simulates the whole world at
once: writing every raw table for a day costs one simulation, not one per table. A run
materializes any subset of tables for any partition range; `BackfillPolicy.single_run()` makes a
backfill of N days one run and one `generate_range` call. The generator is called in-process (no
subprocess) and only writes Parquet, so these assets need no pool: they run alongside the DuckDB
writers.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

from collections import defaultdict
from collections.abc import Iterator

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    BackfillPolicy,
    DailyPartitionsDefinition,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from data_generation import generate_range
from techflow_orchestration.defs.raw.relanded import LANDED_MTIME, fingerprint
from techflow_orchestration.lib.keys import RAW_ASSET_KEYS, RAW_GROUP, raw_asset_key
from techflow_orchestration.lib.partitions import partition_days
from techflow_orchestration.lib.resources import WorldResource


def build_raw_assets(partitions_def: DailyPartitionsDefinition) -> AssetsDefinition:
    specs = [
        AssetSpec(
            key=key,
            group_name=RAW_GROUP,
            description=(
                f"{table.system}.{table.name} as landed by the extract: one Parquet file per day "
                f"under raw/{table.system}/{table.name}/date=YYYY-MM-DD/. "
                + ("Changed rows by updated_at." if table.mutable else "The day's events.")
            ),
            kinds={"parquet", "polars"},
            owners=["team:data-platform"],
            tags={"layer": "raw", "system": table.system},
            metadata={"primary_key": MetadataValue.text(", ".join(table.primary_key))},
        )
        for key, table in RAW_ASSET_KEYS.items()
    ]

    @multi_asset(
        name="raw_world",
        specs=specs,
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=True,
    )
    def raw_world(
        context: AssetExecutionContext, world: WorldResource
    ) -> Iterator[MaterializeResult]:
        first, last = partition_days(context)
        tables = [RAW_ASSET_KEYS[key].name for key in context.selected_asset_keys]
        context.log.info(
            f"generating {len(tables)} raw table(s) for {first}..{last} "
            f"({(last - first).days + 1} day(s))"
        )
        results = generate_range(world.world_config(), first, last, tables=tables)

        by_key = defaultdict(list)
        for result in results:
            by_key[raw_asset_key(result.system, result.table)].append(result)
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
            days = by_key.get(key, [])
            if not days:
                raise RuntimeError(
                    f"The generator wrote no files for {key.to_user_string()} in {first}..{last}; "
                    "expected one per day. Check data_generation's RAW_TABLES and its output dir."
                )
            # A single-run backfill records one materialization per day with the same metadata,
            # so for a range the figures are the run's totals and `path` is the table's folder;
            # `days` says which one the reader is looking at. One day records its file's content
            # hash as the partition's data version, which the relanded_raw_partitions sensor
            # compares a re-delivered file with (a range cannot: one version for every day).
            # `landed_mtime` (the newest written file's modification time) tells the sensor which
            # files this run wrote: anything newer came from outside.
            table_dir = days[0].path.parent.parent
            yield MaterializeResult(
                asset_key=key,
                data_version=DataVersion(fingerprint(days[0].path)) if len(days) == 1 else None,
                metadata={
                    "rows": MetadataValue.int(sum(r.rows for r in days)),
                    "bytes": MetadataValue.int(sum(r.bytes for r in days)),
                    "path": MetadataValue.path(str(days[0].path if len(days) == 1 else table_dir)),
                    LANDED_MTIME: MetadataValue.timestamp(
                        max(result.path.stat().st_mtime for result in days)
                    ),
                    "days": MetadataValue.text(
                        str(first) if first == last else f"{first}..{last} ({len(days)} days)"
                    ),
                },
            )

    return raw_world
