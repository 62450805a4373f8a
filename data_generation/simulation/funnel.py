"""The product funnel after signup: who activates a workspace, and when.

A signup is not a customer. Only users who activate (create a workspace and do the first real
thing in it) open a subscription: the trial starts at activation (lifecycle.py), so a user who
never activates never trials, never pays and never appears in app_db.subscriptions or Stripe.
Activation depends on the campaign that brought the user (Campaign.activation_rate: intent
differs between a brand-search visitor and a social-ad click) and happens hours to days after the
signup. Segment records it as a "Workspace Activated" track (extracts/segment.py), which is how the
warehouse sees the funnel step.
"""

from __future__ import annotations

import numpy as np

from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS
from data_generation.simulation.timeutil import DAY_US, HOUR_US, MINUTE_US, NEVER

ACTIVATION_RATE = np.array([c.activation_rate for c in CAMPAIGNS])
# Signup → activation: lognormal, median 5 hours; most within a day, a tail over a week.
ACTIVATION_MEDIAN_HOURS = 5.0
ACTIVATION_LOG_SD = 1.4
ACTIVATION_MIN_US = 10 * MINUTE_US
ACTIVATION_MAX_US = 12 * DAY_US


def activation_us(
    seed: int, user_id: np.ndarray, campaign: np.ndarray, signup_us: np.ndarray
) -> np.ndarray:
    """When each user activated, or NEVER; a pure function of (seed, user_id, campaign, signup)."""
    activates = rng.uniform(seed, "funnel:activates", user_id) < ACTIVATION_RATE[campaign]
    hours = ACTIVATION_MEDIAN_HOURS * np.exp(
        ACTIVATION_LOG_SD * rng.normal(seed, "funnel:activation_lag", user_id)
    )
    lag = np.clip((hours * HOUR_US).astype(np.int64), ACTIVATION_MIN_US, ACTIVATION_MAX_US)
    return np.where(activates, signup_us + lag, NEVER)
