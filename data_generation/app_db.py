"""app_db tables of one day: users and subscriptions (changed rows), usage events (see usage.py)."""

from __future__ import annotations

import numpy as np
import polars as pl

from data_generation.frames import Day, ints, kept_users, landed_us, nullable, strings, ts
from data_generation.lifecycle import DUNNING, FIRST_ATTEMPT_DELAY_US, NEVER, REASONS
from data_generation.timeutil import add_months
from data_generation.world import World


def users_day(world: World, day: Day) -> pl.DataFrame:
    """Users who signed up on the day, plus users whose country changed (a second version)."""
    users = world.users
    signed_up = np.flatnonzero(day.contains(users.signup_us))
    moved = np.flatnonzero(day.contains(users.relocated_us))
    base = users.frame
    created = base[signed_up].with_columns(updated_at=pl.col("signup_at"))
    relocated = base[moved].with_columns(
        country=pl.col("new_country"), updated_at=ts(users.relocated_us[moved])
    )
    frame = pl.concat([created, relocated])
    changed = np.concatenate([users.signup_us[signed_up], users.relocated_us[moved]])
    # Key the landing lag by (user, version) so the two versions of a user land independently.
    version_key = frame["user_id"].to_numpy() * 2 + (np.arange(frame.height) >= len(signed_up))
    frame = frame.with_columns(
        _loaded_at=ts(landed_us(world.seed, "users", version_key, changed, day))
    )
    return frame.filter(pl.Series(kept_users(world, frame["user_id"].to_numpy())))


def _dunning_started_us(world: World) -> np.ndarray:
    """When the first charge of the failing cycle was declined (past_due from then on)."""
    p = world.periods
    cycle = np.maximum(p.dunning_cycle, 0)
    start = add_months(np.where(p.reason == DUNNING, p.paid_start_us, 0), cycle * p.billing_months)
    return np.where(p.reason == DUNNING, start + FIRST_ATTEMPT_DELAY_US, NEVER)


def subscriptions_day(world: World, day: Day) -> pl.DataFrame:
    """Every version of a subscription period that changed on the day.

    A period lands when it opens (trialing or active), when its trial converts (active), when
    dunning starts (past_due) and when it ends (canceled, with ended_at and ended_reason).
    """
    p = world.periods
    has_trial = p.trial_ends_us >= 0
    events = (  # (which periods, status, changed at, is the ending version)
        (day.contains(p.started_us), None, p.started_us, False),
        (has_trial & p.converted & day.contains(p.trial_ends_us), "active", p.trial_ends_us, False),
        (day.contains(_dunning_started_us(world)), "past_due", _dunning_started_us(world), False),
        (day.contains(p.ended_us), "canceled", p.ended_us, True),
    )
    plan_ids = pl.Series(np.array(world.seeds.plan_ids()).ravel(), dtype=pl.String)
    parts = []
    for order, (mask, status, changed, ending) in enumerate(events):
        idx = np.flatnonzero(mask & kept_users(world, p.user_id))
        if status is None:
            status_col = pl.Series(np.where(has_trial[idx], "trialing", "active"))
        else:
            status_col = pl.Series([status] * len(idx), dtype=pl.String)
        parts.append(
            pl.DataFrame(
                {
                    "subscription_id": p.subscription_id[idx],
                    "user_id": p.user_id[idx],
                    "plan_id": plan_ids.gather(p.plan[idx]),
                    "quantity": p.quantity[idx],
                    "status": status_col,
                    "trial_ends_at": ts(p.trial_ends_us[idx], has_trial[idx]),
                    "started_at": ts(p.started_us[idx]),
                    "ended_at": ts(p.ended_us[idx], np.full(len(idx), ending)),
                    "ended_reason": nullable(
                        strings(np.array(REASONS, dtype=object)[p.reason[idx]]),
                        np.full(len(idx), ending),
                    ),
                    "previous_subscription_id": ints(p.previous_id[idx], p.previous_id[idx] >= 0),
                    "created_at": ts(p.started_us[idx]),
                    "updated_at": ts(changed[idx]),
                    "_loaded_at": ts(
                        landed_us(
                            world.seed,
                            f"subscriptions{order}",
                            p.subscription_id[idx],
                            changed[idx],
                            day,
                        )
                    ),
                }
            )
        )
    return pl.concat(parts).sort("updated_at", "subscription_id")
