"""Salesforce tables of one day: accounts and opportunities for large-seat customers.

Sales works a lead before the big subscription starts: when a user's first period with at least
LARGE_SEATS seats is about to open, an account exists (created up to weeks earlier, never before the
user signed up) with a new-business
opportunity that walks through the stages and closes won on the day the period's paid start
happens. Some accounts later get an expansion opportunity that is won or lost. Every stage change
is a new version of the opportunity row.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation import rng
from data_generation.acquisition import CAMPAIGNS
from data_generation.frames import Day, kept_users, landed_us, strings, ts
from data_generation.ids import base62_strings
from data_generation.lifecycle import NEVER
from data_generation.pools import INDUSTRIES
from data_generation.timeutil import DAY_US, MINUTE_US
from data_generation.world import World

LARGE_SEATS = 25
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
STAGE_PROGRESS = (0.0, 0.25, 0.55, 0.8)  # share of the sales cycle at which each open stage starts
EXPANSION_SHARE, EXPANSION_WIN_SHARE = 0.4, 0.45
LEAD_SOURCE_BY_CHANNEL = {
    "paid_search": "Paid Search",
    "paid_social": "Social Media",
    "email": "Email",
    "organic_search": "Web",
    "referral": "Partner Referral",
    "direct": "Web",
}


@dataclass(frozen=True)
class Deals:
    user_id: np.ndarray
    created_us: np.ndarray  # account and first opportunity
    won_us: np.ndarray  # first large period's paid start
    amount: np.ndarray  # annual contract value, cents
    employees: np.ndarray


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def deals(world: World) -> Deals:
    p = world.periods
    big = (p.quantity >= LARGE_SEATS) & (p.paid_start_us < NEVER)
    won = np.full(len(world.users.user_id), NEVER, dtype=np.int64)
    np.minimum.at(won, p.user_id[big] - 1, p.paid_start_us[big])
    user_id = np.flatnonzero(won < NEVER) + 1
    won = won[user_id - 1]
    first_big = np.flatnonzero(big)
    first_big = first_big[np.isin(p.paid_start_us[first_big], won)]
    first_big = first_big[np.unique(p.user_id[first_big], return_index=True)[1]]
    annual = p.price_cents[first_big] * p.quantity[first_big] * 12 // p.billing_months[first_big]
    lead_days = 14 + 46 * rng.uniform(world.seed, "sf:lead", user_id)
    employees = p.quantity[first_big] * (3 + 17 * rng.uniform(world.seed, "sf:employees", user_id))
    # Product-led sales: the rep opens the account at most lead_days before the deal closes, but
    # never before the signup (a self-serve big purchase is logged the moment it happens).
    signup = world.users.signup_us[user_id - 1]
    created = np.maximum(won - (lead_days * DAY_US).astype(np.int64), np.minimum(signup, won))
    return Deals(
        user_id=user_id,
        created_us=created,
        won_us=won,
        amount=annual.astype(np.int64),
        employees=np.round(employees).astype(np.int64),
    )


def account_ids(seed: int, user_id: np.ndarray) -> pl.Series:
    return base62_strings("001", rng.hash64(seed, "sf:account", user_id), 15)


def accounts_day(world: World, day: Day) -> pl.DataFrame:
    """Accounts created on the day, and the enrichment update when the first deal closes."""
    d = deals(world)
    keep = kept_users(world, d.user_id)
    created = np.flatnonzero(day.contains(d.created_us) & keep)
    enriched = np.flatnonzero(day.contains(d.won_us) & keep)
    idx = np.concatenate([created, enriched])
    is_update = np.arange(len(idx)) >= len(created)
    updated = np.where(is_update, d.won_us[idx], d.created_us[idx])
    users = world.users.frame[d.user_id[idx] - 1]
    industry = rng.choice(
        rng.uniform(world.seed, "sf:industry", d.user_id[idx]), np.ones(len(INDUSTRIES))
    )
    # Sales' first guess at headcount is rough; enrichment replaces it with the real figure.
    guess = np.round(
        d.employees[idx] * (0.6 + 0.8 * rng.uniform(world.seed, "sf:guess", d.user_id[idx]))
    )
    return pl.DataFrame(
        {
            "account_id": account_ids(world.seed, d.user_id[idx]),
            "name": users["company_name"],
            "domain": users["company_domain"],
            "industry": strings(np.array(INDUSTRIES, dtype=object)[industry]),
            "employees": np.where(is_update, d.employees[idx], guess).astype(np.int32),
            "app_user_id": pl.Series(d.user_id[idx]).cast(pl.String),
            "created_at": ts(d.created_us[idx]),
            "updated_at": ts(updated),
            "_loaded_at": ts(
                landed_us(world.seed, "accounts", d.user_id[idx] * 2 + is_update, updated, day)
            ),
        }
    )


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _opportunity_schedule(world: World) -> tuple:
    """Every opportunity's dates, stages and amounts: day-independent hashes of the deal, drawn
    once per world instead of once per generated day."""
    d = deals(world)
    uid = d.user_id
    u_exp = rng.uniform(world.seed, "sf:expansion", uid)
    exp_created = d.won_us + (
        (60 + 180 * rng.uniform(world.seed, "sf:exp_at", uid)) * DAY_US
    ).astype(np.int64)
    exp_closed = exp_created + (
        (20 + 70 * rng.uniform(world.seed, "sf:exp_len", uid)) * DAY_US
    ).astype(np.int64)
    exp_won = rng.uniform(world.seed, "sf:exp_won", uid) < EXPANSION_WIN_SHARE
    has_exp = u_exp < EXPANSION_SHARE
    # (opportunity number, created, closed, final stage, amount, present?)
    return (
        (0, d.created_us, d.won_us, np.full(len(uid), 4), d.amount, np.ones(len(uid), dtype=bool)),
        (1, exp_created, exp_closed, np.where(exp_won, 4, 5), d.amount * 3 // 10, has_exp),
    ), kept_users(world, uid)


def opportunities_day(world: World, day: Day) -> pl.DataFrame:
    """Opportunity versions whose stage changed on the day."""
    users = world.users
    uid = deals(world).user_id
    opportunities, keep = _opportunity_schedule(world)
    frames = []
    campaign_names = np.array([c.name for c in CAMPAIGNS], dtype=object)
    channel_names = np.array(world.channels, dtype=object)
    for number, created, closed, final_stage, amount, present in opportunities:
        for stage_index in range(5):
            # A minute per stage keeps the versions strictly ordered even when sales closes a
            # self-serve deal the moment it is opened, so "latest version" is never a tie.
            if stage_index < 4:
                progress = ((closed - created) * STAGE_PROGRESS[stage_index]).astype(np.int64)
                stage = np.full(len(uid), stage_index)
            else:
                progress, stage = closed - created, final_stage
            when = created + progress + stage_index * MINUTE_US
            idx = np.flatnonzero(present & keep & day.contains(when))
            if not len(idx):
                continue
            campaign = users.campaign[uid[idx] - 1]
            frames.append(
                pl.DataFrame(
                    {
                        "opportunity_id": base62_strings(
                            "006", rng.hash64(world.seed, "sf:opportunity", uid[idx], number), 15
                        ),
                        "account_id": account_ids(world.seed, uid[idx]),
                        "name": users.frame["company_name"].gather(uid[idx] - 1)
                        + (" - New Business" if number == 0 else " - Expansion"),
                        "stage": strings(np.array(STAGES, dtype=object)[stage[idx]]),
                        "amount": amount[idx],
                        "close_date": ts(closed[idx]).dt.date(),
                        "lead_source": strings(
                            [
                                LEAD_SOURCE_BY_CHANNEL.get(c, "Other")
                                for c in channel_names[campaign]
                            ]
                        ),
                        "campaign": strings(
                            campaign_names[campaign] if number == 0 else [None] * len(idx)
                        ),
                        "created_at": ts(created[idx]),
                        "updated_at": ts(when[idx]),
                        "_loaded_at": ts(
                            landed_us(
                                world.seed,
                                f"opportunities{number}{stage_index}",
                                uid[idx],
                                when[idx],
                                day,
                            )
                        ),
                    }
                )
            )
    if not frames:
        return pl.DataFrame()  # an empty day; the writer fills in the contract's columns
    return pl.concat(frames).sort("updated_at", "opportunity_id")
