"""The dbt project's foundation: macros, schema routing, test inventory, the MRR waterfall."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support import DbtProject

pytestmark = pytest.mark.slow

EXPECTATION_TESTS = {
    "expect_column_values_to_be_between",
    "expect_table_row_count_to_be_between",
    "expect_compound_columns_to_be_unique",
    "expect_recent_data",
}
FINANCE_MODELS = {
    "stg_app_db__users",
    "stg_app_db__subscription_versions",
    "stg_app_db__subscriptions",
    "stg_app_db__usage_events",
    "stg_stripe__customers",
    "stg_stripe__invoices",
    "stg_stripe__charges",
    "int_subscription_periods",
    "int_daily_mrr_changes",
    "int_subscription_events",
    "dim_customers",
    "dim_subscriptions",
    "fct_mrr_daily",
    "fct_revenue",
    "fct_subscription_events",
}


def manifest(project: DbtProject) -> dict[str, Any]:
    path = project.data_dir / "dbt_run" / "target" / "manifest.json"
    return json.loads(path.read_text())


def show(project: DbtProject, sql: str) -> list[dict[str, Any]]:
    """Run an inline query through dbt (so macros render) and return its rows."""
    invocation = project.dbt("show", "--inline", sql, "--limit", "100")
    assert invocation.success, invocation.describe()
    table = invocation.results[0].agate_table
    return [dict(zip(table.column_names, row, strict=True)) for row in table.rows]


def test_surrogate_key_is_null_safe_and_separates_fields(built_warehouse: DbtProject) -> None:
    (row,) = show(
        built_warehouse,
        """
        select
            {{ generate_surrogate_key(['1', 'null']) }} as one_null,
            {{ generate_surrogate_key(['null', '1']) }} as null_one,
            {{ generate_surrogate_key(['null', 'null']) }} as null_null,
            {{ generate_surrogate_key(["'ab'", "'c'"]) }} as ab_c,
            {{ generate_surrogate_key(["'a'", "'bc'"]) }} as a_bc,
            {{ generate_surrogate_key(['1', 'null']) }} as one_null_again
        """,
    )
    assert None not in row.values()
    assert row["one_null"] != row["null_one"]
    assert row["ab_c"] != row["a_bc"]
    assert row["one_null"] == row["one_null_again"], "the key must be deterministic"


def test_date_spine_is_inclusive_gap_free_and_returns_dates(built_warehouse: DbtProject) -> None:
    rows = show(
        built_warehouse,
        """
        select cast(date_day as varchar) as day, typeof(date_day) as type
        from (
            {{ date_spine_days("cast('2024-02-27' as date)", "cast('2024-03-01' as date)") }}
        ) as s
        order by date_day
        """,
    )
    assert [r["day"] for r in rows] == ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]
    assert {r["type"] for r in rows} == {"DATE"}


def test_cents_to_dollars_is_exact(built_warehouse: DbtProject) -> None:
    (row,) = show(
        built_warehouse,
        "select cast({{ cents_to_dollars('123456789') }} as varchar) as big,"
        " cast({{ cents_to_dollars('-5') }} as varchar) as small,"
        " {{ cents_to_dollars('null') }} is null as null_stays_null",
    )
    assert row == {"big": "1234567.89", "small": "-0.05", "null_stays_null": True}


def test_prod_schemas_are_unprefixed_and_dev_schemas_are_prefixed(tmp_path: Path) -> None:
    """`published` (the read-only target docs read) names the relations `prod` builds."""
    schemas: dict[str, dict[str, str]] = {}
    for target in ("prod", "published", "dev"):
        project = DbtProject(data_dir=tmp_path / target, target=target)
        invocation = project.dbt("parse")
        assert invocation.success, invocation.describe()
        nodes = manifest(project)["nodes"].values()
        schemas[target] = {n["name"]: n["schema"] for n in nodes if n["resource_type"] != "test"}
    assert schemas["prod"]["fct_mrr_daily"] == "finance"
    assert schemas["prod"]["stg_stripe__invoices"] == "staging"
    assert schemas["prod"]["snap_app_db__subscriptions"] == "snapshots"
    assert schemas["published"] == schemas["prod"]
    assert schemas["dev"]["fct_mrr_daily"] == "dev_finance"
    assert schemas["dev"]["stg_stripe__invoices"] == "dev_staging"
    assert schemas["dev"]["snap_app_db__subscriptions"] == "dev_snapshots"


def test_test_inventory_meets_the_bar(built_warehouse: DbtProject) -> None:
    """At least 80 generic tests, every expectation test in use, the 3 singular tests, unit
    tests for the MRR rules, and 4 snapshots."""
    nodes = manifest(built_warehouse)["nodes"].values()
    tests = [n for n in nodes if n["resource_type"] == "test"]
    generic = [n for n in tests if n.get("test_metadata")]
    used = {n["test_metadata"]["name"] for n in generic}
    singular = {n["name"] for n in tests if not n.get("test_metadata")}
    unit_tests = manifest(built_warehouse)["unit_tests"].values()
    snapshots = {n["name"] for n in nodes if n["resource_type"] == "snapshot"}

    assert len(generic) >= 80
    assert used >= EXPECTATION_TESTS | {"unique", "not_null", "relationships", "accepted_values"}
    assert singular >= {
        "assert_mrr_is_never_negative",
        "assert_subscription_states_and_transitions_are_valid",
        "assert_revenue_reconciles_with_charges",
    }
    assert {u["model"] for u in unit_tests} >= {"dim_subscriptions", "fct_mrr_daily"}
    assert snapshots == {
        "snap_app_db__subscriptions",
        "snap_app_db__users",
        "snap_salesforce__accounts",
        "snap_salesforce__opportunities",
    }


def test_finance_models_are_documented_and_keyed(built_warehouse: DbtProject) -> None:
    """Every finance model and column has a description; every table/view's primary key is
    tested unique and not null (ephemeral models are tested through the marts)."""
    data = manifest(built_warehouse)
    models = {n["name"]: n for n in data["nodes"].values() if n["resource_type"] == "model"}
    assert set(models) >= FINANCE_MODELS
    undocumented = [
        f"{name}.{column}"
        for name in FINANCE_MODELS
        for column, spec in models[name]["columns"].items()
        if not spec.get("description")
    ] + [name for name in FINANCE_MODELS if not models[name]["description"]]
    assert undocumented == []

    tested: dict[str, set[str]] = {}
    for node in data["nodes"].values():
        meta = node.get("test_metadata") or {}
        if meta.get("name") in {"unique", "not_null"} and node.get("attached_node"):
            tested.setdefault(node["attached_node"], set()).add(meta["name"])
    for name in FINANCE_MODELS - {
        "int_subscription_periods",
        "int_daily_mrr_changes",
        "int_subscription_events",
        "stg_app_db__subscription_versions",
    }:
        assert tested.get(f"model.techflow.{name}") == {"unique", "not_null"}, name


def test_mrr_waterfall_analysis_ties_out(built_warehouse: DbtProject) -> None:
    """opening + new + reactivation + expansion - contraction - churn == closing, every month."""
    invocation = built_warehouse.dbt("compile", "--select", "monthly_mrr_waterfall")
    assert invocation.success, invocation.describe()
    compiled = next(
        (built_warehouse.data_dir / "dbt_run" / "target" / "compiled").rglob(
            "monthly_mrr_waterfall.sql"
        )
    )
    rows = built_warehouse.query(compiled.read_text())
    assert rows, "the waterfall should have at least one month"
    assert {row[-1] for row in rows} == {Decimal("0.00")}


def test_dagster_freshness_policy_is_on_every_mart(built_warehouse: DbtProject) -> None:
    """Dagster reads meta.dagster.freshness from each mart's config (set once in dbt_project.yml):
    a day for the daily marts, eight days (failed after nine) for those on the weekly cadence
    (tag weekly); staging and intermediate models carry none."""
    weekly = set()
    for node in manifest(built_warehouse)["nodes"].values():
        if node["resource_type"] != "model":
            continue
        policy = node["config"].get("meta", {}).get("dagster", {}).get("freshness")
        if node["fqn"][1] != "marts":
            assert policy is None, node["name"]
        elif "weekly" in node["config"]["tags"]:
            weekly.add(node["name"])
            assert policy == {"warn_window_hours": 192, "fail_window_hours": 216}, node["name"]
        else:
            assert policy == {"warn_window_hours": 24, "fail_window_hours": 26}, node["name"]
    assert {"fct_churn_signals", "fct_customer_retention_monthly"} <= weekly
