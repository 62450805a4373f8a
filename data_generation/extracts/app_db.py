"""app_db tables of one day: users and subscriptions (changed rows); usage in app_db_usage.py."""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, ints, kept_users, landed_us, nullable, strings, ts
from data_generation.simulation.late import subscription_landing
from data_generation.simulation.lifecycle import NEVER, REASONS
from data_generation.simulation.world import World


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
    team = world.teammates.invited_between(day.start_us, day.end_us)
    frame = pl.concat([created, relocated, _teammates_invited(world, team)])
    changed = np.concatenate(
        [users.signup_us[signed_up], users.relocated_us[moved], world.teammates.invited_us[team]]
    )
    # Key the landing lag by (user, version) so the two versions of a user land independently.
    version_key = frame["user_id"].to_numpy() * 2 + (np.arange(frame.height) >= len(signed_up))
    frame = frame.with_columns(
        _loaded_at=ts(landed_us(world.seed, "users", version_key, changed, day))
    )
    owner = frame["account_owner_id"].fill_null(frame["user_id"]).to_numpy()
    return frame.filter(pl.Series(kept_users(world, owner)))


def _teammates_invited(world: World, idx: np.ndarray) -> pl.DataFrame:
    """Teammates `idx` as user rows: the owner's company, domain and country, a work
    email at the company's domain, signup_at = when they accepted the invitation."""
    people = world.teammates.frame[idx]
    owners = world.users.frame[people["account_owner_id"].to_numpy() - 1]
    return people.select(
        "user_id",
        pl.format("{}.{}@{}", "first", "last", owners["company_domain"])
        .str.to_lowercase()
        .alias("email"),
        pl.format("{} {}", "first", "last").alias("full_name"),
        owners["company_name"],
        owners["company_domain"],
        owners["country"],
        owners["new_country"],
        pl.from_epoch(pl.col("invited_us"), time_unit="us").alias("signup_at"),
        "account_owner_id",
    ).with_columns(updated_at=pl.col("signup_at"))


# The versions of a period, in the order they happen: (status, is the ending version; None: a
# correction, which restates the period as it stands when written).
VERSIONS = ((None, False), ("active", False), ("past_due", False), ("canceled", True), (None, None))


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _version_schedule(world: World) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """When each version of each period is written, and per version kind the periods sorted by
    that time, so a day's versions are two binary searches instead of a scan of every period."""
    p = world.periods
    landing = subscription_landing(world)
    converts = (p.trial_ends_us >= 0) & p.converted
    written = np.stack(
        [
            landing.open_us,
            np.where(converts, p.trial_ends_us, NEVER),
            p.dunning_started_us(),
            landing.end_us,
            landing.correction_us,
        ]
    )
    by_time = []
    for times in written:
        order = np.argsort(times, kind="stable")
        by_time.append((times[order], order))
    return written, by_time


def subscriptions_day(world: World, day: Day) -> pl.DataFrame:
    """Every version of a subscription period written on the day.

    A period lands when it opens (trialing or active), when its trial converts (active), when
    dunning starts (past_due), when it ends (canceled, with ended_at and ended_reason) and, rarely,
    when a wrong value is corrected. With dirt, late-entered changes are written on the day they
    were entered and some versions carry a wrong value until corrected (see simulation/late.py).
    """
    p = world.periods
    landing = subscription_landing(world)
    has_trial = p.trial_ends_us >= 0
    written_at, by_time = _version_schedule(world)
    dunning_started = written_at[2]
    plan_ids = pl.Series(np.array(world.seeds.plan_ids()).ravel(), dtype=pl.String)
    parts = []
    for order, ((status, ending), (times, by)) in enumerate(zip(VERSIONS, by_time, strict=True)):
        lo, hi = np.searchsorted(times, [day.start_us, day.end_us])
        idx = np.sort(by[lo:hi])
        idx = idx[kept_users(world, p.user_id[idx])]
        sid, written = p.subscription_id[idx], written_at[order][idx]
        loaded = landed_us(world.seed, f"subscriptions{order}", sid, written, day)
        correction = ending is None
        # A correction restates the period as it stands when written; the ending version may
        # carry a wrong ended_at until then.
        ended = landing.end_us[idx] < written if correction else np.full(len(idx), ending)
        ended_at = p.ended_us[idx] if correction else landing.ended_shown_us[idx]
        if correction:
            status_col = pl.Series(
                np.select(
                    [ended, dunning_started[idx] <= written, written < p.trial_ends_us[idx]],
                    ["canceled", "past_due", "trialing"],
                    "active",
                )
            )
        elif status is None:
            status_col = pl.Series(np.where(has_trial[idx], "trialing", "active"))
        else:
            status_col = pl.Series([status] * len(idx), dtype=pl.String)
        # Before its correction lands, a period shows the wrong seats; the correction is the truth.
        quantity = np.where(
            written < landing.correction_us[idx], landing.quantity_shown[idx], p.quantity[idx]
        )
        parts.append(
            pl.DataFrame(
                {
                    "subscription_id": sid,
                    "user_id": p.user_id[idx],
                    "plan_id": plan_ids.gather(p.plan[idx]),
                    "quantity": quantity,
                    "status": status_col,
                    "trial_ends_at": ts(p.trial_ends_us[idx], has_trial[idx]),
                    "started_at": ts(p.started_us[idx]),
                    "ended_at": ts(ended_at, ended),
                    "ended_reason": nullable(
                        strings(np.array(REASONS, dtype=object)[p.reason[idx]]), ended
                    ),
                    "previous_subscription_id": ints(p.previous_id[idx], p.previous_id[idx] >= 0),
                    # The record was created when the period was first entered.
                    "created_at": ts(landing.open_us[idx]),
                    "updated_at": ts(written),
                    "_loaded_at": ts(loaded),
                }
            )
        )
    return pl.concat(parts).sort("updated_at", "subscription_id")
