"""Small helpers shared by the per-system table builders: timestamps, landing times, filters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation.simulation import rng
from data_generation.simulation.timeutil import DAY_US, MINUTE_US, day_start_us
from data_generation.simulation.world import World


@dataclass(frozen=True)
class Day:
    """The day being generated: its date, index in the world, and [start, end) in microseconds."""

    date: dt.date
    index: int
    start_us: int
    end_us: int

    @classmethod
    def of(cls, world: World, date: dt.date) -> Day:
        start = day_start_us(date)
        return cls(date, (date - world.start).days, start, start + DAY_US)

    def shift(self, days: int) -> Day:
        """The day `days` later (negative: earlier)."""
        return Day(
            self.date + dt.timedelta(days=days),
            self.index + days,
            self.start_us + days * DAY_US,
            self.end_us + days * DAY_US,
        )

    def contains(self, ts_us: np.ndarray) -> np.ndarray:
        return (ts_us >= self.start_us) & (ts_us < self.end_us)


def nullable(series: pl.Series, valid: np.ndarray | None) -> pl.Series:
    """`series` with the entries where `valid` is False set to null."""
    if valid is None:
        return series
    return pl.select(pl.when(pl.Series(np.asarray(valid, dtype=bool))).then(series)).to_series()


def ts(values: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """int64 microseconds → a Datetime("us") Series; entries where `valid` is False become null."""
    return nullable(pl.Series(np.asarray(values, dtype=np.int64)).cast(pl.Datetime("us")), valid)


def ints(values: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    """int64 values as a Series; entries where `valid` is False become null."""
    return nullable(pl.Series(np.asarray(values, dtype=np.int64)), valid)


def strings(values: np.ndarray | list[str | None]) -> pl.Series:
    """A String Series from a numpy object/str array or a list (None → null)."""
    return pl.Series(list(values) if isinstance(values, np.ndarray) else values, dtype=pl.String)


def landed_us(
    seed: int, stream: str, keys: np.ndarray, changed_us: np.ndarray, day: Day,
    max_lag_minutes: float = 45.0,
) -> np.ndarray:  # fmt: skip
    """When the extract carrying a row landed: a few minutes after the change, never after the
    partition's day ends (the partition is the landing day), so the newest row is < 26 h old."""
    lag = (1.0 + max_lag_minutes * rng.uniform(seed, "landing:" + stream, keys)) * MINUTE_US
    return np.minimum(changed_us + lag.astype(np.int64), day.end_us - 1)


def kept_users(world: World, user_id: np.ndarray) -> np.ndarray:
    """Mask of rows to keep: a clean world (--no-dirt) drops the internal test accounts entirely."""
    if world.dirt:
        return np.ones(len(user_id), dtype=bool)
    return ~world.users.is_test[np.asarray(user_id) - 1]
