"""Marketing and acquisition: campaigns, daily ad spend, the clicks it buys, the visits they
become, and who of those visitors signs up when.

The chain a marketer would recognise, one day at a time (each day has its own random stream):

- Paid campaigns spend a daily budget (growing ≈3x over two years, with weekday pacing and a
  budget that is re-set every BUDGET_PERIOD_DAYS). Spend buys impressions at the campaign's CPM
  and clicks along a Hill saturation curve: the first dollars buy clicks at the campaign's base
  CTR, later ones ever fewer (the audience is finite, frequency rises), so doubling a budget
  never doubles its clicks and CPC rises with spend.
- A share of the clicks (`land_share`, 70-95 %: ad blockers, consent banners, people who close the
  tab before the page loads) lands as a Segment page view carrying the campaign's UTM. Unpaid
  channels (organic, referral, direct) get visits of their own, growing with the market.
- Each visit converts to a signup with the campaign's `visit_signup_rate` (weekday-shaped), but
  not on the day of the visit: the lag is drawn from SIGNUP_LAG_WEIGHTS (0-13 days). So spend
  today drives signups over the following two weeks (an adstock whose decay is that lag curve),
  and ROAS/CAC by channel come out of clicks, landing, conversion and lag, not a CPA constant.

Everything a day produces depends only on (seed, scale, start, day), so ad_spend of a day is the
same whatever range is generated, and signups on day t depend only on days t-13..t.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np

from data_generation.errors import InvalidInputError
from data_generation.seeds import Seeds
from data_generation.simulation import rng
from data_generation.simulation.rng import day_rng

GROWTH_PER_DAY = math.log(3.0) / 730.0
# Monday..Sunday: B2B signups peak early in the week and collapse at weekends.
SIGNUP_WEEKDAY = np.array([1.12, 1.16, 1.12, 1.06, 0.92, 0.55, 0.60])
SPEND_WEEKDAY = np.array([1.05, 1.05, 1.05, 1.0, 0.95, 0.8, 0.8])  # budgets pace more evenly
# Days between a visitor's first (converting) visit and the signup: the adstock decay of every
# campaign (a visit today keeps producing signups for two weeks).
SIGNUP_LAG_WEIGHTS = np.array(
    [0.40, 0.14, 0.09, 0.07, 0.055, 0.045, 0.04, 0.035, 0.03, 0.025, 0.02, 0.02, 0.015, 0.015]
)
MAX_SIGNUP_LAG_DAYS = len(SIGNUP_LAG_WEIGHTS) - 1
# A visitor who would come back on a Saturday or Sunday mostly waits for the working week: the
# lag weights of days that land on a weekend are scaled down (and the rest renormalised).
WEEKEND_RETURN_FACTOR = 0.4
BUDGET_PERIOD_DAYS = 28  # marketers re-set a campaign's budget every four weeks
BUDGET_SD = 0.35  # log-sd of those budget re-sets: spend varies enough to show saturation


@dataclass(frozen=True)
class Campaign:
    """A source of visits and signups.

    name:      utm_campaign and ad_spend.campaign; None for traffic without a campaign.
    sources:   (utm_source, utm_medium, weight): the raw UTM pairs the campaign's links carry;
               each pair must exist in the utm_channel_mapping seed, which gives the channel.
    signups_per_day: expected signups per day at scale 1 on the world's first day (at the
               reference budget for a paid campaign): calibrates visits = signups / rate.
    visit_signup_rate: share of the campaign's visits that sign up (within 14 days).
    activation_rate: share of its signups that activate a workspace (funnel.py).
    budget_cents: paid campaigns only: the reference daily budget at scale 1 on day 0.
    land_share: share of clicks that land as a Segment page view with the campaign's UTM.
    saturation: where the reference budget sits on the Hill curve, spend / half-saturation
               spend (0.3: nearly linear, 2: deep in diminishing returns).
    hill_shape: the Hill exponent (>1: an S-curve with a slow start, <1: concave throughout). With
               a shape n > 1 keep saturation^n > n - 1 (the reference budget past the curve's
               inflection), or more budget would make clicks cheaper, not dearer.
    flight:    (first, last) day index for a seasonal campaign, else None (always on).
    cpm_cents: cost per 1000 impressions.
    """

    name: str | None
    sources: tuple[tuple[str, str, float], ...]
    signups_per_day: float
    visit_signup_rate: float
    activation_rate: float
    budget_cents: int | None = None
    land_share: float = 1.0
    saturation: float = 1.0
    hill_shape: float = 1.0
    flight: tuple[int, int] | None = None
    cpm_cents: int = 900


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        "brand_search",
        (("google", "cpc", 0.7), ("adwords", "cpc", 0.15), ("bing", "cpc", 0.15)),
        2.2, 0.12, 0.72, budget_cents=9_900, land_share=0.90, saturation=1.6, cpm_cents=15_000,
    ),
    Campaign(
        "generic_search", (("google", "cpc", 0.8), ("bing", "cpc", 0.2)),
        1.9, 0.05, 0.60, budget_cents=20_900, land_share=0.85, saturation=0.5, cpm_cents=8_500,
    ),
    Campaign(
        "competitor_search", (("google", "cpc", 1.0),),
        0.7, 0.04, 0.62, budget_cents=11_200, land_share=0.82, saturation=0.8, cpm_cents=10_000,
    ),
    Campaign(
        "linkedin_b2b", (("linkedin", "paid_social", 1.0),),
        1.2, 0.035, 0.55, budget_cents=16_800, land_share=0.72, saturation=0.9, hill_shape=1.3,
        cpm_cents=3_000,
    ),
    Campaign(
        "facebook_retargeting", (("facebook", "paid_social", 0.6), ("fb", "paid_social", 0.4)),
        1.0, 0.06, 0.50, budget_cents=7_000, land_share=0.75, saturation=1.2, cpm_cents=2_000,
    ),
    Campaign(
        "teamchat_launch", (("facebook", "paid_social", 0.5), ("linkedin", "paid_social", 0.5)),
        1.2, 0.04, 0.58, budget_cents=10_800, land_share=0.78, saturation=1.0, hill_shape=1.2,
        flight=(90, 240), cpm_cents=1_500,
    ),
    Campaign(
        "newsletter_weekly", (("newsletter", "email", 1.0),),
        0.6, 0.08, 0.70, budget_cents=900, land_share=0.92, saturation=2.0, cpm_cents=1_500,
    ),
    Campaign(
        "nurture_sequence", (("hubspot", "email", 1.0),),
        0.45, 0.09, 0.70, budget_cents=900, land_share=0.93, saturation=2.0, cpm_cents=6_000,
    ),
    Campaign(None, (("google", "organic", 0.8), ("bing", "organic", 0.2)), 3.6, 0.05, 0.65),
    Campaign("partner_program", (("partner", "referral", 1.0),), 0.5, 0.12, 0.78),
    Campaign(None, (("g2", "referral", 1.0),), 1.0, 0.09, 0.70),
    Campaign(None, (("(direct)", "(none)", 1.0),), 2.1, 0.07, 0.68),
)  # fmt: skip
PAID = np.array([c.budget_cents is not None for c in CAMPAIGNS])
_RATE = np.array([c.visit_signup_rate for c in CAMPAIGNS])
_LAND = np.array([c.land_share for c in CAMPAIGNS])
_BUDGET = np.array([c.budget_cents or 0 for c in CAMPAIGNS], dtype=np.float64)
_SATURATION = np.array([c.saturation for c in CAMPAIGNS])
_HILL = np.array([c.hill_shape for c in CAMPAIGNS])
_CPM = np.array([c.cpm_cents for c in CAMPAIGNS], dtype=np.float64)
# Visits per day at scale 1 on day 0 (paid: at the reference budget) that yield signups_per_day.
_BASE_VISITS = np.array([c.signups_per_day / c.visit_signup_rate for c in CAMPAIGNS])
# Paid: clicks at the reference budget, and the Hill curve's ceiling that puts them there.
_REF_CLICKS = np.where(PAID, _BASE_VISITS / _LAND, 0.0)
_MAX_CLICKS = _REF_CLICKS * (1.0 + _SATURATION**_HILL) / _SATURATION**_HILL


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

    spend_cents: np.ndarray  # int64, 0 for unpaid campaigns and paused flights
    impressions: np.ndarray
    clicks: np.ndarray
    visits: np.ndarray  # landed page views with the campaign's UTM (all visits if unpaid)
    converters: np.ndarray  # (campaigns, lag): visitors of today who sign up `lag` days later


def _in_flight(day_index: int) -> np.ndarray:
    return np.array(
        [c.flight is None or c.flight[0] <= day_index <= c.flight[1] for c in CAMPAIGNS]
    )


def hill_clicks(spend: np.ndarray, reference_spend: np.ndarray, max_clicks: np.ndarray):
    """Expected clicks bought by `spend` on each campaign's Hill curve (0 where it spends 0)."""
    half = reference_spend / _SATURATION
    x = np.divide(spend, half, out=np.zeros_like(spend), where=half > 0) ** _HILL
    return max_clicks * x / (1.0 + x)


def budget_multiplier(seed: int, day_index: int) -> np.ndarray:
    """Per campaign: the budget level set for the four-week period holding day_index."""
    period = day_index // BUDGET_PERIOD_DAYS
    z = rng.normal(seed, "acquisition:budget", np.arange(len(CAMPAIGNS)), period)
    return np.exp(BUDGET_SD * z - BUDGET_SD**2 / 2)


@functools.lru_cache(maxsize=4096)
def acquisition_day(seed: int, scale: float, start: dt.date, day_index: int) -> AcquisitionDay:
    """Spend, clicks, visits and converting visitors of one day; depends only on its arguments."""
    g = day_rng(seed, "acquisition", day_index)
    weekday = (start + dt.timedelta(days=day_index)).weekday()
    market = scale * math.exp(GROWTH_PER_DAY * day_index) * _in_flight(day_index)
    spend = (
        _BUDGET * market * budget_multiplier(seed, day_index) * SPEND_WEEKDAY[weekday]
        * g.lognormal(0.0, 0.12, size=len(CAMPAIGNS))
    )  # fmt: skip
    impressions = np.round(spend / _CPM * 1000.0 * g.lognormal(0.0, 0.05, len(CAMPAIGNS)))
    # The market (searches, audiences) grows with the budget, so the curve scales with both.
    expected_clicks = hill_clicks(spend, _BUDGET * market, _MAX_CLICKS * market)
    ctr = np.divide(expected_clicks, impressions, out=np.zeros_like(spend), where=impressions > 0)
    clicks = g.binomial(impressions.astype(np.int64), np.minimum(ctr, 1.0))
    unpaid_visits = g.poisson(_BASE_VISITS * market * SIGNUP_WEEKDAY[weekday])
    visits = np.where(PAID, g.binomial(clicks, _LAND), unpaid_visits).astype(np.int64)
    # Paid visits follow the spend's pacing; who converts follows the B2B working week.
    rate = _RATE * np.where(PAID, SIGNUP_WEEKDAY[weekday] / SPEND_WEEKDAY[weekday], 1.0)
    converting = g.binomial(visits, np.minimum(rate, 1.0))
    lands_on = (weekday + np.arange(MAX_SIGNUP_LAG_DAYS + 1)) % 7
    lag_weights = SIGNUP_LAG_WEIGHTS * np.where(lands_on >= 5, WEEKEND_RETURN_FACTOR, 1.0)
    lag_weights /= lag_weights.sum()
    converters = np.stack([g.multinomial(n, lag_weights) for n in converting])
    return AcquisitionDay(
        spend_cents=np.round(spend).astype(np.int64),
        impressions=impressions.astype(np.int64),
        clicks=clicks.astype(np.int64),
        visits=visits,
        converters=converters.astype(np.int64),
    )


def signups_tensor(seed: int, scale: float, start: dt.date, last_index: int) -> np.ndarray:
    """(signup day, campaign, lag) counts for signup days 0..last_index: who signs up on day t
    through campaign c after a first visit lag days earlier (converters of day t - lag)."""
    days = last_index + 1
    out = np.zeros((days, len(CAMPAIGNS), MAX_SIGNUP_LAG_DAYS + 1), dtype=np.int64)
    lags = np.arange(MAX_SIGNUP_LAG_DAYS + 1)
    for visit_day in range(days):
        conv = acquisition_day(seed, scale, start, visit_day).converters
        signup_day = visit_day + lags
        ok = signup_day < days
        out[signup_day[ok], :, lags[ok]] = conv[:, ok].T
    return out


def signups_matrix(seed: int, scale: float, start: dt.date, last_index: int) -> np.ndarray:
    """(days, campaigns) signup counts for day indices 0..last_index."""
    return signups_tensor(seed, scale, start, last_index).sum(axis=2)
