"""Subscription periods: trials, conversion, plan and seat changes, churn, dunning, reactivation.

Each (user, product) the user adopts is a chain of periods. A period's whole future is drawn the
moment it opens (competing exponential hazards per month, by tier and billing period), so the
chain is a closed-form schedule: the state on any day is a cheap filter, and day D's files never
depend on which days were generated before.

- A chain starts at signup (the primary product) or later (cross-sell), usually with a 14-day
  trial; the trial converts with a probability that depends on channel and tier.
- Upgrade, downgrade and seat change end the period and open the next one at the same instant,
  naming it in previous_subscription_id. Periods are half-open [started_at, ended_at).
- Churn is "cancel at period end": it lands on a billing-cycle boundary. A churned customer may
  come back later (reactivation: a new chain link without a trial and without a predecessor).
- Dunning: every charge attempt of one billing cycle fails (at 0, 3, 7 and 14 days), the period is
  past_due from the first failure and canceled after the last one; some customers come back.
- Behaviour: each period has an engagement level (the account's latent level, drifting
  a little per period) and a seat utilisation (the share of seats its team fills, rising with
  engagement). Both are drawn when the period opens and drive its timeline: churn follows a
  Weibull hazard that falls with tenure and rises with low engagement and low utilisation; seat
  growth and upgrades come sooner at high utilisation, seat shrinks and downgrades at low. Trials
  of engaged accounts convert more. Usage (extracts/app_db_usage.py) and teammates (teams.py)
  follow from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_generation.seeds import PRODUCTS, Seeds
from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS
from data_generation.simulation.timeutil import (
    DAY_US,
    HOUR_US,
    NEVER,
    add_months,
    day_of,
    months_between,
)
from data_generation.simulation.users import Users

TRIAL_DAYS = 14
MAX_PERIODS_PER_CHAIN = 24  # the last link may only churn, so chains never end abruptly
RETRY_OFFSETS_DAYS = (0, 3, 7, 14)  # Stripe smart-retry schedule of one invoice
FIRST_ATTEMPT_DELAY_US = HOUR_US  # invoices finalise an hour after the cycle opens
DUNNING_CANCEL_DELAY_US = 2 * HOUR_US  # after the last failed attempt
# refund (billing): a fully refunded billing cycle ends the period when refunded.
REASONS = ("upgrade", "downgrade", "seat_change", "churn", "dunning", "refund")
UPGRADE, DOWNGRADE, SEAT_CHANGE, CHURN, DUNNING, REFUND = range(6)
DAYS_PER_MONTH = 30.44
MONTH_US = DAYS_PER_MONTH * DAY_US

PRODUCT_WEIGHTS = {None: (0.45, 0.35, 0.20), "teamchat_launch": (0.15, 0.75, 0.10)}
CROSS_SELL_SHARE = 0.12
CROSS_SELL_MEAN_DELAY_DAYS = 120.0
TRIAL_SHARE_PRIMARY, TRIAL_SHARE_CROSS_SELL = 0.85, 0.6
TIER_WEIGHTS = {
    "referral": (0.40, 0.40, 0.20),
    "organic_search": (0.55, 0.33, 0.12),
    "paid_social": (0.68, 0.26, 0.06),
    None: (0.58, 0.32, 0.10),
}
ANNUAL_SHARE = (0.18, 0.25, 0.45)  # by tier
SEATS_LOG_MEAN, SEATS_LOG_SD = (0.6, 1.8, 3.2), (0.6, 0.7, 0.8)
SEATS_MIN, SEATS_MAX = (1, 2, 10), (10, 60, 500)
CONVERSION_BASE = 0.38
CONVERSION_BY_CHANNEL = {
    "referral": 1.35, "organic_search": 1.15, "direct": 1.1, "email": 1.05,
    "paid_search": 0.95, "paid_social": 0.7,
}  # fmt: skip
CONVERSION_BY_TIER = (0.9, 1.1, 1.25)
# Monthly hazards by tier (starter, pro, enterprise); annual plans churn at roughly half the rate.
CHURN_HAZARD = (0.045, 0.028, 0.016)
ANNUAL_CHURN_FACTOR = 0.55
UPGRADE_HAZARD = (0.022, 0.012, 0.0)
DOWNGRADE_HAZARD = (0.0, 0.008, 0.012)
DUNNING_PER_CYCLE = (0.012, 0.02)  # monthly, annual
REACTIVATION_AFTER_CHURN, REACTIVATION_AFTER_DUNNING = 0.15, 0.30
# Billing: a customer asks for their money back on a cycle, which is refunded in full
# and ends the period (per cycle, like dunning). The refund lands REFUND_DAYS after the cycle
# opened: after its last possible retry (day 14), before the next monthly cycle (day 28).
FULL_REFUND_PER_CYCLE = 0.012
REFUND_DAYS = (15.0, 27.0)
# Behaviour. Engagement z ~ N(0, 1) per period: sqrt(P) x the account's level plus
# sqrt(1 - P) x the period's own drift. Utilisation = logistic(BASE + ENG x z + NOISE x adoption),
# with adoption ~ N(0, 1) per account (how readily its team takes the tool up): mean ≈ 0.6.
ENGAGEMENT_PERSISTENCE = 0.8
UTILISATION_BASE, UTILISATION_ENGAGEMENT, UTILISATION_NOISE = 0.45, 0.8, 0.6
UTILISATION_PIVOT = 0.6  # hazards are at their tier's base at this utilisation
# Churn: cumulative hazard H(t) = rate x 12 x (t / 12)^SHAPE for tenure t in months, so a year
# survives as under the old constant rate, but month 1 is ≈ 1.6x riskier and month 24 ≈ 0.7x.
CHURN_WEIBULL_SHAPE = 0.6
CHURN_ENGAGEMENT_BETA = 1.0  # hazard x exp(-beta z - beta²/2): mean 1 over accounts
# Hazards use the realised utilisation seat_users / seats (neutral for a single seat): the share
# of seats a customer sees filled, which the marts measure (fct_churn_signals).
CHURN_UTILISATION_BETA = 2.0  # hazard x exp(-beta (utilisation - pivot))
CONVERSION_ENGAGEMENT_BETA = 0.35  # trial conversion odds-like factor exp(beta z - beta²/2)
UPGRADE_UTILISATION_BETA = 2.0  # upgrade x exp(+beta (u - pivot)); downgrade x exp(-beta (...))
SEAT_GROW_HAZARD = (0.016, 0.028, 0.036)  # monthly, at the pivot; x exp(+4 (u - pivot))
SEAT_SHRINK_HAZARD = (0.005, 0.008, 0.01)  # monthly, at the pivot; x exp(-4 (u - pivot))
SEAT_UTILISATION_BETA = 4.0


@dataclass(frozen=True)
class Periods:
    """Every subscription period of the world (numpy columns, one entry per period)."""

    subscription_id: np.ndarray
    chain_id: np.ndarray  # user_id * 10 + product index
    user_id: np.ndarray
    product: np.ndarray  # index into PRODUCTS
    tier: np.ndarray  # 0 starter, 1 pro, 2 enterprise
    billing: np.ndarray  # 0 monthly, 1 annual
    quantity: np.ndarray
    plan: np.ndarray  # index into Seeds.plan_ids() flattened: (product * 3 + tier) * 2 + billing
    price_cents: np.ndarray  # per billing period per seat
    started_us: np.ndarray
    trial_ends_us: np.ndarray  # -1 when the period had no trial
    converted: np.ndarray  # False only for trials that expired unpaid
    paid_start_us: np.ndarray  # NEVER when never paid
    ended_us: np.ndarray  # when the period ends (possibly after the generated range)
    reason: np.ndarray  # index into REASONS
    previous_id: np.ndarray  # -1 when none
    dunning_cycle: np.ndarray  # the cycle whose charges all fail, -1 unless reason is dunning
    # Billing cycles (proration): a period that replaces another keeps its billing
    # anchor, so cycle boundaries are anchor + k x billing months; cycle 0 of a period runs from
    # its paid start to the boundary after it (a prorated stub after a mid-cycle change).
    anchor_us: np.ndarray  # the billing anchor (paid start of the chain's first changed period)
    first_cycle_k: np.ndarray  # k of the boundary at or before the paid start
    refund_cycle: np.ndarray  # the cycle refunded in full, -1 unless reason is refund
    engagement: np.ndarray  # latent engagement z ~ N(0, 1) of the period
    utilisation: np.ndarray  # latent share of seats the team fills, in (0, 1)
    seat_users: (
        np.ndarray
    )  # people using the product: owner + teammates, 1 <= seat_users <= quantity

    def __len__(self) -> int:
        return len(self.subscription_id)

    @property
    def paid_a_day(self) -> np.ndarray:
        """Periods that paid on at least one UTC day, by the platform's date rule (METRICS.md in
        techflow_dbt/models: a period counts toward MRR on day D when its paid start day <= D < its
        end day). A converted period replaced on the day it starts paying (the trial converts at
        03:00, the customer adds seats at 17:00) paid on no day: its successor is the purchase."""
        return self.converted & (day_of(self.ended_us) > day_of(self.paid_start_us))

    @property
    def seat_utilisation(self) -> np.ndarray:
        """Realised utilisation: the people using the period over its seats."""
        return self.seat_users / self.quantity

    @property
    def billing_months(self) -> np.ndarray:
        return np.where(self.billing == 1, 12, 1)

    def cycle_start_us(self, n: np.ndarray) -> np.ndarray:
        """When each period's cycle n opens: the paid start for n = 0, else boundary k0 + n."""
        return cycle_start(
            self.anchor_us, self.first_cycle_k, self.billing_months, self.paid_start_us, n
        )

    def dunning_cycle_start_us(self) -> np.ndarray:
        """When the cycle whose charges all fail opens (NEVER unless the period ends by dunning)."""
        dunning = self.reason == DUNNING
        start = self.cycle_start_us(np.maximum(self.dunning_cycle, 0))
        return np.where(dunning, start, NEVER)

    def dunning_started_us(self) -> np.ndarray:
        """When the first charge of the failing cycle was declined (past_due from then on)."""
        return np.where(
            self.reason == DUNNING, self.dunning_cycle_start_us() + FIRST_ATTEMPT_DELAY_US, NEVER
        )


def cycle_index(anchor: np.ndarray, t: np.ndarray, months: np.ndarray) -> np.ndarray:
    """k of the last cycle boundary anchor + k x months at or before t (t >= anchor)."""
    k = months_between(anchor, t) // months
    return np.where(add_months(anchor, k * months) > t, k - 1, k)


def cycle_start(
    anchor: np.ndarray, k0: np.ndarray, months: np.ndarray, paid_start: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Start of a period's cycle n (see Periods.first_cycle_k)."""
    boundary = add_months(anchor, (k0 + np.maximum(n, 1)) * months)
    return np.where(n == 0, paid_start, boundary)


def _per_campaign(channels: list[str], table: dict) -> np.ndarray:
    """One row of `table` per campaign, looked up by the campaign's channel (None = default)."""
    return np.array([table.get(c, table.get(None, 1.0)) for c in channels], dtype=np.float64)


def _seats(seed: int, stream: str, key: np.ndarray, tier: np.ndarray) -> np.ndarray:
    z = rng.normal(seed, stream, key)
    raw = np.exp(np.take(SEATS_LOG_MEAN, tier) + np.take(SEATS_LOG_SD, tier) * z)
    return np.clip(np.round(raw), np.take(SEATS_MIN, tier), np.take(SEATS_MAX, tier)).astype(
        np.int64
    )


def _open_chains(seed: int, users: Users, channels: list[str]) -> dict[str, np.ndarray]:
    """The (user, product) chains: primary product at signup, cross-sells later."""
    uid = users.user_id
    campaign_names = [c.name for c in CAMPAIGNS]
    weights = np.stack(
        [
            PRODUCT_WEIGHTS.get(campaign_names[c], PRODUCT_WEIGHTS[None])
            for c in range(len(CAMPAIGNS))
        ]
    )
    u = rng.uniform(seed, "chain:primary", uid)
    cum = np.cumsum(weights[users.campaign], axis=1)
    primary = np.minimum((u[:, None] >= cum).sum(axis=1), len(PRODUCTS) - 1)
    # Funnel: only users who activate a workspace open a subscription, and the
    # primary product's chain (its trial) starts at activation, not at signup (funnel.py).
    active = np.flatnonzero(users.activated_us < NEVER)
    user_idx, product, start = [active], [primary[active]], [users.activated_us[active]]
    trial = [(rng.uniform(seed, "chain:trial", uid) < TRIAL_SHARE_PRIMARY)[active]]
    for p in range(len(PRODUCTS)):
        takes = (rng.uniform(seed, f"chain:cross{p}", uid) < CROSS_SELL_SHARE) & (primary != p)
        idx = np.flatnonzero(takes & (users.activated_us < NEVER))
        delay = 7 + rng.exponential(
            rng.uniform(seed, f"chain:cross_delay{p}", uid[idx]), CROSS_SELL_MEAN_DELAY_DAYS
        )
        user_idx.append(idx)
        product.append(np.full(len(idx), p))
        cross_start = users.signup_us[idx] + (delay * DAY_US).astype(np.int64)
        start.append(np.maximum(cross_start, users.activated_us[idx] + DAY_US))
        trial.append(rng.uniform(seed, f"chain:cross_trial{p}", uid[idx]) < TRIAL_SHARE_CROSS_SELL)
    user_idx_all = np.concatenate(user_idx)
    product_all = np.concatenate(product).astype(np.int64)
    chain_id = uid[user_idx_all] * 10 + product_all
    campaign = users.campaign[user_idx_all]
    tier_w = _per_campaign(channels, TIER_WEIGHTS)[campaign]
    tier = np.minimum(
        (rng.uniform(seed, "chain:tier", chain_id)[:, None] >= np.cumsum(tier_w, axis=1)).sum(
            axis=1
        ),
        2,
    )
    conv = CONVERSION_BASE * _per_campaign(channels, CONVERSION_BY_CHANNEL)[campaign]
    return {
        "chain_id": chain_id,
        "user_id": uid[user_idx_all],
        "product": product_all,
        "start": np.concatenate(start),
        "trial": np.concatenate(trial),
        "tier": tier.astype(np.int64),
        "conversion": np.minimum(conv * np.take(CONVERSION_BY_TIER, tier), 0.9),
    }


def _behaviour(seed: int, user_id: np.ndarray, sid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Engagement z and seat utilisation of each period, drawn when it opens.

    The account's level (hashed from the owner's user_id) persists; each period adds its own
    drift, so an account's engagement moves a little at every plan or seat change.
    """
    level = rng.normal(seed, "account:engagement", user_id)
    drift = rng.normal(seed, "period:engagement", sid)
    z = np.sqrt(ENGAGEMENT_PERSISTENCE) * level + np.sqrt(1 - ENGAGEMENT_PERSISTENCE) * drift
    adoption = rng.normal(seed, "account:adoption", user_id)
    logit = UTILISATION_BASE + UTILISATION_ENGAGEMENT * z + UTILISATION_NOISE * adoption
    return z, 1.0 / (1.0 + np.exp(-logit))


def _seat_fill(seat_users: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """Realised seat utilisation (people using it / seats) minus the pivot: what a customer can
    see and the marts measure. A single seat says nothing about a team, so it counts as neutral."""
    return np.where(quantity > 1, seat_users / quantity - UTILISATION_PIVOT, 0.0)


def _churn_multiplier(engagement: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Proportional-hazards factor: disengaged accounts and half-empty seats churn more."""
    beta = CHURN_ENGAGEMENT_BETA
    return np.exp(-beta * engagement - beta**2 / 2) * np.exp(-CHURN_UTILISATION_BETA * fill)


def _weibull_months(u: np.ndarray, rate: np.ndarray, tenure: np.ndarray) -> np.ndarray:
    """Months until churn for a customer already `tenure` months old (inverse of the conditional
    Weibull survival): solve H(tenure + t) - H(tenure) = E with E ~ Exp(1) and
    H(t) = rate x 12 x (t / 12)^SHAPE, so the hazard falls as tenure grows."""
    k = CHURN_WEIBULL_SHAPE
    target = np.power(np.maximum(tenure, 0.0) / 12.0, k) + rng.exponential(u, 1.0) / (12.0 * rate)
    return 12.0 * np.power(target, 1.0 / k) - tenure


def simulate_periods(
    seed: int, users: Users, seeds: Seeds, channels: list[str], until_us: int
) -> Periods:
    """Unroll every chain into its periods with vectorised steps (one numpy pass per chain link).

    Periods opening after `until_us` are not simulated: nothing before that instant depends on
    them (each link's draws are keyed by its own id), so the periods that are simulated are the
    same for any `until_us` later than them.
    """
    chains = _open_chains(seed, users, channels)
    opens_in_time = chains["start"] <= until_us
    chains = {key: value[opens_in_time] for key, value in chains.items()}
    prices = np.array(seeds.prices_cents(), dtype=np.int64)

    chain_id, user_id, product = chains["chain_id"], chains["user_id"], chains["product"]
    start, trial, tier = chains["start"], chains["trial"], chains["tier"]
    conversion = chains["conversion"]
    billing = (rng.uniform(seed, "chain:annual", chain_id) < np.take(ANNUAL_SHARE, tier)).astype(
        np.int64
    )
    quantity = _seats(seed, "chain:seats", chain_id, tier)
    previous = np.full(len(chain_id), -1, dtype=np.int64)
    anchor = np.full(len(chain_id), -1, dtype=np.int64)  # -1: the period's own paid start
    # Tenure is counted from the paid start of the current unbroken stretch of a chain: kept
    # across plan and seat changes, restarted by a reactivation (the customer is new again).
    origin = np.full(len(chain_id), -1, dtype=np.int64)
    rows: list[dict[str, np.ndarray]] = []

    for link in range(MAX_PERIODS_PER_CHAIN):
        if len(chain_id) == 0:
            break
        sid = chain_id * 100 + link  # e.g. 421_03 → user 42, product 1, link 3
        u = {name: rng.uniform(seed, "period:" + name, sid) for name in (
            "convert", "churn", "up", "down", "seat", "dunning", "react", "react_gap", "new_seats",
            "refund", "refund_at",
            "shrink",
        )}  # fmt: skip
        engagement, utilisation = _behaviour(seed, user_id, sid)
        seat_users = np.clip(np.round(utilisation * quantity), 1, quantity).astype(np.int64)
        trial_end = np.where(trial, start + TRIAL_DAYS * DAY_US, -1)
        engaged = np.exp(
            CONVERSION_ENGAGEMENT_BETA * engagement - CONVERSION_ENGAGEMENT_BETA**2 / 2
        )
        converted = ~trial | (u["convert"] < np.minimum(conversion * engaged, 0.95))
        paid_start = np.where(trial, trial_end, start)
        months = np.where(billing == 1, 12, 1)
        # Proration: a replacing period keeps its predecessor's billing anchor; its
        # cycle 0 is the stub to the next boundary. Its credit-bearing stub never dunns or is
        # refunded (cycle numbers start at 1 for it), so those always hit a full cycle.
        successor = anchor >= 0
        anchor_eff = np.where(successor, anchor, paid_start)
        k0 = np.where(successor, cycle_index(anchor_eff, paid_start, months), 0)
        origin = np.where(origin < 0, paid_start, origin)

        churn_rate = np.take(CHURN_HAZARD, tier) * np.where(billing == 1, ANNUAL_CHURN_FACTOR, 1.0)
        fill = _seat_fill(seat_users, quantity)
        churn_rate = churn_rate * _churn_multiplier(engagement, fill)
        churn_months = _weibull_months(u["churn"], churn_rate, (paid_start - origin) / MONTH_US)
        churn_cycles = np.maximum(1, np.ceil(churn_months / months)).astype(np.int64)
        churn_at = add_months(anchor_eff, (k0 + np.minimum(churn_cycles, 1200 // months)) * months)

        def change_at(
            rate: np.ndarray, uniform: np.ndarray, paid_start: np.ndarray = paid_start
        ) -> np.ndarray:
            days = rng.exponential(uniform, DAYS_PER_MONTH / np.maximum(rate, 1e-12))
            return np.where(
                rate > 0, paid_start + (np.minimum(days, 36500) * DAY_US).astype(np.int64), NEVER
            )

        last_link = link == MAX_PERIODS_PER_CHAIN - 1
        # Full teams grow and upgrade; half-empty ones shrink and downgrade.
        up_at = change_at(
            np.take(UPGRADE_HAZARD, tier)
            * np.exp(UPGRADE_UTILISATION_BETA * fill)
            * (not last_link),
            u["up"],
        )
        down_at = change_at(
            np.take(DOWNGRADE_HAZARD, tier)
            * np.exp(-UPGRADE_UTILISATION_BETA * fill)
            * (not last_link),
            u["down"],
        )
        grow_at = change_at(
            np.take(SEAT_GROW_HAZARD, tier)
            * np.exp(SEAT_UTILISATION_BETA * fill)
            * (not last_link),
            u["seat"],
        )
        shrink_at = change_at(  # at the tier's seat floor there is nothing to shrink
            np.take(SEAT_SHRINK_HAZARD, tier)
            * np.exp(-SEAT_UTILISATION_BETA * fill)
            * (quantity > np.take(SEATS_MIN, tier))
            * (not last_link),
            u["shrink"],
        )
        grows = grow_at <= shrink_at
        seat_at = np.minimum(grow_at, shrink_at)
        p_dun = np.take(DUNNING_PER_CYCLE, billing)
        dun_cycle = np.floor(np.log1p(-u["dunning"]) / np.log1p(-p_dun)).astype(np.int64)
        dun_cycle = np.minimum(dun_cycle, 1200 // months) + successor
        dun_at = (
            cycle_start(anchor_eff, k0, months, paid_start, dun_cycle)
            + FIRST_ATTEMPT_DELAY_US
            + RETRY_OFFSETS_DAYS[-1] * DAY_US
            + DUNNING_CANCEL_DELAY_US
        )
        refund_cycle = np.floor(np.log1p(-u["refund"]) / np.log1p(-FULL_REFUND_PER_CYCLE))
        refund_cycle = np.minimum(refund_cycle.astype(np.int64), 1200 // months) + successor
        lo, hi = REFUND_DAYS
        refund_at = (
            cycle_start(anchor_eff, k0, months, paid_start, refund_cycle)
            + FIRST_ATTEMPT_DELAY_US
            + ((lo + (hi - lo) * u["refund_at"]) * DAY_US).astype(np.int64)
        )
        candidates = np.stack([up_at, down_at, seat_at, churn_at, dun_at, refund_at])
        reason = np.argmin(candidates, axis=0)
        ended = candidates[reason, np.arange(len(sid))]
        # An unconverted trial simply expires: no invoice, no further links.
        ended = np.where(converted, ended, trial_end)
        reason = np.where(converted, reason, CHURN)

        rows.append({
            "subscription_id": sid, "chain_id": chain_id, "user_id": user_id, "product": product,
            "tier": tier, "billing": billing, "quantity": quantity,
            "plan": (product * 3 + tier) * 2 + billing,
            "price_cents": prices[product, tier, billing],
            "started_us": start, "trial_ends_us": trial_end, "converted": converted,
            "paid_start_us": np.where(converted, paid_start, NEVER), "ended_us": ended,
            "reason": reason, "previous_id": previous,
            "dunning_cycle": np.where(reason == DUNNING, dun_cycle, -1),
            "anchor_us": anchor_eff, "first_cycle_k": k0,
            "refund_cycle": np.where(reason == REFUND, refund_cycle, -1),
            "engagement": engagement, "utilisation": utilisation, "seat_users": seat_users,
        })  # fmt: skip

        # Next link: changes continue at once; churn/dunning may come back after a gap.
        next_tier = tier + (reason == UPGRADE) - (reason == DOWNGRADE)
        # A growing team buys 10-55 % more seats; a shrinking one drops to about its users.
        grown = np.maximum(
            np.round(quantity * np.exp(0.1 + 0.35 * u["new_seats"])).astype(np.int64), quantity + 1
        )
        shrunk = np.minimum(
            np.maximum(seat_users, np.round(quantity * (0.55 + 0.35 * u["new_seats"]))),
            quantity - 1,
        ).astype(np.int64)
        changed_seats = np.where(grows, grown, np.maximum(shrunk, 1))
        next_quantity = np.where(reason == SEAT_CHANGE, changed_seats, quantity)
        # Moving to enterprise means more seats: keep at least the tier's minimum.
        next_quantity = np.maximum(next_quantity, np.take(SEATS_MIN, next_tier))
        # A shrink clipped back to the tier's floor would leave plan and seats unchanged, which is
        # no change at all: at the floor a seat change grows instead.
        unchanged_seats = (reason == SEAT_CHANGE) & (next_quantity == quantity)
        next_quantity = np.where(unchanged_seats, quantity + 1, next_quantity)
        gap_days = np.where(
            reason == DUNNING,
            1 + rng.exponential(u["react_gap"], 12.0),
            30 + rng.exponential(u["react_gap"], 100.0),
        )
        react_share = np.where(
            reason == DUNNING, REACTIVATION_AFTER_DUNNING, REACTIVATION_AFTER_CHURN
        )
        comes_back = converted & (u["react"] < react_share)
        is_change = reason <= SEAT_CHANGE
        next_start = np.where(is_change, ended, ended + (gap_days * DAY_US).astype(np.int64))
        keep = converted & (is_change | comes_back) & (next_start <= until_us)

        chain_id, user_id, product = chain_id[keep], user_id[keep], product[keep]
        tier, billing = next_tier[keep], np.where(is_change, billing, 0)[keep]
        quantity, start = next_quantity[keep], next_start[keep]
        previous = np.where(is_change, sid, -1)[keep]
        anchor = np.where(is_change, anchor_eff, -1)[keep]
        origin = np.where(is_change, origin, -1)[keep]
        trial = np.zeros(len(chain_id), dtype=bool)
        conversion = conversion[keep]

    merged = {key: np.concatenate([r[key] for r in rows]) for key in rows[0]}
    order = np.argsort(merged["subscription_id"], kind="stable")
    return Periods(**{key: value[order] for key, value in merged.items()})
