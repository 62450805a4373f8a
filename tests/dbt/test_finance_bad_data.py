"""Bad raw data stops the build, and the failing test names the model and the column to look at."""

from __future__ import annotations

import pytest

from tests.dbt.finance_world import (
    FINANCE_BUILD,
    charge,
    day,
    finance_tables,
    invoice,
    period,
    world_start,
    write_finance_world,
)
from tests.dbt.raw_fixtures import at
from tests.support import DbtProject

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def failed_tests(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Build the finance marts over the hand-made world with four defects (each caught by a
    different test); return the unique_ids of the failed nodes. The same world without the
    defects builds cleanly (test_finance_known_truths). (A conflicting duplicate stops the build
    at the door, before these tests could run: test_conflicting_versions_... below.)"""
    tables = finance_tables()
    # A plan the catalog does not sell.
    tables["subscriptions"].append(period(8, 4, "cloudsync_platinum_monthly", 1, at(day(12), 9)))
    # A negative amount due.
    tables["invoices"].append(
        invoice("in_neg", "cus_1", 2, at(day(11), 10), 1, -9000, amount_paid=0, status="open")
    )
    # A payment attempt in pounds on a dollar invoice.
    tables["charges"].append(
        charge("ch_gbp", "in_1", "cus_1", at(day(3), 11), 4800, status="failed")
        | {"currency": "gbp"}
    )
    # A "seat change" of customer 4 that keeps plan and seats: not a valid transition.
    tables["subscriptions"] += [
        period(6, 4, "datahub_starter_monthly", 1, at(day(8), 10), ended=at(day(14), 10),
               reason="seat_change"),
        period(9, 4, "datahub_starter_monthly", 1, at(day(14), 10), previous=6),
    ]  # fmt: skip
    data_dir = write_finance_world(tmp_path_factory.mktemp("bad_finance_world"), tables)
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert not invocation.success, "the build must fail on bad raw data"
    return invocation.failed_nodes()


def failed_test_named(failed: list[str], prefix: str) -> bool:
    return any(node.startswith(f"test.techflow.{prefix}") for node in failed)


def test_conflicting_versions_of_a_key_stop_the_build_at_the_door_naming_the_key(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Two different rows for subscription 1 with one updated_at (2 vs 7 seats): which one is
    true is unknowable, so the raw guard fails, naming the key, before staging dedupes."""
    tables = finance_tables()
    tables["subscriptions"].append(
        period(
            1, 1, "cloudsync_pro_monthly", 7, at(day(2), 9), ended=at(day(10), 12), reason="upgrade"
        )
    )
    data_dir = write_finance_world(tmp_path_factory.mktemp("conflicting_world"), tables)
    invocation = DbtProject(data_dir=data_dir, world_start=world_start()).dbt(*FINANCE_BUILD)
    assert not invocation.success
    failures = invocation.failures()
    assert list(failures) == ["raw_conflicts__app_db__subscriptions"], failures
    assert (
        f"subscription_id=1, updated_at={at(day(10), 12)}: 2 different contents, landed in "
        f"date={day(10)}"
    ) in failures["raw_conflicts__app_db__subscriptions"]


def test_unknown_plan_fails_relationship_on_subscriptions_plan_id(failed_tests: list[str]) -> None:
    assert failed_test_named(
        failed_tests, "relationships_stg_app_db__subscriptions_plan_id__plan_id"
    ), failed_tests


def test_negative_invoice_amount_fails_the_range_test_on_amount_due(
    failed_tests: list[str],
) -> None:
    assert failed_test_named(
        failed_tests, "expect_column_values_to_be_between_stg_stripe__invoices_amount_due"
    ), failed_tests


def test_invalid_seat_change_fails_the_lifecycle_test(failed_tests: list[str]) -> None:
    assert failed_test_named(
        failed_tests, "assert_subscription_states_and_transitions_are_valid"
    ), failed_tests


def test_a_charge_in_another_currency_than_its_invoice_fails_the_currency_test(
    failed_tests: list[str],
) -> None:
    assert failed_test_named(failed_tests, "assert_charges_are_in_their_invoice_currency"), (
        failed_tests
    )


def test_paid_invoice_without_a_charge_fails_revenue_reconciliation(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On its own world: the defects above stop fct_revenue's parents, which skips this test."""
    tables = finance_tables()
    # An invoice marked paid that no charge ever paid: revenue no longer reconciles.
    tables["invoices"].append(invoice("in_unpaid", "cus_2", 3, at(day(16), 10), 1, 50000))
    data_dir = write_finance_world(tmp_path_factory.mktemp("unreconciled_world"), tables)
    invocation = DbtProject(data_dir=data_dir, world_start=world_start()).dbt(*FINANCE_BUILD)
    assert not invocation.success
    failed = invocation.failed_nodes()
    assert failed == [
        n for n in failed if failed_test_named([n], "assert_revenue_reconciles_with_charges")
    ]
    assert failed, "the reconciliation test must fail"


def test_nothing_else_fails(failed_tests: list[str]) -> None:
    """Each defect is caught where it enters, not by a cascade of unrelated tests."""
    allowed = (
        "relationships_stg_app_db__subscriptions_plan_id__plan_id",
        # the same defect, caught again on the versions fct_mrr_daily is built from
        "relationships_int_subscription_versions_plan_id__plan_id",
        # amount_paid 0 is now above amount_due: the same defect, caught on the same model
        "expect_column_values_to_be_between_stg_stripe__invoices_amount_",
        # ... and the negative amount due is neither max(total, 0) nor a proration credit
        "expect_expression_is_true_stg_stripe__invoices_",
        "expect_expression_is_true_stg_stripe__invoice_line_items_is_proration",
        "assert_subscription_states_and_transitions_are_valid",
        "assert_charges_are_in_their_invoice_currency",
    )
    unexpected = [n for n in failed_tests if not any(failed_test_named([n], a) for a in allowed)]
    assert unexpected == []
