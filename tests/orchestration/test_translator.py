"""The translator, on hand-written dbt resource props: keys, groups, owners, freshness."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dagster import AssetKey

from techflow_orchestration.defs.warehouse.assets import build_dbt_assets
from techflow_orchestration.lib.partitions import daily_partitions
from techflow_orchestration.lib.translator import (
    TechflowDbtTranslator,
    UnknownRawSourceError,
    freshness_policy_from_meta,
)
from techflow_orchestration.project import load_manifest

T = TechflowDbtTranslator()


def model(fqn: list[str], meta: dict | None = None) -> dict:
    return {
        "resource_type": "model",
        "name": fqn[-1],
        "fqn": fqn,
        "config": {"meta": meta or {}, "tags": []},
        "tags": [],
        "meta": meta or {},
    }


def test_a_source_resolves_to_the_raw_asset_of_the_same_system_and_table():
    source = {"resource_type": "source", "source_name": "stripe", "name": "invoices"}
    assert T.get_asset_key(source) == AssetKey(["raw", "stripe", "invoices"])


def test_a_source_the_generator_does_not_write_is_rejected_with_a_fix():
    source = {
        "resource_type": "source",
        "source_name": "stripe",
        "name": "payouts",
        "original_file_path": "models/staging/stripe/_stripe__sources.yml",
    }
    with pytest.raises(UnknownRawSourceError, match=r"stripe\.payouts.*_stripe__sources\.yml"):
        T.get_asset_key(source)


@pytest.mark.parametrize(
    ("fqn", "group"),
    [
        (["techflow", "staging", "stripe", "stg_stripe__invoices"], "staging"),
        (["techflow", "intermediate", "finance", "int_subscription_periods"], "intermediate"),
        (["techflow", "marts", "finance", "fct_mrr_daily"], "finance"),
        (["techflow", "marts", "marketing", "dim_campaigns"], "marketing"),
    ],
)
def test_groups_follow_the_dbt_folders(fqn, group):
    assert T.get_group_name(model(fqn)) == group


def test_owners_come_from_meta_or_the_dbt_group():
    finance_group = {"name": "finance", "owner": {"email": "finance-analytics@techflow.example"}}
    finance = {**model(["techflow", "marts", "finance", "fct_mrr_daily"]), "group": finance_group}
    seed = {**model(["techflow", "plan_catalog"]), "resource_type": "seed", "group": None}
    explicit = model(["techflow", "marts", "product", "dim_users"], meta={"owner": "growth"})
    assert T.get_owners(finance) == ["finance-analytics@techflow.example"]
    assert T.get_owners(seed) == ["team:data-platform"]
    assert T.get_owners(explicit) == ["team:growth"]


def test_every_model_is_owned_through_its_dbt_group(prepared_manifest):
    """The real manifest: each model's Dagster owner is its dbt group's owner (_groups.yml)."""
    manifest = load_manifest()
    email = {group["name"]: group["owner"]["email"] for group in manifest["groups"].values()}
    dbt_op = build_dbt_assets(daily_partitions(date(2025, 1, 1)))
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral":
            key = T.get_asset_key(node)
            assert dbt_op.specs_by_key[key].owners == [email[node["group"]]], node["name"]


def test_freshness_meta_becomes_a_time_window_policy():
    policy = freshness_policy_from_meta(
        {"dagster": {"freshness": {"fail_window_hours": 26, "warn_window_hours": 24}}}, "x"
    )
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)
    assert policy.warn_window.to_timedelta() == timedelta(hours=24)
    assert freshness_policy_from_meta({}, "x") is None


def test_malformed_freshness_meta_names_the_model_and_the_expected_shape():
    with pytest.raises(ValueError, match=r"dbt model\.techflow\.fct_x.*fail_window_hours"):
        freshness_policy_from_meta(
            {"dagster": {"freshness": {"fail_after": "1d"}}}, "dbt model.techflow.fct_x"
        )
