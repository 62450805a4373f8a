"""Signup-cohort retention (METRICS.md, "Cohort retention"): of the accounts that signed up in a
month (real account owners), the share active in each later month, an account being active when
any of its people (the owner or an invited teammate) had a usage event that month."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.reference.raw import month_start, read_raw, real_users


def cohort_retention(raw_dir: Path, last_complete_month: dt.date) -> pl.DataFrame:
    """cohort_month, activity_month, members, active for every cohort and complete month since."""
    users = real_users(raw_dir)
    members = users.filter(pl.col("account_owner_id").is_null()).select(
        account="user_id", cohort_month=month_start("signup_at")
    )
    account_of = users.select("user_id", account=pl.coalesce("account_owner_id", "user_id"))
    active = (
        read_raw(raw_dir, "app_db", "usage_events")
        .select("user_id", activity_month=month_start("occurred_at"))
        .unique()
        .join(account_of, on="user_id")
        .select("account", "activity_month")
        .unique()
    )
    months = pl.DataFrame(
        {
            "activity_month": pl.date_range(
                members["cohort_month"].min(), last_complete_month, "1mo", eager=True
            )
        }
    )
    grid = members.join(months, how="cross").filter(
        pl.col("activity_month") >= pl.col("cohort_month")
    )
    return (
        grid.join(
            active.with_columns(is_active=pl.lit(True)),
            on=["account", "activity_month"],
            how="left",
        )
        .group_by("cohort_month", "activity_month")
        .agg(members=pl.len(), active=pl.col("is_active").fill_null(False).sum())
        .sort("cohort_month", "activity_month")
    )
