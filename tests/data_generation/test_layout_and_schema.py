"""The raw contract: daily hive partitions, exact schemas, _loaded_at everywhere, integer cents."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from data_generation import RAW_TABLES
from data_generation.writer import partition_path

MONEY_COLUMNS = {
    "invoices": ("amount_due", "amount_paid", "subtotal", "tax", "total"),
    "invoice_line_items": ("amount",),
    "charges": ("amount", "amount_refunded"),
    "opportunities": ("amount",),
    "ad_spend": ("spend_cents",),
}
CHANGE_TIME = {  # the column whose day decides the partition (the change or the event)
    "users": "updated_at", "subscriptions": "updated_at", "customers": "updated_at",
    "invoices": "updated_at", "charges": "updated_at", "accounts": "updated_at",
    "opportunities": "updated_at", "usage_events": "occurred_at", "tracks": "timestamp",
    "identifies": "timestamp", "invoice_line_items": "created_at",
}  # fmt: skip


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.name)
def test_one_file_per_table_per_day_in_hive_layout(dirty_world, table):
    days = sorted(p.parent.name for p in (dirty_world.root / table.system / table.name).glob("*/*"))
    expected = [f"date={dirty_world.first + dt.timedelta(days=i)}" for i in range(dirty_world.days)]
    assert days == expected
    assert not list(dirty_world.root.rglob(".*tmp*")), "no temporary files are left behind"


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.name)
def test_files_have_exactly_the_contract_schema(dirty_world, table):
    for offset in (0, dirty_world.days // 2, dirty_world.days - 1):
        day = dirty_world.first + dt.timedelta(days=offset)
        path = partition_path(dirty_world.root, table, day)
        assert pl.read_parquet_schema(path) == table.schema, path


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: t.name)
def test_every_row_landed_on_its_partition_day_after_it_changed(dirty_world, table):
    name = table.name
    assert dirty_world.scalar(f"select count(*) from {{{name}}}") > 0, f"{name} is never filled"
    assert dirty_world.scalar(f"select count(*) from {{{name}}} where _loaded_at is null") == 0
    misplaced = dirty_world.scalar(
        f"select count(*) from {{{name}}} where cast(_loaded_at as date) <> date"
    )
    assert misplaced == 0, "_loaded_at is the landing time, and the partition is the landing day"
    if name in CHANGE_TIME:
        before = dirty_world.scalar(
            f"select count(*) from {{{name}}} where _loaded_at < {CHANGE_TIME[name]}"
        )
        assert before == 0, "nothing lands before it happened"


def test_money_is_integer_cents_and_invoices_bill_price_times_seats(dirty_world):
    for table in RAW_TABLES:
        for column in MONEY_COLUMNS.get(table.name, ()):
            assert table.schema[column] == pl.Int64()
    # Stripe bills the true seats; the subscription's latest version says them once any
    # correction of a mistyped seat count has landed (by the settled horizon). A whole cycle's plan
    # line bills price x seats, in USD exactly and at the fx_rates seed's rate of the invoice month
    # in other currencies (the seed's months cover the world).
    wrong = dirty_world.sql(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        )
        select
            count(*) filter (where l.currency = 'usd'
                and l.amount <> p.price_per_period_cents * s.quantity),
            count(*) filter (where abs(l.amount * fx.usd_per_unit - p.price_per_period_cents
                * s.quantity) > 0.01 * p.price_per_period_cents * s.quantity + 1),
            count(*) filter (where l.quantity <> s.quantity or l.plan_id <> s.plan_id),
            count(*)
        from {invoice_line_items} l
        join latest s using (subscription_id)
        join read_csv('techflow_dbt/seeds/plan_catalog.csv') p on p.plan_id = s.plan_id
        join read_csv('techflow_dbt/seeds/fx_rates.csv') fx
          on fx.currency = l.currency and fx.rate_month = date_trunc('month', l.created_at)
        where not l.proration and s.started_at < SETTLED
        """.replace("SETTLED", dirty_world.settled)
    )[0]
    assert wrong[:3] == (0, 0, 0) and wrong[3] > 200, wrong
    assert dirty_world.scalar("select count(distinct subscription_id) from {invoices}") > 50
