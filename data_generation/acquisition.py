"""Marketing and acquisition: campaigns, daily ad spend, and how many people sign up each day.

Paid campaigns buy signups: a day's spend divided by the campaign's cost per acquisition is the
expected number of signups it brings, so ad_spend and the signup volume move together (ROI in the
marts has something real to find). Unpaid channels grow on their own. All volumes grow
exponentially from the world's start (≈3x over two years) with weekday seasonality.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np

from data_generation.errors import InvalidInputError
from data_generation.rng import day_rng
from data_generation.seeds import Seeds

GROWTH_PER_DAY = math.log(3.0) / 730.0
# Monday..Sunday: B2B signups peak early in the week and collapse at weekends.
SIGNUP_WEEKDAY = np.array([1.12, 1.16, 1.12, 1.06, 0.92, 0.55, 0.60])
SPEND_WEEKDAY = np.array([1.05, 1.05, 1.05, 1.0, 0.95, 0.8, 0.8])  # budgets pace more evenly


@dataclass(frozen=True)
class Campaign:
    """A source of signups.

    name:      utm_campaign and ad_spend.campaign; None for traffic without a campaign.
    sources:   (utm_source, utm_medium, weight): the raw UTM pairs the campaign's links carry;
               each pair must exist in the utm_channel_mapping seed, which gives the channel.
    signups_per_day: expected signups per day at scale 1 on the world's first day.
    cpa_cents: paid campaigns only: spend per signup (spend drives the volume).
    flight:    (first, last) day index for a seasonal campaign, else None (always on).
    """

    name: str | None
    sources: tuple[tuple[str, str, float], ...]
    signups_per_day: float
    cpa_cents: int | None = None
    flight: tuple[int, int] | None = None
    cpm_cents: int = 900  # cost per 1000 impressions
    ctr: float = 0.02  # clicks per impression


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        "brand_search",
        (("google", "cpc", 0.7), ("adwords", "cpc", 0.15), ("bing", "cpc", 0.15)),
        2.2,
        4_500,
        cpm_cents=2_500,
        ctr=0.06,
    ),
    Campaign(
        "generic_search",
        (("google", "cpc", 0.8), ("bing", "cpc", 0.2)),
        1.9,
        11_000,
        cpm_cents=1_800,
        ctr=0.03,
    ),
    Campaign(
        "competitor_search", (("google", "cpc", 1.0),), 0.7, 16_000, cpm_cents=2_200, ctr=0.025
    ),
    Campaign(
        "linkedin_b2b", (("linkedin", "paid_social", 1.0),), 1.2, 14_000, cpm_cents=3_000, ctr=0.008
    ),
    Campaign(
        "facebook_retargeting",
        (("facebook", "paid_social", 0.6), ("fb", "paid_social", 0.4)),
        1.0,
        7_000,
        cpm_cents=700,
        ctr=0.012,
    ),
    Campaign(
        "teamchat_launch",
        (("facebook", "paid_social", 0.5), ("linkedin", "paid_social", 0.5)),
        1.2,
        9_000,
        flight=(90, 240),
        cpm_cents=1_200,
        ctr=0.011,
    ),
    Campaign(
        "newsletter_weekly", (("newsletter", "email", 1.0),), 0.6, 1_500, cpm_cents=150, ctr=0.04
    ),
    Campaign(
        "nurture_sequence", (("hubspot", "email", 1.0),), 0.45, 2_000, cpm_cents=200, ctr=0.05
    ),
    Campaign(None, (("google", "organic", 0.8), ("bing", "organic", 0.2)), 3.6),
    Campaign("partner_program", (("partner", "referral", 1.0),), 0.5),
    Campaign(None, (("g2", "referral", 1.0),), 1.0),
    Campaign(None, (("(direct)", "(none)", 1.0),), 2.1),
)
PAID = np.array([c.cpa_cents is not None for c in CAMPAIGNS])


def campaign_channels(seeds: Seeds) -> list[str]:
    """Each campaign's channel, read from the utm_channel_mapping seed (not duplicated here)."""
    channels = []
    for campaign in CAMPAIGNS:
        found = set()
        for source, medium, _ in campaign.sources:
            if (source, medium) not in seeds.utm_channels:
                raise InvalidInputError(
                    f"utm_channel_mapping seed has no row for utm_source={source!r}, "
                    f"utm_medium={medium!r} (campaign {campaign.name}); add it to the seed"
                )
            found.add(seeds.utm_channels[(source, medium)])
        if len(found) != 1:
            raise InvalidInputError(
                f"campaign {campaign.name}: its UTM pairs map to several channels {sorted(found)} "
                "in utm_channel_mapping; one campaign must belong to one channel"
            )
        channels.append(found.pop())
    return channels


@dataclass(frozen=True)
class AcquisitionDay:
    """One day's marketing outcome, one entry per campaign (CAMPAIGNS order)."""

    signups: np.ndarray  # int64 counts
    spend_cents: np.ndarray  # int64, 0 for unpaid campaigns and paused flights
    impressions: np.ndarray
    clicks: np.ndarray


def _in_flight(day_index: int) -> np.ndarray:
    return np.array(
        [c.flight is None or c.flight[0] <= day_index <= c.flight[1] for c in CAMPAIGNS]
    )


@functools.lru_cache(maxsize=4096)
def acquisition_day(seed: int, scale: float, start: dt.date, day_index: int) -> AcquisitionDay:
    """Spend and signups of one day; depends only on (seed, scale, start, day)."""
    rng = day_rng(seed, "acquisition", day_index)
    weekday = (start + dt.timedelta(days=day_index)).weekday()
    growth = math.exp(GROWTH_PER_DAY * day_index)
    base = np.array([c.signups_per_day for c in CAMPAIGNS]) * scale * growth * _in_flight(day_index)
    noise = rng.lognormal(0.0, 0.12, size=len(CAMPAIGNS))
    cpa = np.array([c.cpa_cents or 0 for c in CAMPAIGNS], dtype=np.float64)
    spend = np.where(PAID, base * cpa * noise * SPEND_WEEKDAY[weekday], 0.0)
    # Paid volume is bought: spend / CPA, shaped by how well weekdays convert vs. weekends.
    expected = np.where(
        PAID,
        spend / np.maximum(cpa, 1.0) * SIGNUP_WEEKDAY[weekday] / SPEND_WEEKDAY[weekday],
        base * noise * SIGNUP_WEEKDAY[weekday],
    )
    signups = rng.poisson(expected).astype(np.int64)
    cpm = np.array([c.cpm_cents for c in CAMPAIGNS], dtype=np.float64)
    ctr = np.array([c.ctr for c in CAMPAIGNS])
    impressions = np.round(spend / cpm * 1000.0 * rng.lognormal(0.0, 0.05, len(CAMPAIGNS)))
    clicks = rng.binomial(impressions.astype(np.int64), ctr)
    return AcquisitionDay(
        signups=signups,
        spend_cents=np.round(spend).astype(np.int64),
        impressions=impressions.astype(np.int64),
        clicks=clicks.astype(np.int64),
    )


def signups_matrix(seed: int, scale: float, start: dt.date, last_index: int) -> np.ndarray:
    """(days, campaigns) signup counts for day indices 0..last_index."""
    return np.stack([acquisition_day(seed, scale, start, i).signups for i in range(last_index + 1)])
