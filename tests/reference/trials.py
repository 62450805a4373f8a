"""Trial-to-paid conversion by trial start cohort (METRICS.md, "Trial-to-paid conversion").

A trial is a subscription period with a trial end, of a real customer, started by the as-of day:
converted when its paid start (the trial end) is on or before the as-of day and it paid at least
one day (it did not end on its paid start's date or before); canceled when it ended on or before
its paid start by the as-of day; otherwise still in trial. A start month's conversion =
converted / (converted + canceled).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from tests.reference.mrr import periods
from tests.reference.raw import month_start


def trials(raw_dir: Path, as_of: dt.date) -> pl.DataFrame:
    paid_start = pl.col("trial_ends_at").dt.date()
    ended = pl.col("ended_at").dt.date()
    return (
        periods(raw_dir)
        .filter(pl.col("trial_ends_at").is_not_null() & (pl.col("started_at").dt.date() <= as_of))
        .select(
            "subscription_id",
            start_month=month_start("started_at"),
            outcome=pl.when((paid_start <= as_of) & (ended.is_null() | (ended > paid_start)))
            .then(pl.lit("converted"))
            .when((ended <= paid_start) & (ended <= as_of))
            .then(pl.lit("canceled"))
            .otherwise(pl.lit("in_trial")),
        )
    )


def conversion_by_start_month(raw_dir: Path, as_of: dt.date) -> pl.DataFrame:
    """start_month, started, decided, converted (counts)."""
    return (
        trials(raw_dir, as_of)
        .group_by("start_month")
        .agg(
            started=pl.len(),
            decided=(pl.col("outcome") != "in_trial").sum(),
            converted=(pl.col("outcome") == "converted").sum(),
        )
        .sort("start_month")
    )
