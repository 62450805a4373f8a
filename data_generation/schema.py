"""The raw data contract: every raw table, its system, and its exact Parquet schema.

This module is the one place that names the raw tables and their columns. The generator writes
exactly these columns and types; the dbt sources (techflow_dbt/models/staging/*/_*__sources.yml)
document the same columns; the Dagster raw assets take their keys from RAW_TABLES.

Conventions:
- Files land at <data_dir>/raw/<system>/<table>/date=YYYY-MM-DD/part-0.parquet. The hive key
  `date` is the day the extract landed; it is not a column inside the file.
- Timestamps are naive and in UTC (microseconds). Money is integer cents (USD, except Stripe
  invoices, their line items and charges: the invoice's currency).
- Mutable tables carry `updated_at`: a day's file holds the rows changed that day (one row per
  changed version); staging keeps the latest version of each key.
- Every row carries `_loaded_at`, when the extract landed, for source freshness.
- The contract only grows. A column added to a live feed (`added_later`) may be absent from the
  files landed before the first file that carries it; readers take it as null there (the staging
  models state the fallback). Every other column is in every file, with exactly its type: the dbt
  sources mirror this schema as `data_type` (and `meta.added_later`), and a staging test reads
  every file's Parquet footer against it (tests/dbt/test_raw_contract.py keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TS = pl.Datetime("us")


@dataclass(frozen=True)
class RawTable:
    system: str
    name: str
    schema: dict[str, pl.DataType]
    primary_key: tuple[str, ...]
    mutable: bool
    # Columns added after the feed started: an older file may lack them (see the module docstring).
    added_later: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        return (self.system, self.name)


RAW_TABLES: tuple[RawTable, ...] = (
    RawTable(
        "app_db",
        "users",
        {
            "user_id": pl.Int64(),
            "email": pl.String(),
            "full_name": pl.String(),
            "company_name": pl.String(),
            "company_domain": pl.String(),
            "country": pl.String(),  # ISO 3166-1 alpha-2
            "signup_at": TS,  # for an invited teammate: when they joined
            # Null for the user who signed up (the account owner), else the owner's
            # user_id: an invited teammate who fills one of the account's seats.
            "account_owner_id": pl.Int64(),
            "updated_at": TS,
            "_loaded_at": TS,
        },
        ("user_id",),
        mutable=True,
    ),
    RawTable(
        "app_db",
        "subscriptions",
        {
            "subscription_id": pl.Int64(),
            "user_id": pl.Int64(),
            "plan_id": pl.String(),
            "quantity": pl.Int32(),  # seats
            "status": pl.String(),  # trialing, active, past_due, canceled
            "trial_ends_at": TS,  # null when the period had no trial
            "started_at": TS,
            "ended_at": TS,  # null while open
            # null, upgrade, downgrade, seat_change, churn, dunning, refund
            "ended_reason": pl.String(),
            "previous_subscription_id": pl.Int64(),  # the period this one replaced, or null
            "created_at": TS,
            "updated_at": TS,
            "_loaded_at": TS,
        },
        ("subscription_id",),
        mutable=True,
    ),
    RawTable(
        "app_db",
        "usage_events",
        {
            "event_id": pl.String(),
            "user_id": pl.Int64(),
            "product": pl.String(),
            "feature": pl.String(),
            "occurred_at": TS,
            "_loaded_at": TS,
        },
        ("event_id",),
        mutable=False,
    ),
    RawTable(
        "stripe",
        "customers",
        {
            "customer_id": pl.String(),  # cus_...
            "email": pl.String(),
            "name": pl.String(),
            "app_user_id": pl.String(),  # Stripe metadata is text
            "created_at": TS,
            "updated_at": TS,
            "_loaded_at": TS,
        },
        ("customer_id",),
        mutable=True,
    ),
    RawTable(
        "stripe",
        "invoices",
        {
            "invoice_id": pl.String(),  # in_...
            "customer_id": pl.String(),
            "subscription_id": pl.Int64(),  # the app_db subscription period billed
            "period_start": TS,
            "period_end": TS,
            "amount_due": pl.Int64(),
            "amount_paid": pl.Int64(),
            "currency": pl.String(),  # usd
            "status": pl.String(),  # paid, open, void, uncollectible
            "created_at": TS,
            "updated_at": TS,  # re-landed when the status changes
            # Billing: money above is in `currency` (usd, eur, gbp, cad, aud) cents;
            # subtotal = sum of the invoice's line items, total = subtotal + tax, and
            # amount_due = max(total, 0) (a negative total stays on the customer's balance).
            "subtotal": pl.Int64(),
            "tax": pl.Int64(),
            "total": pl.Int64(),
            "_loaded_at": TS,
        },
        ("invoice_id",),
        mutable=True,
        added_later=frozenset({"subtotal", "tax", "total"}),
    ),
    RawTable(
        "stripe",
        "charges",
        {
            "charge_id": pl.String(),  # ch_...
            "invoice_id": pl.String(),
            "customer_id": pl.String(),
            "amount": pl.Int64(),
            "amount_refunded": pl.Int64(),
            "status": pl.String(),  # succeeded, failed
            "failure_code": pl.String(),  # null unless failed
            "created_at": TS,
            "updated_at": TS,  # re-landed when refunded
            "currency": pl.String(),  # the invoice's currency (amounts are its cents)
            "_loaded_at": TS,
        },
        ("charge_id",),
        mutable=True,
        added_later=frozenset({"currency"}),
    ),
    # Billing: what each invoice bills, Stripe-style. A plan line per invoice (a whole
    # cycle, or the prorated rest of it after a mid-cycle change) and, after a change, a proration
    # credit (negative) for the replaced period's unused time. Lands with its invoice's first
    # version; never changes.
    RawTable(
        "stripe",
        "invoice_line_items",
        {
            "line_item_id": pl.String(),  # il_...
            "invoice_id": pl.String(),
            "subscription_id": pl.Int64(),  # the period the line bills or credits
            "plan_id": pl.String(),
            "quantity": pl.Int32(),  # seats
            "amount": pl.Int64(),  # invoice currency cents, excluding tax; credits are negative
            "currency": pl.String(),
            "proration": pl.Boolean(),  # true for both lines of a mid-cycle change
            "period_start": TS,
            "period_end": TS,
            "created_at": TS,
            "_loaded_at": TS,
        },
        ("line_item_id",),
        mutable=False,
    ),
    RawTable(
        "segment",
        "tracks",
        {
            "message_id": pl.String(),
            "anonymous_id": pl.String(),
            "user_id": pl.String(),  # null before identify
            "event": pl.String(),
            "timestamp": TS,
            "context_page_path": pl.String(),
            "context_campaign_source": pl.String(),
            "context_campaign_medium": pl.String(),
            "context_campaign_name": pl.String(),
            "_loaded_at": TS,
        },
        ("message_id",),
        mutable=False,
    ),
    RawTable(
        "segment",
        "identifies",
        {
            "message_id": pl.String(),
            "anonymous_id": pl.String(),
            "user_id": pl.String(),
            "email": pl.String(),
            "timestamp": TS,
            "_loaded_at": TS,
        },
        ("message_id",),
        mutable=False,
    ),
    RawTable(
        "salesforce",
        "accounts",
        {
            "account_id": pl.String(),  # 001...
            "name": pl.String(),
            "domain": pl.String(),
            "industry": pl.String(),
            "employees": pl.Int32(),
            "app_user_id": pl.String(),  # custom field, text
            "created_at": TS,
            "updated_at": TS,
            "_loaded_at": TS,
        },
        ("account_id",),
        mutable=True,
    ),
    RawTable(
        "salesforce",
        "opportunities",
        {
            "opportunity_id": pl.String(),  # 006...
            "account_id": pl.String(),
            "name": pl.String(),
            "stage": pl.String(),
            "amount": pl.Int64(),  # cents
            "close_date": pl.Date(),
            "lead_source": pl.String(),
            "campaign": pl.String(),
            "created_at": TS,
            "updated_at": TS,
            "_loaded_at": TS,
            # Sales pipeline: Salesforce's standard Type picklist, New Business or
            # Expansion (added last: the contract only grows).
            "type": pl.String(),
        },
        ("opportunity_id",),
        mutable=True,
        added_later=frozenset({"type"}),
    ),
    RawTable(
        "marketing",
        "ad_spend",
        {
            "spend_date": pl.Date(),  # not `date`: that name is the hive partition key
            "channel": pl.String(),
            "campaign": pl.String(),
            "impressions": pl.Int64(),
            "clicks": pl.Int64(),
            "spend_cents": pl.Int64(),
            "_loaded_at": TS,
        },
        ("spend_date", "channel", "campaign"),
        mutable=False,
    ),
)

RAW_TABLES_BY_NAME: dict[str, RawTable] = {t.name: t for t in RAW_TABLES}
