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
# A time that never comes: an event that never happens (no activation, a period never ended).
# Far past any world's end, and still safe to add days to without overflowing int64.
NEVER = np.int64(2**62)
_EPOCH = dt.date(1970, 1, 1)


def day_start_us(day: dt.date) -> int:
    """Microseconds since the epoch at 00:00 UTC of `day`."""
    return (day - _EPOCH).days * DAY_US


def day_of(ts_us: np.ndarray) -> np.ndarray:
    """The UTC day number (days since epoch) of each timestamp."""
    return np.floor_divide(ts_us, DAY_US)


# Calendar lookup tables for 1970-01-01 .. 2399-12-31 (day numbers ≥ 0): the month of each day
# and the first day of each month. add_months and months_between index them instead of converting
# through datetime64 units on every call (they run for every live period on every generated day);
# values outside the table take the datetime64 path, which gives the same results.
_TABLE_DAYS = int((np.datetime64("2400-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(int))
_MONTH_OF_DAY = (
    np.arange(_TABLE_DAYS).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
)
_MONTH_START = (
    np.arange(int(_MONTH_OF_DAY[-1]) + 2)
    .astype("datetime64[M]")
    .astype("datetime64[D]")
    .astype(np.int64)
)


def _in_table(days: np.ndarray) -> bool:
    return days.size == 0 or (int(days.min()) >= 0 and int(days.max()) < _TABLE_DAYS)


def add_months(ts_us: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Add calendar months, clamping to the month's last day (Jan 31 + 1 month = Feb 28/29).

    Billing cycles are anchored at the paid start, so cycle n is always start + n months and
    never drifts the way repeated "+1 month" would.
    """
    ts_us = np.asarray(ts_us, dtype=np.int64)
    months = np.asarray(months, dtype=np.int64)
    days = np.floor_divide(ts_us, DAY_US)
    time_of_day = ts_us - days * DAY_US
    if _in_table(days):
        month = _MONTH_OF_DAY[days]
        target = month + months
        if target.size == 0 or (
            int(target.min()) >= 0 and int(target.max()) + 1 < len(_MONTH_START)
        ):
            day_in_month = days - _MONTH_START[month]
            start = _MONTH_START[target]
            month_len = _MONTH_START[target + 1] - start
            return (start + np.minimum(day_in_month, month_len - 1)) * DAY_US + time_of_day
    date = days.astype("datetime64[D]")
    month = date.astype("datetime64[M]")
    day_in_month = (date - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    month_len = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    new_date = target.astype("datetime64[D]") + np.minimum(day_in_month, month_len - 1).astype(
        "timedelta64[D]"
    )
    return new_date.astype(np.int64) * DAY_US + time_of_day


def _month_index(ts_us: np.ndarray) -> np.ndarray:
    days = np.floor_divide(np.asarray(ts_us, dtype=np.int64), DAY_US)
    if _in_table(days):
        return _MONTH_OF_DAY[days]
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def months_between(start_us: np.ndarray, end_us: np.ndarray) -> np.ndarray:
    """Whole calendar months from start's month to end's month (a lower bound for cycle search)."""
    return _month_index(end_us) - _month_index(start_us)
