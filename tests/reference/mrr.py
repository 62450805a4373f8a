"""MRR recomputed straight from raw Parquet and the plan_catalog seed, in polars, independently
of the dbt models: the reference fct_mrr_daily must equal to the cent.

The rules, from ARCHITECTURE.md:
- a subscription period's MRR = price per billing period / billing months x quantity (seats);
- it counts on day D when its paid start (trial end, else start) is on or before D and it has not
  ended by D (ended_at null or its date after D);
- a period's latest version (max updated_at) is the truth; internal QA accounts
  (@techflow.test, by the latest version of the user) are not customers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

SEEDS_DIR = Path(__file__).resolve().parents[2] / "techflow_dbt" / "seeds"

# A period's price for all its seats, in cents, and the months it covers.
PERIOD_CENTS = pl.col("price_per_period_cents") * pl.col("quantity")
MONTHS = pl.col("billing_months")


def read_raw(raw_dir: Path, system: str, table: str) -> pl.DataFrame:
    return pl.read_parquet(raw_dir / system / table / "*" / "*.parquet", hive_partitioning=True)


def latest_versions(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    return frame.sort(["updated_at", "_loaded_at"]).unique(subset=[key], keep="last")


def customer_ids(raw_dir: Path) -> pl.Series:
    users = latest_versions(read_raw(raw_dir, "app_db", "users"), "user_id")
    is_test = users["email"].str.strip_chars().str.to_lowercase().str.ends_with("@techflow.test")
    return users.filter(~is_test)["user_id"]


def paid_periods(raw_dir: Path) -> pl.DataFrame:
    """One row per period of a real customer: customer_id, product, mrr_cents, quantity, dates."""
    plans = pl.read_csv(SEEDS_DIR / "plan_catalog.csv")
    periods = latest_versions(read_raw(raw_dir, "app_db", "subscriptions"), "subscription_id")
    return (
        periods.filter(pl.col("user_id").is_in(customer_ids(raw_dir).implode()))
        .join(plans, on="plan_id", how="inner")
        .select(
            pl.col("user_id").alias("customer_id"),
            "product",
            "quantity",
            # Integer cents: price x seats is exact; the annual division rounds once, half up.
            ((2 * PERIOD_CENTS + MONTHS) // (2 * MONTHS)).alias("mrr_cents"),
            pl.coalesce("trial_ends_at", "started_at").dt.date().alias("paid_start_date"),
            pl.col("ended_at").dt.date().alias("ended_date"),
        )
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
