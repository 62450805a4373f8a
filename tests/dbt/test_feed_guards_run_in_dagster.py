"""The raw-feed guards run on every path, Dagster's daily job included.

dagster-dbt runs a model's dbt tests as asset checks inside the model's `dbt build` step and skips
source tests. The guards (every file against the raw contract, every partition landed, no
conflicting duplicates, plausible volumes, no future event times) are therefore tests on the
staging models, and this proves each one is an asset check of the dbt op, so a failing guard fails
the step and dbt skips everything downstream of the view.
"""

from __future__ import annotations

import datetime as dt

from data_generation.schema import RAW_TABLES
from techflow_orchestration.defs.warehouse.assets import build_dbt_assets
from techflow_orchestration.lib.partitions import daily_partitions
from techflow_orchestration.project import load_manifest

# One of each per raw table, on the staging model that reads it (macros/raw_feeds.sql).
RAW_GUARDS = (
    "expect_raw_files_match_contract",
    "expect_partitions_landed_through_as_of",
    "expect_no_conflicting_duplicates",
    "expect_partition_volume_within_baseline",
)
GUARDS = (*RAW_GUARDS, "expect_no_future_timestamps")


def guard_tests() -> list[dict]:
    return [
        node
        for node in load_manifest()["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in GUARDS
    ]


def test_every_raw_table_has_each_raw_guard_on_its_staging_model() -> None:
    tables = {(table.system, table.name) for table in RAW_TABLES}
    for guard in RAW_GUARDS:
        nodes = [n for n in guard_tests() if n["test_metadata"]["name"] == guard]
        guarded = {tuple(source) for n in nodes for source in n["sources"]}
        assert guarded == tables and len(nodes) == len(tables), guard
        for node in nodes:
            assert node["attached_node"].split(".")[2].startswith("stg_"), node["name"]


def test_every_feed_guard_is_an_asset_check_of_the_dbt_op() -> None:
    dbt_op = build_dbt_assets(daily_partitions(dt.date(2025, 1, 1)))
    checks = {key.name for key in dbt_op.check_keys}
    assert {node["name"] for node in guard_tests()} - checks == set()
