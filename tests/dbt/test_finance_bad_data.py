"""Bad raw data stops the build, and the failing test names the model and the column to look at.

Each case writes the hand-made finance world with one defect and builds the finance marts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DbtProject
from finance_world import day, finance_tables, invoice, period, world_start, write_finance_world
from raw_fixtures import at

pytestmark = pytest.mark.slow

FINANCE_BUILD = ("build", "--select", "+path:models/marts/finance", "--indirect-selection", "cautious")


def build_with(tmp_path: Path, tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Build the finance marts over a defective world; return the failed nodes' unique_ids."""
    project = DbtProject(data_dir=write_finance_world(tmp_path, tables), world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert not invocation.success, "the build should fail on bad raw data"
    return invocation.failed_nodes()


def test_clean_world_builds(tmp_path: Path) -> None:
    """The control: the same world without a defect builds (so each failure below is the defect)."""
    project = DbtProject(data_dir=write_finance_world(tmp_path), world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert invocation.success, invocation.describe()


def test_conflicting_versions_of_a_key_fail_unique_on_the_staging_key(tmp_path: Path) -> None:
    """Two different latest rows for subscription 1 (same updated_at, 2 vs 7 seats): which one
    is true is unknowable, so staging keeps both and the unique test on the key fails."""
    tables = finance_tables()
    tables["subscriptions"].append(
        period(1, 1, "cloudsync_pro_monthly", 7, at(day(2), 9), ended=at(day(10), 12),
               reason="upgrade")  # fmt: skip
    )
    failed = build_with(tmp_path, tables)
    assert any(
        node.startswith("test.techflow.unique_stg_app_db__subscriptions_subscription_id.")
        for node in failed
    ), failed


def test_unknown_plan_fails_relationship_on_subscriptions_plan_id(tmp_path: Path) -> None:
    tables = finance_tables()
    tables["subscriptions"].append(period(8, 4, "cloudsync_platinum_monthly", 1, at(day(12), 9)))
    failed = build_with(tmp_path, tables)
    assert any(
        node.startswith("test.techflow.relationships_stg_app_db__subscriptions_plan_id__plan_id")
        for node in failed
    ), failed


def test_negative_invoice_amount_fails_the_range_test_on_amount_due(tmp_path: Path) -> None:
    tables = finance_tables()
    tables["invoices"].append(
        invoice("in_neg", "cus_1", 2, at(day(11), 10), 1, -9000, amount_paid=0, status="open")
    )
    failed = build_with(tmp_path, tables)
    assert any(
        node.startswith("test.techflow.expect_column_values_to_be_between_stg_stripe__invoices_amount_due")
        for node in failed
    ), failed
