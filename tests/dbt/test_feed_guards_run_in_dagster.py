"""The raw-feed guards run on every path, Dagster's daily job included.

dagster-dbt runs a model's dbt tests as asset checks inside the model's `dbt build` step and skips
source tests. The guards (every feed landed through the as-of day, no future event times) are
therefore tests on the staging models, and this proves each one is an asset check of the dbt op,
so a failing guard fails the step and dbt skips everything downstream of the view.
"""

from __future__ import annotations

import datetime as dt

from data_generation.schema import RAW_TABLES
from techflow_orchestration.assets.dbt import build_dbt_assets
from techflow_orchestration.partitions import daily_partitions
from techflow_orchestration.project import load_manifest

GUARDS = ("expect_partitions_landed_through_as_of", "expect_no_future_timestamps")


def guard_tests() -> set[str]:
    return {
        node["name"]
        for node in load_manifest()["nodes"].values()
        if node["resource_type"] == "test"
        and (node.get("test_metadata") or {}).get("name") in GUARDS
    }


def test_every_feed_guard_is_an_asset_check_of_the_dbt_op() -> None:
    dbt_op = build_dbt_assets(daily_partitions(dt.date(2025, 1, 1)))
    checks = {key.name for key in dbt_op.check_keys}
    guards = guard_tests()
    landed = {name for name in guards if name.startswith(GUARDS[0])}
    # One landed check per raw table (every daily-partitioned feed), each on its staging model.
    assert len(landed) == len(RAW_TABLES), sorted(landed)
    assert guards - checks == set()
