"""Retention by the standard definitions (METRICS.md, "Retention"), from MRR recomputed from raw.

For a complete month M (its last day on or before the as-of day):
- the monthly cohort: customers (all products summed) with MRR > 0 on the last day of M-1;
- NRR = sum of their MRR on M's last day / sum of their MRR on M-1's last day;
- GRR = sum of min(end, start) / sum of start;
- logo churn = cohort customers with no MRR on M's last day / cohort customers;
- trailing 12 months: the cohort paying on the last day of M-12, their MRR on M's last day
  against then (NRR), each capped at then (GRR);
- product level: the same over customer x product pairs (a move to another product is churn).
"""

from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import polars as pl


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The last day of every month that ends in [first, last]."""
    ends = []
    month = first.replace(day=1)
    while True:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        end = nxt - dt.timedelta(days=1)
        if end > last:
            return ends
        if end >= first:
            ends.append(end)
        month = nxt


def _balances(paying: pl.DataFrame, keys: list[str], day: dt.date) -> dict[tuple, int]:
    on_day = paying.filter(pl.col("date_day") == day).group_by(keys).agg(pl.col("mrr_cents").sum())
    return {tuple(row[:-1]): row[-1] for row in on_day.iter_rows()}


def cohort_retention(
    paying: pl.DataFrame, keys: list[str], start: dt.date, end: dt.date
) -> dict[str, object] | None:
    """The cohort of `keys` paying on `start`, measured on `end` (None without a cohort):
    exact sums in cents and the three rates as Fractions."""
    before = _balances(paying, keys, start)
    after = _balances(paying, keys, end)
    if not before:
        return None
    start_mrr = sum(before.values())
    end_mrr = sum(after.get(key, 0) for key in before)
    retained = sum(min(after.get(key, 0), mrr) for key, mrr in before.items())
    churned = sum(1 for key in before if after.get(key, 0) == 0)
    return {
        "members": len(before),
        "churned": churned,
        "start_mrr_cents": start_mrr,
        "end_mrr_cents": end_mrr,
        "retained_mrr_cents": retained,
        "nrr": Fraction(end_mrr, start_mrr),
        "grr": Fraction(retained, start_mrr),
        "logo_churn": Fraction(churned, len(before)),
    }


def monthly_retention(
    paying: pl.DataFrame, keys: list[str], first: dt.date, last: dt.date
) -> dict[dt.date, dict[str, object]]:
    """{month's first day: cohort_retention} for every complete month with a cohort.
    `paying` holds the days with MRR > 0 (customer level: keys [customer_id])."""
    ends = month_ends(first - dt.timedelta(days=1), last)
    out = {}
    for start, end in itertools.pairwise(ends):
        result = cohort_retention(paying, keys, start, end)
        if result is not None:
            out[end.replace(day=1)] = result
    return out


def trailing_12m_retention(
    paying: pl.DataFrame, first: dt.date, last: dt.date
) -> dict[dt.date, dict[str, object]]:
    """{month's first day: the cohort paying on the last day of the month 12 months before,
    measured on this month's last day} for every complete month with such a cohort."""
    ends = month_ends(first - dt.timedelta(days=1), last)
    out = {}
    for index, end in enumerate(ends):
        if index < 12:
            continue
        result = cohort_retention(paying, ["customer_id"], ends[index - 12], end)
        if result is not None:
            out[end.replace(day=1)] = result
    return out
