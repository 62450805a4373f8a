"""Salesforce tables of one day: accounts and opportunity versions of the sales pipeline.

Who gets a deal and how it ends is simulation/sales_pipeline.py's job (read from app_db's truth).
This module turns that schedule into CRM rows: an account per prospect (created with its first
deal, enriched with the real headcount when the deal is won) and a version of the opportunity per
stage change.

Every version of the world is laid out once per world, sorted by its change time, so a day is a
binary-searched slice of it: the cost of a day is its own rows, not the number of deals.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, kept_users, strings, ts
from data_generation.extracts.ids import base62_strings
from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS
from data_generation.simulation.pools import INDUSTRIES
from data_generation.simulation.sales_pipeline import (
    NEW_BUSINESS,
    STAGES,
    WON,
    Pipeline,
    expansions,
    new_business,
)
from data_generation.simulation.timeutil import MINUTE_US
from data_generation.simulation.world import World

LEAD_SOURCE_BY_CHANNEL = {
    "paid_search": "Paid Search",
    "paid_social": "Social Media",
    "email": "Email",
    "organic_search": "Web",
    "referral": "Partner Referral",
    "direct": "Web",
}
MAX_LANDING_LAG_MINUTES = 45.0


def account_ids(seed: int, user_id: np.ndarray) -> pl.Series:
    return base62_strings("001", rng.hash64(seed, "sf:account", user_id), 15)


def _day_slice(frame: pl.DataFrame, when_us: np.ndarray, day: Day) -> pl.DataFrame:
    """The rows changed on the day, landed a few minutes later but within the day."""
    lo, hi = np.searchsorted(when_us, [day.start_us, day.end_us])
    rows = frame.slice(int(lo), int(hi - lo))
    landed = np.minimum(rows.get_column("_landed_us").to_numpy(), day.end_us - 1)
    return rows.drop("_landed_us").with_columns(_loaded_at=ts(landed))


def _lag_us(seed: int, stream: str, keys: np.ndarray) -> np.ndarray:
    u = rng.uniform(seed, "landing:" + stream, keys)
    return ((1.0 + MAX_LANDING_LAG_MINUTES * u) * MINUTE_US).astype(np.int64)


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _account_versions(world: World) -> tuple[pl.DataFrame, np.ndarray]:
    nb = new_business(world)
    keep = kept_users(world, nb.user_id)
    # An account sales opens at the very moment its deal is won (the customer paid before sales
    # picked it up) lands once, already enriched: a second version with the same updated_at and
    # another headcount would be a conflicting duplicate no reader could order.
    won_at_open = (nb.final_stage == WON) & (nb.closed_us == nb.created_us)
    won = np.flatnonzero(keep & (nb.final_stage == WON) & ~won_at_open)
    opened = np.flatnonzero(keep)
    idx = np.concatenate([opened, won])
    is_update = np.arange(len(idx)) >= len(opened)
    enriched = is_update | won_at_open[idx]
    uid = nb.user_id[idx]
    updated = np.where(is_update, nb.closed_us[idx], nb.created_us[idx])
    users = world.users.frame[uid - 1]
    industry = rng.choice(rng.uniform(world.seed, "sf:industry", uid), np.ones(len(INDUSTRIES)))
    # Sales' first guess at headcount is rough; enrichment replaces it with the real figure.
    guess = np.maximum(
        np.round(nb.employees[idx] * (0.6 + 0.8 * rng.uniform(world.seed, "sf:guess", uid))), 1
    )
    order = np.lexsort((uid, updated))
    frame = pl.DataFrame(
        {
            "account_id": account_ids(world.seed, uid),
            "name": users["company_name"],
            "domain": users["company_domain"],
            "industry": strings(np.array(INDUSTRIES, dtype=object)[industry]),
            "employees": np.where(enriched, nb.employees[idx], guess).astype(np.int32),
            "app_user_id": pl.Series(uid).cast(pl.String),
            "created_at": ts(nb.created_us[idx]),
            "updated_at": ts(updated),
            "_landed_us": updated + _lag_us(world.seed, "accounts", uid * 2 + is_update),
        }
    )[order]
    return frame, updated[order]


def accounts_day(world: World, day: Day) -> pl.DataFrame:
    """Accounts opened on the day, and the enrichment update when their first deal is won."""
    frame, when = _account_versions(world)
    return _day_slice(frame, when, day)


def _pipeline(world: World) -> Pipeline:
    nb, ex = new_business(world), expansions(world)
    return Pipeline(
        **{
            name: np.concatenate([getattr(nb, name), getattr(ex, name)])
            for name in Pipeline.__dataclass_fields__
        }
    )


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _opportunity_versions(world: World) -> tuple[pl.DataFrame, np.ndarray]:
    """Every stage change of every opportunity: the open stages reached, then the close."""
    deals = _pipeline(world)
    deals = Pipeline(
        **{
            name: getattr(deals, name)[kept_users(world, deals.user_id)]
            for name in Pipeline.__dataclass_fields__
        }
    )
    versions = deals.last_open_stage + 2  # stages 0..last_open_stage, then the close
    deal = np.repeat(np.arange(len(deals)), versions)
    step = np.arange(len(deal)) - np.repeat(np.cumsum(versions) - versions, versions)
    closing = step == versions[deal] - 1
    # Open stages are spread evenly over the cycle; a minute per step keeps versions strictly
    # ordered even when a self-serve deal is opened and closed at once ("latest" is never a tie).
    cycle = deals.closed_us[deal] - deals.created_us[deal]
    reached = deals.last_open_stage[deal] + 1
    progress = np.where(closing, cycle, cycle * step // reached)
    when = deals.created_us[deal] + progress + step * MINUTE_US
    stage = np.where(closing, deals.final_stage[deal], step)

    uid = deals.user_id[deal]
    kind = deals.kind[deal]
    new = kind == NEW_BUSINESS
    campaign = world.users.campaign[uid - 1]
    lead_source = np.array([LEAD_SOURCE_BY_CHANNEL.get(c, "Other") for c in world.channels])
    campaign_names = np.array([c.name for c in CAMPAIGNS], dtype=object)
    order = np.lexsort((deals.key[deal], when))
    frame = pl.DataFrame(
        {
            "opportunity_id": base62_strings(
                "006", rng.hash64(world.seed, "sf:opportunity", deals.key[deal]), 15
            ),
            "account_id": account_ids(world.seed, uid),
            "name": world.users.frame["company_name"].gather(uid - 1)
            + pl.Series(np.where(new, " - New Business", " - Expansion")),
            "stage": strings(np.array(STAGES, dtype=object)[stage]),
            "amount": np.where(closing, deals.amount[deal], deals.open_amount[deal]),
            "close_date": ts(
                np.where(closing, deals.closed_us[deal], deals.expected_close_us[deal])
            ).dt.date(),
            "lead_source": strings(lead_source[campaign]),
            "campaign": strings(campaign_names[campaign]).set(pl.Series(~new), None),
            "created_at": ts(deals.created_us[deal]),
            "updated_at": ts(when),
            "_landed_us": when + _lag_us(world.seed, "opportunities", deals.key[deal] * 8 + step),
            "type": strings(np.where(new, "New Business", "Expansion").astype(object)),
        }
    )[order]
    return frame, when[order]


def opportunities_day(world: World, day: Day) -> pl.DataFrame:
    """Opportunity versions whose stage changed on the day."""
    frame, when = _opportunity_versions(world)
    return _day_slice(frame, when, day)
