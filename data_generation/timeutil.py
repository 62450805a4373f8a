"""Time as int64 microseconds since the Unix epoch (naive UTC), the unit of Parquet timestamps.

All simulation arithmetic happens on these integers with numpy; conversion to polars Datetime
happens once, when a day's frame is assembled.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
_EPOCH = dt.date(1970, 1, 1)


def day_start_us(day: dt.date) -> int:
    """Microseconds since the epoch at 00:00 UTC of `day`."""
    return (day - _EPOCH).days * DAY_US


def day_of(ts_us: np.ndarray) -> np.ndarray:
    """The UTC day number (days since epoch) of each timestamp."""
    return np.floor_divide(ts_us, DAY_US)


def add_months(ts_us: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add calendar months, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29).

    Billing cycles are anchored at the paid start, so cycle n is always start + n months and
    never drifts the way repeated "+1 month" would.
    """
    ts_us = np.asarray(ts_us, dtype=np.int64)
    days = np.floor_divide(ts_us, DAY_US)
    time_of_day = ts_us - days * DAY_US
    date = days.astype("datetime64[D]")
    month = date.astype("datetime64[M]")
    day_in_month = (date - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months, dtype=np.int64).astype("timedelta64[M]")
    month_len = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    new_date = target.astype("datetime64[D]") + np.minimum(day_in_month, month_len - 1).astype(
        "timedelta64[D]"
    )
    return new_date.astype(np.int64) * DAY_US + time_of_day


def months_between(start_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
    """Whole calendar months from start's month to end's month (a lower bound for cycle search)."""
    start_m = np.floor_divide(start_us, DAY_US).astype("datetime64[D]").astype("datetime64[M]")
    end_m = np.floor_divide(end_us, DAY_US).astype("datetime64[D]").astype("datetime64[M]")
    return (end_m - start_m).astype(np.int64)
