"""The finance marts on a hand-made world whose answers are known by hand (see finance_world)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.dbt.finance_world import FINANCE_BUILD, day, world_start, write_finance_world
from tests.support import DbtProject

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    data_dir = write_finance_world(tmp_path_factory.mktemp("finance_world"))
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert invocation.success, invocation.describe()
    yield project


def mrr_on(project: DbtProject, offset: int) -> dict[tuple[int, str], tuple[Decimal, str]]:
    rows = project.query(
        "select customer_id, product, mrr, movement from finance.fct_mrr_daily where date_day = ?",
        [day(offset)],
    )
    return {(customer, product): (mrr, movement) for customer, product, mrr, movement in rows}


def test_monthly_plan_mrr_is_price_times_seats(finance: DbtProject) -> None:
    assert mrr_on(finance, 2)[(1, "cloudsync")] == (Decimal("48.00"), "new")
    assert mrr_on(finance, 9)[(1, "cloudsync")] == (Decimal("48.00"), "unchanged")


def test_upgrade_is_expansion_and_churn_drops_to_zero(finance: DbtProject) -> None:
    assert mrr_on(finance, 10)[(1, "cloudsync")] == (Decimal("90.00"), "expansion")
    assert mrr_on(finance, 20)[(1, "cloudsync")] == (Decimal("0.00"), "churn")
    assert (1, "cloudsync") not in mrr_on(finance, 21), "no rows after the churn day"


def test_annual_plan_counts_one_twelfth_from_the_trial_end(finance: DbtProject) -> None:
    assert (2, "teamchat") not in mrr_on(finance, 14), "trial days never count"
    assert mrr_on(finance, 15)[(2, "teamchat")] == (Decimal("60.00"), "new")


def test_trial_canceled_before_converting_never_counts(finance: DbtProject) -> None:
    rows = finance.query("select count(*) from finance.fct_mrr_daily where customer_id = 3")
    assert rows == [(0,)]


def test_return_after_churn_is_reactivation(finance: DbtProject) -> None:
    assert mrr_on(finance, 5)[(4, "datahub")] == (Decimal("0.00"), "churn")
    assert (4, "datahub") not in mrr_on(finance, 6)
    assert mrr_on(finance, 8)[(4, "datahub")] == (Decimal("30.00"), "reactivation")


def test_company_mrr_on_the_last_day(finance: DbtProject) -> None:
    """Yesterday: customer 2's annual teamchat (60) + customer 4's datahub (30)."""
    rows = finance.query(
        "select sum(mrr), sum(arr) from finance.fct_mrr_daily"
        " where date_day = (select max(date_day) from finance.fct_mrr_daily)"
    )
    assert rows == [(Decimal("90.00"), Decimal("1080.00"))]


def test_qa_accounts_are_never_customers(finance: DbtProject) -> None:
    for table in ("fct_mrr_daily", "dim_customers", "dim_subscriptions", "fct_revenue"):
        rows = finance.query(f"select count(*) from finance.{table} where customer_id = 5")
        assert rows == [(0,)], f"QA account leaked into {table}"


def test_dim_customers_has_everyone_who_ever_subscribed(finance: DbtProject) -> None:
    rows = finance.query(
        "select customer_id, country_code, first_paid_at is not null, current_mrr, is_paying,"
        " lifetime_net_revenue from finance.dim_customers order by customer_id"
    )
    assert rows == [
        (1, "US", True, Decimal("0.00"), False, Decimal("38.00")),
        (2, "AT", True, Decimal("60.00"), True, Decimal("720.00")),  # latest version: moved
        (3, "US", False, Decimal("0.00"), False, Decimal("0.00")),  # trial only
        (4, "GB", True, Decimal("30.00"), True, Decimal("0.00")),
    ]


def test_revenue_rolls_up_charges_per_invoice(finance: DbtProject) -> None:
    rows = finance.query(
        "select invoice_id, customer_id, product, amount_paid, amount_collected, amount_refunded,"
        " net_collected, charge_attempts, failed_attempts from finance.fct_revenue order by 1"
    )
    assert rows == [
        (
            "in_1",
            1,
            "cloudsync",
            Decimal("48.00"),
            Decimal("48.00"),
            Decimal("10.00"),
            Decimal("38.00"),
            1,
            0,
        ),
        (
            "in_2",
            2,
            "teamchat",
            Decimal("720.00"),
            Decimal("720.00"),
            Decimal("0.00"),
            Decimal("720.00"),
            2,
            1,
        ),
    ]


def test_subscription_events_tell_the_lifecycle(finance: DbtProject) -> None:
    rows = finance.query(
        "select subscription_id, event_type from finance.fct_subscription_events order by 1, 2"
    )
    assert rows == [
        (1, "subscribed"),
        (1, "upgrade"),
        (2, "churn"),
        (3, "trial_converted"),
        (3, "trial_started"),
        (4, "trial_canceled"),
        (4, "trial_started"),
        (5, "churn"),
        (5, "subscribed"),
        (6, "reactivated"),
    ]


def test_dim_subscriptions_mrr_and_replacement_chain(finance: DbtProject) -> None:
    rows = finance.query(
        "select subscription_id, previous_subscription_id, mrr, arr, is_currently_paying"
        " from finance.dim_subscriptions order by 1"
    )
    assert rows == [
        (1, None, Decimal("48.00"), Decimal("576.00"), False),
        (2, 1, Decimal("90.00"), Decimal("1080.00"), False),
        (3, None, Decimal("60.00"), Decimal("720.00"), True),
        (4, None, Decimal("75.00"), Decimal("900.00"), False),  # datahub pro: 7500 cents x 1 seat
        (5, None, Decimal("30.00"), Decimal("360.00"), False),
        (6, None, Decimal("30.00"), Decimal("360.00"), True),
    ]


def test_trials_end_converted_or_canceled_by_the_mrr_date_rule(finance: DbtProject) -> None:
    """Customer 2's annual trial reached its paid start (S+15); customer 3's was cancelled on S+9,
    before its trial ended on S+18."""
    rows = finance.query(
        "select subscription_id, outcome, converted_date, canceled_date from finance.fct_trials "
        "order by subscription_id"
    )
    assert rows == [(3, "converted", day(15), None), (4, "canceled", None, day(9))]
