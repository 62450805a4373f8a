"""marketing.ad_spend of one day: one row per paid campaign running that day."""

from __future__ import annotations

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, strings, ts
from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS, PAID, acquisition_day
from data_generation.simulation.timeutil import HOUR_US, MINUTE_US
from data_generation.simulation.world import World


def ad_spend_day(world: World, day: Day) -> pl.DataFrame:
    """The ad platforms' daily report: lands late in the evening of the day it covers."""
    acq = acquisition_day(world.seed, world.scale, world.start, day.index)
    idx = np.flatnonzero(PAID & (acq.spend_cents > 0))
    lag = (rng.uniform(world.seed, "ad_spend:landing", day.index, idx) * 25 * MINUTE_US).astype(
        np.int64
    )
    return pl.DataFrame(
        {
            "spend_date": pl.Series([day.date] * len(idx), dtype=pl.Date),
            "channel": strings([world.channels[i] for i in idx]),
            "campaign": strings([CAMPAIGNS[i].name for i in idx]),
            "impressions": acq.impressions[idx],
            "clicks": acq.clicks[idx],
            "spend_cents": acq.spend_cents[idx],
            "_loaded_at": ts(day.start_us + 23 * HOUR_US + 30 * MINUTE_US + lag),
        }
    )
