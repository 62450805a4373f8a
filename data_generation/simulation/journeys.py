"""Multi-touch journeys: the UTM sessions a future user has before signing up.

A user's first session arrives through the campaign that brought them (users.campaign, visit_lag
days before the signup). Visitors who take a day or more to decide come back: a session on the
signup day shortly before signing up, and (two days or more) one or two sessions in between.
Those return sessions arrive through RETURN_TOUCH_MIX — typing the URL (direct), searching the
brand, a retargeting ad, the newsletter — so first-touch, last-touch and linear attribution tell
different stories, as they do for real. Every session's first page view carries the session's
UTM (none for direct); they are all drawn per user (counter-based), so a user's journey is the
same whatever range is generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS
from data_generation.simulation.timeutil import DAY_US, MINUTE_US, SECOND_US
from data_generation.simulation.users import SIGNUP_HOURS, Users, time_of_day_us


def _campaign(name: str | None, source: str) -> int:
    for index, c in enumerate(CAMPAIGNS):
        if c.name == name and c.sources[0][0] == source:
            return index
    raise KeyError(name)


# Where return sessions come from (campaign, weight).
RETURN_TOUCH_MIX = (
    (_campaign(None, "(direct)"), 0.34),
    (_campaign("brand_search", "google"), 0.22),
    (_campaign(None, "google"), 0.14),  # organic search
    (_campaign("facebook_retargeting", "facebook"), 0.12),
    (_campaign("newsletter_weekly", "newsletter"), 0.08),
    (_campaign("nurture_sequence", "hubspot"), 0.06),
    (_campaign(None, "g2"), 0.04),
)
MIDDLE_TOUCH_SHARES = (0.5, 0.2)  # chance of a 1st / 2nd session between first and last (lag ≥ 2)
LAST_TOUCH_BEFORE_SIGNUP_US = 10 * MINUTE_US
RETURN_PRICING_SHARE = 0.4  # return sessions that also look at /pricing


@dataclass(frozen=True)
class Journeys:
    """Every pre-signup session start of every user, sorted by time (numpy columns)."""

    user_index: np.ndarray  # index into the Users arrays
    touch_no: np.ndarray  # 0 = the first session, then in time order
    campaign: np.ndarray  # index into CAMPAIGNS
    source: np.ndarray  # index into that campaign's sources
    ts_us: np.ndarray
    pricing: np.ndarray  # the session also views /pricing a few minutes later

    def __len__(self) -> int:
        return len(self.ts_us)


def sources_for(seed: int, stream: str, key: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    """Which of its campaign's UTM source variants each row arrived with."""
    u = rng.uniform(seed, stream, key)
    source = np.zeros(len(campaign), dtype=np.int64)
    for index, c in enumerate(CAMPAIGNS):
        mask = campaign == index
        source[mask] = rng.choice(u[mask], [w for *_, w in c.sources])
    return source


def first_touch_us(seed: int, users: Users) -> np.ndarray:
    """The first session: minutes before a same-day signup, else during the visit day."""
    uid, signup, lag = users.user_id, users.signup_us, users.visit_lag
    visit_day_start = (signup // DAY_US - lag) * DAY_US
    other_day = visit_day_start + time_of_day_us(
        rng.uniform(seed, "segment:hour", uid), rng.uniform(seed, "segment:min", uid), SIGNUP_HOURS
    )
    same_day = signup - ((3 + 40 * rng.uniform(seed, "segment:before", uid)) * MINUTE_US).astype(
        np.int64
    )
    return np.where(lag == 0, same_day, np.minimum(other_day, signup - 3600 * SECOND_US))


def build_journeys(seed: int, users: Users) -> Journeys:
    uid, signup, lag = users.user_id, users.signup_us, users.visit_lag
    n = len(uid)
    first = first_touch_us(seed, users)
    middle = sum(
        (rng.uniform(seed, f"journey:middle{k}", uid) < share).astype(np.int64)
        for k, share in enumerate(MIDDLE_TOUCH_SHARES)
    )
    returns = np.where(lag == 0, 0, 1 + np.where(lag >= 2, middle, 0))
    who = np.repeat(np.arange(n), returns)
    # Position of each return session within its user's returns (0..returns-1).
    offsets = np.repeat(np.cumsum(returns) - returns, returns)
    position = np.arange(len(who)) - offsets
    total = returns[who]
    key = uid[who] * 8 + 1 + position
    last_at = signup[who] - LAST_TOUCH_BEFORE_SIGNUP_US
    # Middle sessions sit in their own slice of the time between the first and the last one.
    frac = (position + 0.2 + 0.6 * rng.uniform(seed, "journey:when", key)) / total
    middle_at = first[who] + (frac * (last_at - first[who])).astype(np.int64)
    at = np.where(position == total - 1, last_at, middle_at)
    mix_campaign = np.array([c for c, _ in RETURN_TOUCH_MIX])
    campaign = mix_campaign[
        rng.choice(rng.uniform(seed, "journey:campaign", key), [w for _, w in RETURN_TOUCH_MIX])
    ]
    all_user = np.concatenate([np.arange(n), who])
    all_key = np.concatenate([uid * 8, key])
    all_campaign = np.concatenate([users.campaign, campaign])
    all_source = np.concatenate([users.source, sources_for(seed, "journey:source", key, campaign)])
    all_ts = np.concatenate([first, at])
    pricing = np.concatenate(
        [np.ones(n, dtype=bool), rng.uniform(seed, "journey:pricing", key) < RETURN_PRICING_SHARE]
    )
    order = np.argsort(all_ts, kind="stable")
    return Journeys(
        user_index=all_user[order],
        touch_no=(all_key % 8)[order],
        campaign=all_campaign[order],
        source=all_source[order],
        ts_us=all_ts[order],
        pricing=pricing[order],
    )
