"""The simulated world up to a horizon: users and subscription periods, built once and cached.

Everything in here is a closed-form schedule (see lifecycle.py): a day's tables are filters over
it plus that day's own random stream. The world is built for signups up to `horizon` days after
the start; entities never depend on the horizon, so any horizon ≥ the day asked gives the same day.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_generation.config import WorldConfig
from data_generation.seeds import Seeds, load_seeds
from data_generation.simulation.acquisition import CAMPAIGNS, MAX_SIGNUP_LAG_DAYS, campaign_channels
from data_generation.simulation.journeys import Journeys, build_journeys
from data_generation.simulation.lifecycle import NEVER, Periods, simulate_periods
from data_generation.simulation.teams import Teammates, build_teammates
from data_generation.simulation.timeutil import DAY_US, day_start_us
from data_generation.simulation.users import Users, build_users

# Visitors browse up to two weeks before signing up (acquisition.SIGNUP_LAG_WEIGHTS), so a day's
# Segment tracks need the users who sign up in the following two weeks.
LOOKAHEAD_DAYS = MAX_SIGNUP_LAG_DAYS + 1
PERIOD_MARGIN_DAYS = 90


@dataclass(frozen=True, eq=False)  # identity hash: caches key on the world object
class World:
    seed: int
    scale: float
    start: dt.date
    dirt: bool
    horizon: int  # last signup day index simulated
    seeds: Seeds
    channels: list[str]  # channel of each campaign
    users: Users
    periods: Periods

    @functools.cached_property
    def first_paid_us(self) -> np.ndarray:
        """Per user (indexed user_id - 1): when they first paid, or NEVER."""
        first = np.full(len(self.users.user_id), NEVER, dtype=np.int64)
        np.minimum.at(first, self.periods.user_id - 1, self.periods.paid_start_us)
        return first

    @functools.cached_property
    def journeys(self) -> Journeys:
        """Every user's pre-signup sessions (journeys.py), sorted by time."""
        return build_journeys(self.seed, self.users)

    @functools.cached_property
    def journey_visits(self) -> np.ndarray:
        """(day index 0..horizon, campaign): landing page views of (kept) users' journeys.

        A campaign's visits of a day (acquisition_day) are these plus the visitors who bounce,
        so the bounces are the difference (extracts/segment.py) and UTM visits stay tied to ad
        clicks.
        """
        j = self.journeys
        day = (j.ts_us - day_start_us(self.start)) // DAY_US
        kept = (day >= 0) & (day <= self.horizon)
        if not self.dirt:
            kept &= ~self.users.is_test[j.user_index]
        out = np.zeros((self.horizon + 1, len(CAMPAIGNS)), dtype=np.int64)
        np.add.at(out, (day[kept], j.campaign[kept]), 1)
        return out

    @functools.cached_property
    def activation_order(self) -> np.ndarray:
        """User indices sorted by activation time (never-activated users last)."""
        return np.argsort(self.users.activated_us, kind="stable")

    @functools.cached_property
    def teammates(self) -> Teammates:
        """The users the owners invite to fill their seats (see teams.py)."""
        return build_teammates(self.seed, self.users, self.periods)


@functools.lru_cache(maxsize=4)
def build_world(
    seed: int, scale: float, start: dt.date, dirt: bool, seeds_dir: Path, horizon: int
) -> World:
    seeds = load_seeds(seeds_dir)
    channels = campaign_channels(seeds)
    users = build_users(seed, scale, start, horizon)
    # Sales opens an account up to 60 days before a large period starts, so periods opening a
    # little after the horizon still matter for the horizon's last days.
    until_us = day_start_us(start + dt.timedelta(days=horizon + PERIOD_MARGIN_DAYS))
    periods = simulate_periods(seed, users, seeds, channels, until_us)
    return World(seed, scale, start, dirt, horizon, seeds, channels, users, periods)


def world_for(cfg: WorldConfig, last_day: dt.date) -> World:
    """The (cached) world able to produce every day up to last_day for this config.

    Horizons are rounded up to 64-day blocks so consecutive single-day calls share one build.
    """
    horizon = (cfg.day_index(last_day) + LOOKAHEAD_DAYS) // 64 * 64 + 63
    return build_world(cfg.seed, float(cfg.scale), cfg.start, cfg.dirt, cfg.seeds_dir, horizon)
