"""The marts agree with the metric definitions (techflow_dbt/models/METRICS.md) on known facts.

The finance world (finance_world.py) plus customer 6: a teamchat trial that converts at 08:00 and
is cancelled at 18:00 on the same day S+10 (by the MRR date rule it never paid), then a plain
teamchat subscription from S+14. The build runs every data test, so the identities (arr = 12 x
mrr, mrr_change, net_collected, roas) and assert_reactivated_events_are_reactivations hold too.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.dbt.finance_world import (
    FINANCE_BUILD,
    day,
    finance_tables,
    period,
    user,
    world_start,
    write_finance_world,
)
from tests.dbt.raw_fixtures import at
from tests.support import DbtProject

pytestmark = pytest.mark.slow

CONVERTED_AND_CANCELLED = 10
PLAIN_AFTER_UNPAID_TRIAL = 11


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    tables = finance_tables()
    tables["users"].append(user(6, "six@hooli.com", "us", at(day(0), 8)))
    tables["subscriptions"] += [
        period(CONVERTED_AND_CANCELLED, 6, "teamchat_starter_monthly", 1, at(day(3), 9),
               trial_ends=at(day(10), 8), ended=at(day(10), 18), reason="churn"),
        period(PLAIN_AFTER_UNPAID_TRIAL, 6, "teamchat_starter_monthly", 1, at(day(14), 9)),
    ]  # fmt: skip
    data_dir = write_finance_world(tmp_path_factory.mktemp("agreements_world"), tables)
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert invocation.success, invocation.describe()
    yield project


def events_of(project: DbtProject, subscription_id: int) -> list[str]:
    rows = project.query(
        "select event_type from finance.fct_subscription_events where subscription_id = ? "
        "order by event_at, event_type",
        [subscription_id],
    )
    return [event for (event,) in rows]


def test_a_trial_converted_and_cancelled_on_one_day_never_paid(finance: DbtProject) -> None:
    assert events_of(finance, CONVERTED_AND_CANCELLED) == ["trial_started", "trial_canceled"]
    assert finance.query(
        "select outcome from finance.fct_trials where subscription_id = ?",
        [CONVERTED_AND_CANCELLED],
    ) == [("canceled",)], "a trial that never paid a day did not convert"
    [(first_paid_at,)] = finance.query(
        "select first_paid_at from finance.dim_customers where customer_id = 6"
    )
    assert first_paid_at == at(day(14), 9)


def test_a_subscription_after_an_unpaid_trial_is_new_not_a_reactivation(
    finance: DbtProject,
) -> None:
    assert events_of(finance, PLAIN_AFTER_UNPAID_TRIAL) == ["subscribed"]
    [(first_day, movement)] = finance.query(
        "select date_day, movement from finance.fct_mrr_daily where customer_id = 6 "
        "order by date_day limit 1"
    )
    assert (first_day, movement) == (day(14), "new")


def test_a_return_after_a_paid_period_is_a_reactivation_in_both_models(
    finance: DbtProject,
) -> None:
    assert events_of(finance, 6) == ["reactivated"]
    [(movement,)] = finance.query(
        "select movement from finance.fct_mrr_daily "
        "where customer_id = 4 and product = 'datahub' and date_day = ?",
        [day(8)],
    )
    assert movement == "reactivation"


def test_customer_level_movement_sums_products(finance: DbtProject) -> None:
    rows = finance.query(
        "select date_day, mrr, previous_mrr, movement from finance.fct_customer_mrr_daily "
        "where customer_id = 1 and date_day in (?, ?, ?) order by date_day",
        [day(2), day(10), day(20)],
    )
    assert rows == [
        (day(2), Decimal("48.00"), Decimal("0.00"), "new"),
        (day(10), Decimal("90.00"), Decimal("48.00"), "expansion"),
        (day(20), Decimal("0.00"), Decimal("90.00"), "churn"),
    ]


def test_an_annual_invoice_is_recognized_over_its_twelve_service_months(
    finance: DbtProject,
) -> None:
    rows = finance.query(
        "select service_month_number, recognized_usd from finance.fct_recognized_revenue_monthly "
        "where invoice_id = 'in_2' order by service_month"
    )
    assert [number for number, _ in rows] == list(range(1, 13))
    assert {amount for _, amount in rows} == {Decimal("60.00")}
    [(billed_month, billed)] = finance.query(
        "select revenue_month, net_collected from finance.fct_revenue where invoice_id = 'in_2'"
    )
    assert billed == Decimal("720.00")
    [(first_service_month,)] = finance.query(
        "select min(service_month) from finance.fct_recognized_revenue_monthly "
        "where invoice_id = 'in_2'"
    )
    assert first_service_month == billed_month
