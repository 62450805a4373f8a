"""app_db.usage_events of one day: what active subscribers do in the products.

Every live period is used by its team: the owner plus the teammates invited so far, at most the
period's `seat_users` (simulation/lifecycle.py; simulation/teams.py), so seat utilisation is
measurable as active users over seats. How much each person does depends on product, tier, the
period's engagement level (the same latent level that drives its churn and seat changes: the signal
is causal, not an echo of a churn already decided) and a personal factor, with quiet weekends. A
day's events come from that day's own random stream.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, kept_users, ts
from data_generation.extracts.ids import uuid_strings
from data_generation.seeds import PRODUCTS, TIERS
from data_generation.simulation import rng
from data_generation.simulation.teams import teammate_user_id
from data_generation.simulation.timeutil import DAY_US, HOUR_US, MINUTE_US
from data_generation.simulation.users import time_of_day_us
from data_generation.simulation.world import World

EVENTS_PER_ACTIVE_DAY = (0.8, 1.3, 1.0)  # cloudsync, teamchat, datahub, per active person-day
TIER_FACTOR = (0.8, 1.0, 1.3)
ACTIVE_SHARE_WEEKDAY, ACTIVE_SHARE_WEEKEND = 0.25, 0.06  # per person (teams are ~6 people)
ENGAGEMENT_USAGE_SD = 1.0  # intensity = exp(sd x z - sd²/2): lognormal, mean 1 over periods
PERSONAL_USAGE_SD = 0.2  # each person's own level around their team's
LATE_SHARE = 0.02  # dirt: events whose batch arrives in the next day's partition
SESSION_HOURS = np.array(
    [0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 2.0, 3.5, 4.5, 4.8, 4.6, 4.0, 4.4, 4.7, 4.6, 4.2,
     3.5, 2.5, 1.8, 1.3, 1.0, 0.7, 0.5]
)  # fmt: skip


@dataclass(frozen=True)
class FeatureTable:
    """Every feature of the seed once (`names`), and for each (product, tier) the ones allowed
    (min_tier <= tier) with their usage weights, as indices into `names`."""

    names: pl.Series
    allowed: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def feature_table(world: World) -> FeatureTable:
    f = world.seeds.features.with_columns(
        product_index=pl.col("product").replace_strict({p: i for i, p in enumerate(PRODUCTS)}),
        tier_index=pl.col("min_tier").replace_strict({t: i for i, t in enumerate(TIERS)}),
    )
    allowed = {}
    for p in range(len(PRODUCTS)):
        for t in range(len(TIERS)):
            rows = np.flatnonzero(
                (f["product_index"].to_numpy() == p) & (f["tier_index"].to_numpy() <= t)
            )
            allowed[(p, t)] = (rows, f["usage_weight"].to_numpy()[rows])
    return FeatureTable(names=f["feature"], allowed=allowed)


@dataclass(frozen=True)
class DayEvents:
    """The usage events that happened on one day (numpy columns, in time order)."""

    id_hi: np.ndarray
    id_lo: np.ndarray
    user_id: np.ndarray
    product: np.ndarray  # index into PRODUCTS
    feature: np.ndarray  # index into FeatureTable.names
    occurred_us: np.ndarray
    on_time_landing_us: np.ndarray  # when it lands if on time (in the same day's partition)
    late_landing_us: np.ndarray  # when it lands if its batch is late (next day's partition)
    late: np.ndarray


@dataclass(frozen=True)
class UsageLevels:
    """Day-independent usage intensities, drawn once per world instead of once per day: each
    period's engagement factor, and each person's own factor (owners by user_id - 1, teammates by
    their row in world.teammates)."""

    period: np.ndarray
    owner: np.ndarray
    teammate: np.ndarray


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def usage_levels(world: World) -> UsageLevels:
    sd, personal_sd = ENGAGEMENT_USAGE_SD, PERSONAL_USAGE_SD

    def personal(user_id: np.ndarray) -> np.ndarray:
        z = rng.normal(world.seed, "usage:person", user_id)
        return np.exp(personal_sd * z - personal_sd**2 / 2)

    return UsageLevels(
        period=np.exp(sd * world.periods.engagement - sd**2 / 2),
        owner=personal(world.users.user_id),
        # A spare last entry: row -1 is valid even in a world without teammates.
        teammate=np.append(personal(world.teammates.user_id), 1.0),
    )


def time_order(occurred_us: np.ndarray, day: Day) -> np.ndarray:
    """The permutation that sorts a day's event times, ties in draw order: the same as a stable
    argsort, but one plain sort of unique keys (offset in the day, then draw index) is faster."""
    n = len(occurred_us)
    shift = max(n.bit_length(), 1)
    assert (DAY_US << shift) < 1 << 63, "a day's events must fit the sort key"
    key = ((occurred_us - day.start_us) << shift) | np.arange(n, dtype=np.int64)
    return np.sort(key) & ((1 << shift) - 1)


@functools.lru_cache(maxsize=4)
def events_on(world: World, day: Day) -> DayEvents:
    """All usage events that happened on `day`, with a `late` flag and their landing delay."""
    p = world.periods
    live = np.flatnonzero(
        (p.started_us < day.end_us) & (p.ended_us > day.start_us) & kept_users(world, p.user_id)
    )
    # One period per chain: on a change day, the one that opened last.
    chain = p.chain_id[live]
    live = live[np.r_[chain[1:] != chain[:-1], True]] if len(live) else live
    owner = p.user_id[live]
    # The team using each period today: the owner (slot 0) and teammates 1..n-1 invited before
    # the day, never more than the period's seat users.
    first_teammate, invited_end = world.teammates.invited_span(owner, day.start_us)
    team = 1 + np.minimum(invited_end - first_teammate, p.seat_users[live] - 1)
    seat = np.repeat(np.arange(len(live)), team)
    slot = np.arange(len(seat)) - np.repeat(np.cumsum(team) - team, team)
    live = live[seat]
    owner = owner[seat]
    is_owner = slot == 0
    user = np.where(is_owner, owner, teammate_user_id(owner, slot))
    product = p.product[live]
    tier = p.tier[live]
    levels = usage_levels(world)
    # Teammate k of an owner is row first_teammate + k - 1 (for the owner's own slot that row is
    # a neighbour's or the spare -1: unused, the owner's level comes from levels.owner).
    teammate_row = first_teammate[seat] + slot - 1
    personal = np.where(is_owner, levels.owner[owner - 1], levels.teammate[teammate_row])
    engagement = levels.period[live] * personal
    weekend = day.date.weekday() >= 5
    share = (ACTIVE_SHARE_WEEKEND if weekend else ACTIVE_SHARE_WEEKDAY) * np.minimum(
        engagement, 1.6
    )
    rate = np.take(EVENTS_PER_ACTIVE_DAY, product) * np.take(TIER_FACTOR, tier) * engagement

    g = rng.day_rng(world.seed, "usage", day.index)
    active = g.random(len(live)) < share
    counts = g.poisson(rate) * active
    rows = np.repeat(np.arange(len(live)), counts)
    n = len(rows)
    session = day.start_us + time_of_day_us(g.random(len(live)), g.random(len(live)), SESSION_HOURS)
    occurred = np.minimum(
        session[rows] + (g.random(n) * 2 * HOUR_US).astype(np.int64), day.end_us - 1
    )
    # A period that opens or ends during the day is used only while it is live: squeeze the
    # day's timeline into [opened, ended) so no event falls outside its subscription.
    opened = np.maximum(p.started_us[live], day.start_us)[rows]
    closed = np.minimum(p.ended_us[live], day.end_us)[rows]
    partial = (opened > day.start_us) | (closed < day.end_us)
    share_of_day = (occurred - day.start_us) / DAY_US
    squeezed = opened + (share_of_day * (closed - opened)).astype(np.int64)
    occurred = np.where(partial, squeezed, occurred)
    features = feature_table(world)
    feature = np.empty(n, dtype=np.int64)
    u_feature = g.random(n)
    group = product[rows] * len(TIERS) + tier[rows]
    for (prod, t), (candidates, weights) in features.allowed.items():
        mask = group == prod * len(TIERS) + t
        feature[mask] = candidates[rng.choice(u_feature[mask], weights)]
    ids = g.integers(0, np.iinfo(np.uint64).max, size=(n, 2), dtype=np.uint64, endpoint=True)
    late = g.random(n) < LATE_SHARE
    lag = ((1 + 20 * g.random(n)) * MINUTE_US).astype(np.int64)
    late_lag = ((30 + 240 * g.random(n)) * MINUTE_US).astype(np.int64)
    order = time_order(occurred, day)  # rows in time order, ties in draw order
    return DayEvents(
        id_hi=ids[order, 0],
        id_lo=ids[order, 1],
        user_id=user[rows][order],
        product=product[rows][order],
        feature=feature[order],
        occurred_us=occurred[order],
        on_time_landing_us=np.minimum(occurred + lag, day.end_us - 1)[order],
        late_landing_us=(day.end_us + late_lag)[order],
        late=late[order],
    )


def usage_events_day(world: World, day: Day) -> pl.DataFrame:
    """The day's partition: its own on-time events plus (with dirt) yesterday's late batch."""
    today = events_on(world, day)
    if not world.dirt:
        parts = [(today, np.ones(len(today.late), dtype=bool), today.on_time_landing_us)]
    else:
        parts = [(today, ~today.late, today.on_time_landing_us)]
        if day.index > 0:
            yesterday = events_on(world, day.shift(-1))
            parts.append((yesterday, yesterday.late, yesterday.late_landing_us))

    def stack(field: str) -> np.ndarray:
        return np.concatenate([getattr(events, field)[keep] for events, keep, _ in parts])

    landed = np.concatenate([landing[keep] for _, keep, landing in parts])
    features = feature_table(world)
    return pl.DataFrame(
        {
            "event_id": uuid_strings(stack("id_hi"), stack("id_lo")),
            "user_id": stack("user_id"),
            "product": pl.Series(PRODUCTS).gather(stack("product")),
            "feature": features.names.gather(stack("feature")),
            "occurred_at": ts(stack("occurred_us")),
            "_loaded_at": ts(landed),
        }
    )
