"""MRR recomputed straight from raw Parquet and the plan_catalog seed, in polars, independently
of the dbt models: the reference fct_mrr_daily must equal to the cent.

The rules (techflow_dbt/models/METRICS.md, "Paid start", "MRR and ARR", "Who is a customer"):
- a subscription period's MRR = price per billing period / billing months x quantity (seats);
- it counts on day D when its paid start (trial end, else start) is on or before D and it has not
  ended by D (ended_at null or its date after D);
- a period's latest version (max updated_at) is the truth; internal QA accounts
  (@techflow.test, by the latest version of the user) are not customers.
Movements (METRICS.md, "Movements"): a day's change of a pair's (product level) or a customer's
(customer level) MRR against the day before: new (first MRR ever), reactivation (MRR again after
zero), expansion, contraction, churn (to zero), unchanged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.reference.raw import customer_ids, latest_versions, read_raw, read_seed

# A period's price for all its seats, in cents, and the months it covers.
PERIOD_CENTS = pl.col("price_per_period_cents") * pl.col("quantity")
MONTHS = pl.col("billing_months")


def periods(raw_dir: Path) -> pl.DataFrame:
    """Every subscription period of a real customer at its latest version, with its plan."""
    plans = read_seed("plan_catalog")
    latest = latest_versions(read_raw(raw_dir, "app_db", "subscriptions"), "subscription_id")
    return latest.filter(pl.col("user_id").is_in(customer_ids(raw_dir).implode())).join(
        plans, on="plan_id", how="inner"
    )


def paid_periods(raw_dir: Path) -> pl.DataFrame:
    """One row per period of a real customer: customer_id, product, mrr_cents, quantity, dates."""
    return periods(raw_dir).select(
        pl.col("user_id").alias("customer_id"),
        "product",
        "quantity",
        # Integer cents: price x seats is exact; the annual division rounds once, half up.
        ((2 * PERIOD_CENTS + MONTHS) // (2 * MONTHS)).alias("mrr_cents"),
        pl.coalesce("trial_ends_at", "started_at").dt.date().alias("paid_start_date"),
        pl.col("ended_at").dt.date().alias("ended_date"),
    )


def mrr_by_day(raw_dir: Path, first: dt.date, last: dt.date) -> pl.DataFrame:
    """customer_id, product, date_day, mrr_cents for every day in [first, last] with MRR > 0."""
    days = pl.DataFrame({"date_day": pl.date_range(first, last, "1d", eager=True)})
    return (
        paid_periods(raw_dir)
        .join(days, how="cross")
        .filter(
            (pl.col("paid_start_date") <= pl.col("date_day"))
            & (pl.col("ended_date").is_null() | (pl.col("ended_date") > pl.col("date_day")))
        )
        .group_by("customer_id", "product", "date_day")
        .agg(pl.col("mrr_cents").sum(), pl.col("quantity").sum().alias("seats"))
        .sort("customer_id", "product", "date_day")
    )


def movements(paying: pl.DataFrame, keys: list[str], last: dt.date) -> pl.DataFrame:
    """Daily movements of `keys` (e.g. customer_id, product) from their days with MRR > 0
    (columns keys + date_day + mrr_cents): one row per day with MRR and per day it drops to zero
    (through `last`), with previous_mrr_cents and the movement."""
    one_day = pl.duration(days=1)
    drops = (
        paying.select(*keys, (pl.col("date_day") + one_day).alias("date_day"))
        .filter(pl.col("date_day") <= last)
        .join(paying.select(*keys, "date_day"), on=[*keys, "date_day"], how="anti")
        .with_columns(mrr_cents=pl.lit(0, pl.Int64))
    )
    previous = paying.select(
        *keys, (pl.col("date_day") + one_day).alias("date_day"), previous_mrr_cents="mrr_cents"
    )
    first_paid = paying.group_by(keys).agg(first_paid=pl.col("date_day").min())
    rows = (
        pl.concat([paying.select(*keys, "date_day", "mrr_cents"), drops])
        .join(previous, on=[*keys, "date_day"], how="left")
        .join(first_paid, on=keys)
        .with_columns(pl.col("previous_mrr_cents").fill_null(0))
    )
    now, before = pl.col("mrr_cents"), pl.col("previous_mrr_cents")
    return rows.with_columns(
        movement=pl.when((before == 0) & (now > 0) & (pl.col("date_day") == pl.col("first_paid")))
        .then(pl.lit("new"))
        .when((before == 0) & (now > 0))
        .then(pl.lit("reactivation"))
        .when((before > 0) & (now > before))
        .then(pl.lit("expansion"))
        .when((now > 0) & (now < before))
        .then(pl.lit("contraction"))
        .when((before > 0) & (now == 0))
        .then(pl.lit("churn"))
        .otherwise(pl.lit("unchanged"))
    ).drop("first_paid")


def customer_mrr_by_day(by_pair: pl.DataFrame) -> pl.DataFrame:
    """A customer's MRR per day over all products (days with MRR > 0)."""
    return by_pair.group_by("customer_id", "date_day").agg(pl.col("mrr_cents").sum())
