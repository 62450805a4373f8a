"""Invited teammates: the people besides the owner who fill an account's seats.

The user who signs up owns the customer account (its subscriptions, Stripe customer and CRM
account). A period's team is `seat_users` people (lifecycle.py: seat utilisation x seats): the
owner plus `seat_users - 1` teammates. When a period needs more teammates than the account ever had
before, the owner invites the missing ones during that period (an exponential delay, mean
INVITE_MEAN_DAYS, at most half-way through the period). Teammates stay users after a seat shrink
(they just stop using the product: extracts/app_db_usage.py caps a day's users at the period's
team size).

Ids: teammate k (k = 1, 2, … in invitation order) of owner o is
    user_id = TEAMMATE_ID_BASE + o x TEAMMATE_SLOTS + k,
a range no owner id reaches (owners are 1..n in signup order; n < 10^9 at the largest scale), so
every `users.user_id - 1` index over owners keeps working and a teammate's owner is
(user_id - TEAMMATE_ID_BASE) // TEAMMATE_SLOTS. Ranking invitations by time within the owner
keeps a teammate's id stable whatever horizon is simulated: periods opening later invite later.

Teammates are not signups: no Segment track or identify, no UTM, no Stripe customer. They share
their owner's company, company domain and country; app_db.users.account_owner_id names the owner.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation.simulation import rng
from data_generation.simulation.lifecycle import Periods
from data_generation.simulation.pools import build_pools
from data_generation.simulation.timeutil import DAY_US, MINUTE_US
from data_generation.simulation.users import Users

TEAMMATE_ID_BASE = 1_000_000_000_000
TEAMMATE_SLOTS = 1_000  # invitation ordinals 1..999 per owner; larger teams stop at 999
INVITE_MEAN_DAYS = 12.0


@dataclass(frozen=True, eq=False)
class Teammates:
    """Every invited teammate, sorted by (owner, invitation time); numpy columns."""

    seed: int
    owner_id: np.ndarray
    ordinal: np.ndarray  # k: 1 = the owner's first invite
    invited_us: np.ndarray

    @property
    def user_id(self) -> np.ndarray:
        return teammate_user_id(self.owner_id, self.ordinal)

    def invited_span(self, owner_id: np.ndarray, at_us: int) -> tuple[np.ndarray, np.ndarray]:
        """[first, before): the rows of each owner's teammates invited before `at_us` (a whole
        minute), so row first + k - 1 is teammate k. One binary search on the (owner, invitation
        minute) key, since times ascend within an owner."""
        owner_id = np.asarray(owner_id, dtype=np.int64)
        first = np.searchsorted(self._key, owner_id << 32)
        before = np.searchsorted(self._key, (owner_id << 32) + at_us // MINUTE_US)
        return first, before

    def invited_between(self, start_us: int, end_us: int) -> np.ndarray:
        """Indices of the teammates invited in [start_us, end_us), in time order."""
        times, order = self._by_time
        lo, hi = np.searchsorted(times, [start_us, end_us])
        return order[lo:hi]

    @functools.cached_property
    def _by_time(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(self.invited_us, kind="stable")
        return self.invited_us[order], order

    @functools.cached_property
    def _key(self) -> np.ndarray:
        return (self.owner_id << 32) + self.invited_us // MINUTE_US

    @functools.cached_property
    def frame(self) -> pl.DataFrame:
        """Profiles (user_id, first, last, digits, owner index): names hashed from the user_id."""
        pools = build_pools(self.seed)
        uid = self.user_id

        def u(stream: str) -> np.ndarray:
            return rng.uniform(self.seed, "teammate:" + stream, uid)

        return pl.DataFrame(
            {
                "user_id": uid,
                "account_owner_id": self.owner_id,
                "first": pools.first_names.gather(
                    rng.choice(u("first"), np.ones(len(pools.first_names)))
                ),
                "last": pools.last_names.gather(
                    rng.choice(u("last"), np.ones(len(pools.last_names)))
                ),
                "invited_us": self.invited_us,
            }
        )


def teammate_user_id(owner_id: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    return TEAMMATE_ID_BASE + np.asarray(owner_id) * TEAMMATE_SLOTS + np.asarray(ordinal)


def build_teammates(seed: int, users: Users, periods: Periods) -> Teammates:
    """Who is invited when: per owner, each period inviting the teammates beyond the most any
    earlier period of the account needed (vectorised; one pass over the periods)."""
    p = periods
    owner = p.user_id
    needed = np.minimum(p.seat_users - 1, TEAMMATE_SLOTS - 1)
    needed = np.where(users.is_test[owner - 1], 0, needed)  # QA accounts invite nobody
    order = np.lexsort((p.started_us, owner))
    owner_sorted, needed_sorted = owner[order], needed[order]
    group_start = np.r_[True, owner_sorted[1:] != owner_sorted[:-1]]
    # Running maximum within each owner: offset every owner's values above the previous owner's.
    group = np.cumsum(group_start)
    offset = group * TEAMMATE_SLOTS
    running = np.maximum.accumulate(needed_sorted + offset) - offset
    before = np.where(group_start, 0, np.r_[0, running[:-1]])
    new = np.maximum(needed_sorted - before, 0)
    period = np.repeat(order, new)
    within = np.arange(new.sum()) - np.repeat(np.cumsum(new) - new, new)
    slot = np.repeat(before, new) + 1 + within  # which seat of the account the invite fills
    owner_id = owner[period]
    delay_days = rng.exponential(
        rng.uniform(seed, "teammate:invite", owner_id, slot), INVITE_MEAN_DAYS
    )
    span = p.ended_us[period] - p.started_us[period]
    invited = p.started_us[period] + np.minimum((delay_days * DAY_US).astype(np.int64), span // 2)
    by_time = np.lexsort((slot, invited, owner_id))
    owner_id, invited = owner_id[by_time], invited[by_time]
    first_of_owner = np.r_[True, owner_id[1:] != owner_id[:-1]]
    starts = np.flatnonzero(first_of_owner)
    ordinal = (
        np.arange(len(owner_id)) - np.repeat(starts, np.diff(np.r_[starts, len(owner_id)])) + 1
    )
    return Teammates(
        seed=seed, owner_id=owner_id, ordinal=ordinal.astype(np.int64), invited_us=invited
    )
