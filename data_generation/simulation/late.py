"""Late and corrected subscription versions: when each version of a period is written and lands.

app_db.subscriptions is landed as an incremental CDC extract by `updated_at`, so a change that is
entered late (backdated) lands in the partition of the day it was entered, not of the day it took
effect. This module decides, for every subscription period of the world, when its versions are
written; extracts/app_db.py turns that into rows and extracts/stripe.py bills late-entered periods
from the moment billing learns of them. Everything is a counter-based hash of the period ids and
the seed, so a period's landing is the same whichever days are generated (prefix consistency).

Late changes (dirt only): LATE_SHARE of the cancellations (paid churn) and plan and seat changes
are entered 1..MAX_LATE_DAYS days after they took effect, during working hours. The row(s) land
in the entry day's partition with `updated_at` (and `_loaded_at` just after) on that day, while
`ended_at`/`started_at` keep the true effective times. A plan or seat change writes the ending
version of the old period and the opening version of the new one together, so the chain
(successor started_at = predecessor ended_at) holds in every partition prefix. Dunning
cancellations (automatic, driven by Stripe) and lapsed trials are never late.

Corrections (dirt only): an on-time version with a wrong MRR-relevant value, corrected by a later
version of the same period CORRECTION days to weeks later:
- a cancellation recorded with the day the customer asked (1..14 days before the end of the paid
  cycle) as `ended_at`, corrected to the cycle's end;
- a seat change whose new period opened with a mistyped seat count (off by 1..3), corrected.
The world (and so Stripe, usage and Salesforce) follows the true values; a correction's version is
the latest one, so "latest version per subscription_id" is the truth once it has landed.

Every version still lands within MAX_LATE_DAYS days of the effective time it describes, so a
window that ends MAX_LATE_DAYS + WRONG_END_MAX_DAYS days before the last landed day is final.
Versions of one period are written in strictly increasing `updated_at`: a late change is only as
late as the next thing that happens to the periods it touches (the new period's dunning or its own
end; the churned customer's comeback), shortening its delay if need be.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from data_generation.simulation import rng
from data_generation.simulation.lifecycle import CHURN, NEVER, SEAT_CHANGE, SEATS_MIN, UPGRADE
from data_generation.simulation.timeutil import DAY_US, HOUR_US, day_of
from data_generation.simulation.world import World

LATE_SHARE = 0.12  # of paid cancellations and plan and seat changes
MAX_LATE_DAYS = 45
# Most late changes are entered within days (a truncated exponential); a backlog worked off weeks
# later makes the tail (uniform from BACKLOG_MIN_DAYS to MAX_LATE_DAYS).
QUICK_SHARE, QUICK_MEAN_DAYS, BACKLOG_MIN_DAYS = 0.85, 3.0, 7
ENTRY_HOURS = (8, 20)  # late changes and corrections are entered in working hours (UTC)
CHURN_DATE_CORRECTION_SHARE = 0.04  # of on-time paid cancellations
SEAT_CORRECTION_SHARE = 0.05  # of on-time seat changes
WRONG_END_MAX_DAYS = 14  # a wrong ended_at is 1..14 days before the true one
SEAT_TYPO_MAX = 3  # a wrong seat count is off by 1..3
CORRECTION_MIN_DAYS, CORRECTION_MEAN_DAYS = 2, 7.0  # quick corrections; the backlog as above


@dataclass(frozen=True)
class Landing:
    """When each period's versions are written (numpy columns aligned with world.periods)."""

    open_us: np.ndarray  # updated_at of the opening version (started_us unless entered late)
    end_us: np.ndarray  # updated_at of the ending version (ended_us unless entered late)
    ended_shown_us: np.ndarray  # ended_at on the ending version (wrong until corrected)
    quantity_shown: np.ndarray  # seats on the versions written before a correction
    correction_us: np.ndarray  # updated_at of the correcting version, NEVER when none


def delay_days(
    seed: int, stream: str, key: np.ndarray, min_days: int, mean_days: float
) -> np.ndarray:
    """Skewed delays in [min_days, MAX_LATE_DAYS]: QUICK_SHARE within days, the rest a backlog."""
    u_kind = rng.uniform(seed, stream + ":kind", key)
    u = rng.uniform(seed, stream + ":days", key)
    span = MAX_LATE_DAYS - min_days + 1
    quick = min_days + np.floor(-mean_days * np.log1p(-u * -np.expm1(-span / mean_days)))
    backlog = np.floor(BACKLOG_MIN_DAYS + u * (MAX_LATE_DAYS + 1 - BACKLOG_MIN_DAYS))
    days = np.where(u_kind < QUICK_SHARE, quick, np.maximum(backlog, min_days))
    return np.clip(days, min_days, MAX_LATE_DAYS).astype(np.int64)


def _entered_us(seed: int, stream: str, key: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A working-hours instant on each day number (days since the epoch)."""
    low, high = ENTRY_HOURS
    hours = low + (high - low) * rng.uniform(seed, stream, key)
    return day * DAY_US + (hours * HOUR_US).astype(np.int64)


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def subscription_landing(world: World) -> Landing:
    p = world.periods
    natural = Landing(
        open_us=p.started_us,
        end_us=p.ended_us,
        ended_shown_us=p.ended_us,
        quantity_shown=p.quantity,
        correction_us=np.full(len(p), NEVER, dtype=np.int64),
    )
    if not world.dirt or len(p) == 0:
        return natural
    seed, sid, n = world.seed, p.subscription_id, len(p)

    # The next link of each chain (sid + 1): the successor of a change, or the comeback after churn.
    pos = np.minimum(np.searchsorted(sid, sid + 1), n - 1)
    has_next = sid[pos] == sid + 1
    # The next thing that happens to a period after it opens: its dunning cycle or its end.
    next_own = np.minimum(p.ended_us, p.dunning_cycle_start_us())
    is_change = p.converted & (p.reason >= UPGRADE) & (p.reason <= SEAT_CHANGE)
    paid_churn = p.converted & (p.reason == CHURN)
    # A late change may not land on or after the day of the next event of the periods it touches.
    # A successor missing from the world opens after the simulated horizon, and so does its
    # predecessor's end: no generated day depends on those, so NEVER is as good as any limit.
    limit = np.where(has_next, np.where(is_change, next_own[pos], p.started_us[pos]), NEVER)
    end_day = day_of(p.ended_us)
    delay = np.minimum(
        delay_days(seed, "late:delay", sid, 1, QUICK_MEAN_DAYS), day_of(limit) - end_day - 1
    )
    late = (
        (is_change | paid_churn)
        & (rng.uniform(seed, "late:share", sid) < LATE_SHARE)
        & (delay >= 1)
    )
    entered = _entered_us(seed, "late:hour", sid, end_day + np.maximum(delay, 0))
    end_us = np.where(late, entered, p.ended_us)

    # A successor's opening version is written with its predecessor's ending version.
    has_previous = p.previous_id >= 0
    prev = np.searchsorted(sid, np.where(has_previous, p.previous_id, sid))
    open_us = np.where(has_previous, end_us[prev], p.started_us)

    correction_us = natural.correction_us.copy()
    # A cancellation recorded with the wrong (earlier) end date, corrected to the cycle's end.
    wrong_days = 1 + np.floor(WRONG_END_MAX_DAYS * rng.uniform(seed, "fix:end_days", sid))
    ended_shown = p.ended_us - (wrong_days * DAY_US).astype(np.int64)
    fix_end = (
        paid_churn
        & ~late
        & (rng.uniform(seed, "fix:end", sid) < CHURN_DATE_CORRECTION_SHARE)
        & (ended_shown > p.paid_start_us)
    )
    fix_end_day = end_day + delay_days(
        seed, "fix:end_delay", sid, CORRECTION_MIN_DAYS, CORRECTION_MEAN_DAYS
    )
    correction_us = np.where(
        fix_end, _entered_us(seed, "fix:end_hour", sid, fix_end_day), correction_us
    )
    ended_shown = np.where(fix_end, ended_shown, p.ended_us)

    # A seat change that opened its new period with a mistyped seat count, corrected before
    # anything else happens to that period.
    off_by = (1 + np.floor(SEAT_TYPO_MAX * rng.uniform(seed, "fix:seats_by", sid))).astype(np.int64)
    sign = np.where(rng.uniform(seed, "fix:seats_sign", sid) < 0.5, -1, 1)
    floor = np.maximum(np.take(SEATS_MIN, p.tier), 1)
    old_seats = p.quantity[prev]
    first, second = p.quantity + sign * off_by, p.quantity - sign * off_by
    first_ok = (first >= floor) & (first != old_seats)
    second_ok = (second >= floor) & (second != old_seats)
    wrong_seats = np.where(first_ok, first, second)
    fix_seats_day = day_of(p.started_us) + delay_days(
        seed, "fix:seats_delay", sid, CORRECTION_MIN_DAYS, CORRECTION_MEAN_DAYS
    )
    fix_seats = (
        has_previous
        & (p.reason[prev] == SEAT_CHANGE)
        & ~late[prev]
        & (rng.uniform(seed, "fix:seats", sid) < SEAT_CORRECTION_SHARE)
        & (first_ok | second_ok)
        & (fix_seats_day < day_of(next_own))
    )
    correction_us = np.where(
        fix_seats, _entered_us(seed, "fix:seats_hour", sid, fix_seats_day), correction_us
    )
    return Landing(
        open_us=open_us,
        end_us=end_us,
        ended_shown_us=ended_shown,
        quantity_shown=np.where(fix_seats, wrong_seats, p.quantity),
        correction_us=correction_us,
    )
