"""Billing in the finance marts: currencies, tax, proration, void drafts, refunds.

The finance world (finance_world) plus customer 6, a German company billed in EUR with 19 % VAT:
  - period 10, cloudsync pro monthly x2 (2 x 24.00 USD) from S+1, upgraded on S+11 to
  - period 11, cloudsync enterprise monthly x2; the upgrade's invoice in_6b credits the unused rest
    of pro (-29.33 EUR) and charges enterprise to the cycle's end (+55.00 EUR): subtotal 25.67,
    VAT 4.88, total 30.55, paid. A draft of it (in_6v) was voided first and never charged.
  - in_6a: the first cycle, 44.00 EUR + 8.36 VAT = 52.36 EUR, paid on S+1 (May); 10.00 EUR of the
    charge refunded on S+20 (June).
  - in_6b's first attempt on S+11 (May) fails; the retry on S+18 (June) succeeds.
  - period 12, teamchat starter monthly x1 from S+2, its cycle refunded in full on S+20: the period
    ends for `refund`, an end for good (is_churn), and the MRR drops to zero that day.
Expected USD = the EUR amount excluding tax x the fx_rates seed's rate of the month of the money's
own date (METRICS.md, "Money and FX"): billed amounts the invoice's month, a charge its own, a
refund its own (S = 2026-05-15, so S+18 and S+20 are in June, at another EUR rate than May).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from data_generation.seeds import DEFAULT_SEEDS_DIR
from tests.dbt.finance_world import (
    FINANCE_BUILD,
    add_months,
    at,
    charge,
    day,
    finance_tables,
    invoice,
    landed,
    period,
    user,
    world_start,
    write_finance_world,
)
from tests.support import DbtProject

pytestmark = pytest.mark.slow

FIRST, UPGRADED, REFUNDED = at(day(1), 10), at(day(11), 14), at(day(20), 9)
RETRIED, PARTLY_REFUNDED = at(day(18), 15), at(day(20), 11)


def eur_invoice(invoice_id: str, issued, subtotal: int, tax: int, **overrides: Any) -> dict:
    row = invoice(invoice_id, "cus_6", 10, issued, 1, subtotal + tax, currency="eur")
    return row | {"subtotal": subtotal, "tax": tax, "total": subtotal + tax} | overrides


def line(line_id: str, invoice_id: str, sid: int, plan: str, amount: int, start, end) -> dict:
    return {
        "line_item_id": line_id, "invoice_id": invoice_id, "subscription_id": sid,
        "plan_id": plan, "quantity": 2, "amount": amount, "currency": "eur",
        "proration": amount != 4400, "period_start": start, "period_end": end,
        "created_at": start, "_loaded_at": landed(start),
    }  # fmt: skip


def billing_tables() -> dict[str, list[dict[str, Any]]]:
    tables = finance_tables()
    cycle_end = add_months(FIRST, 1)
    tables["users"].append(user(6, "six@hafen.de", "DE", at(day(0), 8)))
    tables["customers"].append(
        {"customer_id": "cus_6", "email": "six@hafen.de", "name": "User 6", "app_user_id": "6",
         "created_at": at(day(1), 9), "updated_at": at(day(1), 9), "_loaded_at": at(day(1), 10)}
    )  # fmt: skip
    tables["subscriptions"] += [
        period(10, 6, "cloudsync_pro_monthly", 2, FIRST, ended=UPGRADED, reason="upgrade"),
        period(11, 6, "cloudsync_enterprise_monthly", 2, UPGRADED, previous=10),
        period(12, 6, "teamchat_starter_monthly", 1, at(day(2), 10), ended=REFUNDED,
               reason="refund"),
    ]  # fmt: skip
    in_6b = dict(subscription_id=11, period_start=UPGRADED, period_end=cycle_end)
    tables["invoices"] += [
        eur_invoice("in_6a", FIRST, 4400, 836, period_end=cycle_end),
        eur_invoice("in_6v", UPGRADED, 2567, 488, status="void", amount_paid=0, **in_6b),
        eur_invoice("in_6b", UPGRADED, 2567, 488, **in_6b),
    ]
    eur = {"currency": "eur"}
    tables["charges"] += [
        charge("ch_6a", "in_6a", "cus_6", at(day(1), 11), 5236) | eur,
        charge("ch_6a", "in_6a", "cus_6", at(day(1), 11), 5236, refunded=1000,
               updated=PARTLY_REFUNDED) | eur,
        charge("ch_6b0", "in_6b", "cus_6", at(day(11), 15), 3055, status="failed") | eur,
        charge("ch_6b", "in_6b", "cus_6", RETRIED, 3055) | eur,
    ]  # fmt: skip
    pro, ent = "cloudsync_pro_monthly", "cloudsync_enterprise_monthly"
    tables["invoice_line_items"] = [
        line("il_6a", "in_6a", 10, pro, 4400, FIRST, cycle_end),
        *(
            item
            for inv in ("in_6v", "in_6b")
            for item in (
                line(f"il_{inv}_c", inv, 10, pro, -2933, UPGRADED, cycle_end),
                line(f"il_{inv}_n", inv, 11, ent, 5500, UPGRADED, cycle_end),
            )
        ),
    ]
    return tables


def eur_rate(month_start) -> Decimal:
    with (DEFAULT_SEEDS_DIR / "fx_rates.csv").open() as f:
        rows = {(r["rate_month"], r["currency"]): r["usd_per_unit"] for r in csv.DictReader(f)}
    return Decimal(rows[(month_start.strftime("%Y-%m-01"), "eur")])


def usd(eur_cents: int, rate: Decimal, share: Decimal = Decimal(1)) -> Decimal:
    amount = Decimal(eur_cents) / 100 * share * rate
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# in_6a's revenue share of a payment: subtotal / total (44.00 / 52.36), to 10 decimals.
SHARE_6A = (Decimal(4400) / Decimal(5236)).quantize(Decimal("1e-10"), ROUND_HALF_UP)


@pytest.fixture(scope="module")
def billing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    from tests.dbt.finance_world import line_items_for

    tables = billing_tables()
    others = [r for r in tables["invoices"] if r["customer_id"] != "cus_6"]
    tables["invoice_line_items"] += line_items_for(others, tables["subscriptions"])
    data_dir = write_finance_world(tmp_path_factory.mktemp("billing_world"), tables)
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert invocation.success, invocation.describe()
    yield project


def revenue(project: DbtProject, invoice_id: str) -> dict[str, Any]:
    names = ("currency", "invoice_subtotal", "invoice_tax", "amount_collected", "net_collected",
             "tax_collected_usd", "billed_usd", "proration_credit_usd", "usd_per_unit")  # fmt: skip
    rows = project.query(
        f"select {', '.join(names)} from finance.fct_revenue where invoice_id = ?", [invoice_id]
    )
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0], strict=True))


def test_eur_invoice_is_usd_revenue_excluding_vat(billing: DbtProject) -> None:
    may, june = eur_rate(FIRST), eur_rate(PARTLY_REFUNDED)
    assert may != june, "the test needs the refund's month at another rate"
    row = revenue(billing, "in_6a")
    assert (row["currency"], row["invoice_subtotal"], row["invoice_tax"]) == (
        "eur", Decimal("44.00"), Decimal("8.36"))  # fmt: skip
    assert row["usd_per_unit"] == may
    # Cash at its own date's rate: the charge in May, the refund of 10.00 EUR in June.
    collected, refunded = usd(5236, may, SHARE_6A), usd(1000, june, SHARE_6A)
    assert row["amount_collected"] == collected
    assert row["net_collected"] == collected - refunded
    assert row["tax_collected_usd"] == (usd(5236, may) - usd(1000, june)) - (collected - refunded)
    assert row["proration_credit_usd"] == 0


def test_a_charge_is_converted_at_its_own_months_rate_not_its_invoices(
    billing: DbtProject,
) -> None:
    """in_6b was issued in May (billed at May's rate) and paid by a retry in June."""
    row = revenue(billing, "in_6b")
    assert row["billed_usd"] == usd(2567, eur_rate(UPGRADED))
    assert row["net_collected"] == usd(2567, eur_rate(RETRIED))


def test_a_refund_never_restates_the_month_already_recognized(billing: DbtProject) -> None:
    """in_6a's one service month (May) keeps what was collected; June's refund is June's."""
    rows = billing.query(
        "select service_month, recognized_usd from finance.fct_recognized_revenue_monthly "
        "where invoice_id = 'in_6a' order by service_month"
    )
    assert rows == [
        (FIRST.date().replace(day=1), usd(5236, eur_rate(FIRST), SHARE_6A)),
        (PARTLY_REFUNDED.date().replace(day=1), -usd(1000, eur_rate(PARTLY_REFUNDED), SHARE_6A)),
    ]


def test_proration_invoice_bills_net_of_the_credit(billing: DbtProject) -> None:
    rate = eur_rate(UPGRADED)
    row = revenue(billing, "in_6b")
    assert row["billed_usd"] == usd(2567, rate)
    assert row["proration_credit_usd"] == usd(-2933, rate)


def test_void_draft_is_not_revenue(billing: DbtProject) -> None:
    assert billing.query("select count(*) from finance.fct_revenue where invoice_id = 'in_6v'") == [
        (0,)
    ]


def test_lifetime_revenue_is_the_sum_in_usd(billing: DbtProject) -> None:
    expected = (
        usd(5236, eur_rate(FIRST), SHARE_6A)
        - usd(1000, eur_rate(PARTLY_REFUNDED), SHARE_6A)
        + usd(2567, eur_rate(RETRIED))
    )
    rows = billing.query(
        "select lifetime_net_revenue from finance.dim_customers where customer_id = 6"
    )
    assert rows == [(expected,)]


def test_full_refund_ends_the_period_for_good(billing: DbtProject) -> None:
    events = billing.query(
        "select event_type, is_churn from finance.fct_subscription_events"
        " where subscription_id = 12 and event_type = 'refund'"
    )
    assert events == [("refund", True)]
    mrr = billing.query(
        "select mrr, movement from finance.fct_mrr_daily"
        " where customer_id = 6 and product = 'teamchat' and date_day = ?",
        [day(20)],
    )
    assert mrr == [(Decimal("0.00"), "churn")]
