"""A hand-made finance world whose right answers are known by hand.

Days are relative to the world's start S (end = the suite's as-of day AS_OF, S = end - 30); dbt
sees TECHFLOW_AS_OF = AS_OF, so freshness and "no future timestamps" hold whenever the suite runs.

Customers (app users):
  1  cloudsync pro monthly x2 seats from S+2 (MRR 48); upgraded to enterprise x2 on S+10
     (MRR 90, expansion); churned S+20 (MRR 0).
  2  teamchat starter ANNUAL x12 seats, 14-day trial S+1 .. S+15: MRR 6000 / 12 x 12 = 60 from S+15.
     Lives in "de", then moves to "at" (a second version of the user).
  3  datahub pro monthly trial from S+4, canceled S+9 before the trial ended: never pays.
  4  datahub starter monthly S+3 .. S+5 (MRR 30, churn S+5), back without trial S+8 (reactivation).
  5  internal QA account (qa+5@techflow.test) paying cloudsync starter: never a customer.
Stripe: cus_1 (invoice in_1 4800 paid by ch_1, 1000 refunded later), cus_2 (invoice in_2 72000:
ch_2a failed, ch_2b succeeded), cus_5 (QA, invoice in_5 1200). Every invoice has one plan line
item for its amount (line_items_for), so invoices add up to their lines; billing_world() adds
proration, currencies, tax and a void draft (test_finance_billing.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.dbt.raw_fixtures import app_user, at, write_world
from tests.support import AS_OF

# Build the finance marts and everything they read, with the tests whose parents are all built.
FINANCE_BUILD = (
    "build",
    "--select",
    "+path:models/marts/finance",
    "--indirect-selection",
    "cautious",
)

WORLD_DAYS = 31


def world_start() -> dt.date:
    return AS_OF - dt.timedelta(days=WORLD_DAYS - 1)


def day(offset: int) -> dt.date:
    return world_start() + dt.timedelta(days=offset)


def landed(ts: dt.datetime) -> dt.datetime:
    """The extract lands an hour after the change."""
    return ts + dt.timedelta(hours=1)


def user(user_id: int, email: str, country: str, updated: dt.datetime) -> dict[str, Any]:
    return {
        **app_user(user_id, email, at(day(0), 8)),
        "country": country,
        "updated_at": updated,
        "_loaded_at": landed(updated),
    }


def period(
    subscription_id: int,
    user_id: int,
    plan_id: str,
    quantity: int,
    started: dt.datetime,
    *,
    trial_ends: dt.datetime | None = None,
    ended: dt.datetime | None = None,
    reason: str | None = None,
    previous: int | None = None,
    status: str | None = None,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    """One version of a subscription period, written when it last changed."""
    updated = updated or ended or started
    if status is None:
        status = "canceled" if ended else ("trialing" if trial_ends else "active")
    return {
        "subscription_id": subscription_id,
        "user_id": user_id,
        "plan_id": plan_id,
        "quantity": quantity,
        "status": status,
        "trial_ends_at": trial_ends,
        "started_at": started,
        "ended_at": ended,
        "ended_reason": reason,
        "previous_subscription_id": previous,
        "created_at": started,
        "updated_at": updated,
        "_loaded_at": landed(updated),
    }


def users() -> list[dict[str, Any]]:
    return [
        user(1, "one@acme.com", "us", at(day(0), 8)),
        user(2, "two@globex.de", "de", at(day(0), 8)),
        user(2, "two@globex.de", "at", at(day(12), 8)),
        user(3, "three@initech.com", "us", at(day(0), 8)),
        user(4, "four@umbrella.com", "gb", at(day(0), 8)),
        user(5, "qa+5@techflow.test", "us", at(day(0), 8)),
    ]


def subscriptions() -> list[dict[str, Any]]:
    upgrade_at, churn_at = at(day(10), 12), at(day(20), 8)
    return [
        period(1, 1, "cloudsync_pro_monthly", 2, at(day(2), 9)),
        period(1, 1, "cloudsync_pro_monthly", 2, at(day(2), 9), ended=upgrade_at, reason="upgrade"),
        period(2, 1, "cloudsync_enterprise_monthly", 2, upgrade_at, previous=1),
        period(
            2,
            1,
            "cloudsync_enterprise_monthly",
            2,
            upgrade_at,
            previous=1,
            ended=churn_at,
            reason="churn",
        ),
        period(3, 2, "teamchat_starter_annual", 12, at(day(1), 10), trial_ends=at(day(15), 10)),
        period(
            3,
            2,
            "teamchat_starter_annual",
            12,
            at(day(1), 10),
            trial_ends=at(day(15), 10),
            status="active",
            updated=at(day(15), 10),
        ),
        period(4, 3, "datahub_pro_monthly", 1, at(day(4), 10), trial_ends=at(day(18), 10)),
        period(
            4,
            3,
            "datahub_pro_monthly",
            1,
            at(day(4), 10),
            trial_ends=at(day(18), 10),
            ended=at(day(9), 10),
            reason="churn",
        ),
        period(5, 4, "datahub_starter_monthly", 1, at(day(3), 10)),
        period(
            5, 4, "datahub_starter_monthly", 1, at(day(3), 10), ended=at(day(5), 10), reason="churn"
        ),
        period(6, 4, "datahub_starter_monthly", 1, at(day(8), 10)),
        period(7, 5, "cloudsync_starter_monthly", 1, at(day(2), 10)),
    ]


def stripe_customers() -> list[dict[str, Any]]:
    def customer(n: int, email: str) -> dict[str, Any]:
        created = at(day(1), 9)
        return {
            "customer_id": f"cus_{n}",
            "email": email,
            "name": f"User {n}",
            "app_user_id": str(n),
            "created_at": created,
            "updated_at": created,
            "_loaded_at": landed(created),
        }

    return [
        customer(1, "one@acme.com"),
        customer(2, "two@globex.de"),
        customer(5, "qa+5@techflow.test"),
    ]


def invoice(
    invoice_id: str,
    customer: str,
    subscription_id: int,
    issued: dt.datetime,
    months: int,
    amount: int,
    **overrides: Any,
) -> dict[str, Any]:
    row = {
        "invoice_id": invoice_id,
        "customer_id": customer,
        "subscription_id": subscription_id,
        "period_start": issued,
        "period_end": add_months(issued, months),
        "amount_due": amount,
        "amount_paid": amount,
        "currency": "usd",
        "status": "paid",
        "created_at": issued,
        "updated_at": issued,
        "_loaded_at": landed(issued),
    }
    return row | overrides


def add_months(ts: dt.datetime, months: int) -> dt.datetime:
    """Calendar months later (the fixtures' days are never past the 28th's clamp)."""
    month = ts.month - 1 + months
    return ts.replace(year=ts.year + month // 12, month=month % 12 + 1, day=min(ts.day, 28))


def line_items_for(
    invoice_rows: list[dict[str, Any]], subscription_rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One plan line per invoice for its subtotal (its amount due when it has no subtotal), taken
    from the invoice's first version and landing with it, as the generator writes them; the
    line names the plan of the period billed."""
    plans = {row["subscription_id"]: row["plan_id"] for row in subscription_rows}
    first: dict[str, dict[str, Any]] = {}
    for row in sorted(invoice_rows, key=lambda r: r["updated_at"]):
        first.setdefault(row["invoice_id"], row)
    return [
        {
            "line_item_id": "il_" + row["invoice_id"],
            "invoice_id": row["invoice_id"],
            "subscription_id": row["subscription_id"],
            "plan_id": plans[row["subscription_id"]],
            "quantity": 1,
            "amount": row["subtotal"] if row.get("subtotal") is not None else row["amount_due"],
            "currency": row["currency"],
            "proration": False,
            "period_start": row["period_start"],
            "period_end": row["period_end"],
            "created_at": row["created_at"],
            "_loaded_at": row["_loaded_at"],
        }
        for row in first.values()
    ]


def invoices() -> list[dict[str, Any]]:
    return [
        invoice("in_1", "cus_1", 1, at(day(2), 10), 1, 4800),
        invoice("in_2", "cus_2", 3, at(day(15), 11), 12, 72000),
        invoice("in_5", "cus_5", 7, at(day(2), 11), 1, 1200),
    ]


def charge(
    charge_id: str,
    invoice_id: str,
    customer: str,
    created: dt.datetime,
    amount: int,
    *,
    status: str = "succeeded",
    refunded: int = 0,
    updated: dt.datetime | None = None,
) -> dict[str, Any]:
    updated = updated or created
    return {
        "charge_id": charge_id,
        "invoice_id": invoice_id,
        "customer_id": customer,
        "amount": amount,
        "amount_refunded": refunded,
        "status": status,
        "failure_code": "card_declined" if status == "failed" else None,
        "created_at": created,
        "updated_at": updated,
        "_loaded_at": landed(updated),
    }


def charges() -> list[dict[str, Any]]:
    return [
        charge("ch_1", "in_1", "cus_1", at(day(2), 11), 4800),
        charge("ch_1", "in_1", "cus_1", at(day(2), 11), 4800, refunded=1000, updated=at(day(6), 9)),
        charge("ch_2a", "in_2", "cus_2", at(day(15), 12), 72000, status="failed"),
        charge("ch_2b", "in_2", "cus_2", at(day(16), 12), 72000),
        charge("ch_5", "in_5", "cus_5", at(day(2), 12), 1200),
    ]


def finance_tables() -> dict[str, list[dict[str, Any]]]:
    return {
        "users": users(),
        "subscriptions": subscriptions(),
        "customers": stripe_customers(),
        "invoices": invoices(),
        "charges": charges(),
    }


def write_finance_world(
    data_dir: Path, tables: dict[str, list[dict[str, Any]]] | None = None
) -> Path:
    """Write the finance world (or a variant of its tables) under data_dir/raw."""
    tables = dict(tables if tables is not None else finance_tables())
    if "invoice_line_items" not in tables:
        tables["invoice_line_items"] = line_items_for(
            tables.get("invoices", []), tables.get("subscriptions", [])
        )
    write_world(data_dir / "raw", tables, world_start())
    return data_dir
