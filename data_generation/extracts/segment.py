"""Segment tables of one day: tracks (page views, sign-ups, activations) and identifies.

Visits are tied to the ad platforms' clicks: each campaign's landing page views of a day are
exactly acquisition_day().visits (a documented share of its clicks, Campaign.land_share). Some of
those visitors are future users on their journey (simulation/journeys.py: a first session
through the campaign that brought them, return sessions through direct, brand search,
retargeting, email…); the rest bounce (1-2 page views, never seen again). Only a session's first
page view carries UTM context (direct traffic has none). A user signs up ("Signed Up" track;
`identify` links the anonymous_id to the user_id) and, if they activate (simulation/funnel.py), a
"Workspace Activated" track follows hours to days later.

Dirt (on by default): UTM values in mixed case, the same message delivered twice (same
message_id), and messages whose batch arrives in the next day's partition.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, kept_users
from data_generation.extracts.ids import uuid_strings
from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS, acquisition_day
from data_generation.simulation.journeys import sources_for
from data_generation.simulation.timeutil import MINUTE_US, SECOND_US
from data_generation.simulation.users import SIGNUP_HOURS, time_of_day_us
from data_generation.simulation.world import World

LANDING_PAGES = (
    "/",
    "/pricing",
    "/product/cloudsync",
    "/product/teamchat",
    "/product/datahub",
    "/blog/remote-work-stack",
)
ACTIVATED_EVENT = "Workspace Activated"
DUPLICATE_SHARE = 0.015
LATE_SHARE = 0.015
MIXED_CASE_SHARE = 0.3
_SPILL_US = 10 * MINUTE_US  # a session's /pricing view may fall into the next day


@functools.lru_cache(maxsize=1)
def _utm_table() -> tuple[np.ndarray, list[tuple[str | None, str | None, str | None]]]:
    offsets = np.cumsum([0] + [len(c.sources) for c in CAMPAIGNS])
    table: list[tuple[str | None, str | None, str | None]] = []
    for c in CAMPAIGNS:
        for utm_source, utm_medium, _ in c.sources:
            direct = utm_source == "(direct)"
            table.append((None, None, None) if direct else (utm_source, utm_medium, c.name))
    return offsets, table


def _utm(campaign: np.ndarray, source: np.ndarray) -> tuple[pl.Series, ...]:
    """Raw (source, medium, name) per visit; direct traffic carries no UTM at all."""
    offsets, table = _utm_table()
    flat = offsets[campaign] + source
    return tuple(
        pl.Series([row[i] for row in table], dtype=pl.String).gather(flat) for i in range(3)
    )


def _frame(
    hi: np.ndarray,
    lo: np.ndarray,
    anon: np.ndarray,
    user_id: np.ndarray | None,
    event: str,
    when: np.ndarray,
    path: np.ndarray | str,
    utm: tuple[pl.Series, ...] | None,
) -> pl.DataFrame:
    n = len(hi)
    none = pl.Series([None] * n, dtype=pl.String)
    src, med, name = utm if utm is not None else (none, none, none)
    return pl.DataFrame(
        {
            "hi": hi,
            "lo": lo,
            "anon": anon,
            "user_id": none if user_id is None else pl.Series(user_id).cast(pl.String),
            "event": pl.Series([event] * n, dtype=pl.String),
            "timestamp": when,
            "context_page_path": pl.Series(np.broadcast_to(np.asarray(path, dtype=object), n)),
            "context_campaign_source": src,
            "context_campaign_medium": med,
            "context_campaign_name": name,
        },
        schema_overrides={"context_page_path": pl.String},
    )


def _between(sorted_us: np.ndarray, first_us: int, end_us: int) -> slice:
    lo, hi = np.searchsorted(sorted_us, [first_us, end_us])
    return slice(int(lo), int(hi))


def _journey_tracks(world: World, day: Day) -> pl.DataFrame:
    """Future users' pre-signup sessions that touch `day`: landing view (+ /pricing)."""
    j = world.journeys
    part = _between(j.ts_us, day.start_us - _SPILL_US, day.end_us)
    users = world.users
    idx = j.user_index[part]
    keep = kept_users(world, users.user_id[idx])
    idx = idx[keep]
    uid = users.user_id[idx]
    touch = j.touch_no[part][keep]
    key = uid * 8 + touch
    when = j.ts_us[part][keep]
    anon = rng.hash64(world.seed, "segment:anon", uid)
    campaign, source = j.campaign[part][keep], j.source[part][keep]
    landing = np.array(LANDING_PAGES, dtype=object)[
        rng.choice(rng.uniform(world.seed, "segment:landing", key), np.ones(len(LANDING_PAGES)))
    ]
    pricing_at = when + ((1 + 4 * rng.uniform(world.seed, "segment:pricing", key)) * MINUTE_US)
    touch_bits = touch.astype(np.uint64)
    views = _frame(
        rng.hash64(world.seed, "segment:touch", key), anon ^ np.uint64(16) ^ touch_bits,
        anon, None, "Page Viewed", when, landing, _utm(campaign, source),
    )  # fmt: skip
    pricing = _frame(
        rng.hash64(world.seed, "segment:touch_pricing", key),
        anon ^ np.uint64(32) ^ touch_bits,
        anon, None, "Page Viewed", pricing_at.astype(np.int64), "/pricing", None,
    ).filter(pl.Series(j.pricing[part][keep]))  # fmt: skip
    return pl.concat([views, pricing]).filter(
        pl.col("timestamp").is_between(day.start_us, day.end_us, closed="left")
    )


def _user_tracks(world: World, day: Day) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sign-ups and activations on `day`, and the identifies that link browsers to users."""
    users = world.users
    # Users are numbered in signup-day order; a signup at 23:59:59 lands its track a second later.
    lo, hi = np.searchsorted(users.signup_index, [day.index - 1, day.index + 1])
    near = np.arange(lo, hi)
    near = near[kept_users(world, users.user_id[near])]
    uid, signup = users.user_id[near], users.signup_us[near]
    anon = rng.hash64(world.seed, "segment:anon", uid)
    signed_up = _frame(
        rng.hash64(world.seed, "segment:track3", uid), anon ^ np.uint64(3), anon, uid,
        "Signed Up", signup + SECOND_US, "/signup", None,
    ).filter(pl.Series(day.contains(signup + SECOND_US)))  # fmt: skip
    order = world.activation_order
    part = _between(users.activated_us[order], day.start_us, day.end_us)
    act = order[part]
    act = act[kept_users(world, users.user_id[act])]
    act_uid = users.user_id[act]
    act_anon = rng.hash64(world.seed, "segment:anon", act_uid)
    activated = _frame(
        rng.hash64(world.seed, "segment:activated", act_uid), act_anon ^ np.uint64(4), act_anon,
        act_uid, ACTIVATED_EVENT, users.activated_us[act], "/app/welcome", None,
    )  # fmt: skip
    on_day = day.contains(signup)
    identifies = pl.DataFrame(
        {
            "hi": rng.hash64(world.seed, "segment:identify", uid),
            "lo": anon ^ np.uint64(99),
            "anon": anon,
            "user_id": pl.Series(uid).cast(pl.String),
            "email": users.frame["email"].gather(near),
            "timestamp": signup,
        }
    ).filter(pl.Series(on_day))
    return pl.concat([signed_up, activated]), identifies


def _bounces(world: World, day: Day) -> pl.DataFrame:
    """Visitors who look around and leave: the day's visits no journey accounts for."""
    acq = acquisition_day(world.seed, world.scale, world.start, day.index)
    g = rng.day_rng(world.seed, "segment:bounces", day.index)
    per_campaign = np.maximum(acq.visits - world.journey_visits[day.index], 0)
    campaign = np.repeat(np.arange(len(CAMPAIGNS)), per_campaign)
    n = len(campaign)
    anon = g.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    # Keyed by the anonymous id, so the UTM variant does not depend on the draw order above.
    source = sources_for(world.seed, "segment:bounce_source", anon.astype(np.int64), campaign)
    start = day.start_us + time_of_day_us(g.random(n), g.random(n), SIGNUP_HOURS)
    landing = rng.choice(g.random(n), np.ones(len(LANDING_PAGES)))
    second = g.random(n) < 0.4
    hi = g.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    first_views = _frame(
        hi, anon ^ np.uint64(7), anon, None, "Page Viewed", start,
        np.array(LANDING_PAGES, dtype=object)[landing], _utm(campaign, source),
    )  # fmt: skip
    hi2 = g.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    second_views = first_views.with_columns(
        hi=pl.Series(hi2),
        timestamp=pl.Series(np.minimum(start + 90 * SECOND_US, day.end_us - 1)),
        context_page_path=pl.lit("/pricing"),
        context_campaign_source=pl.lit(None, pl.String),
        context_campaign_medium=pl.lit(None, pl.String),
        context_campaign_name=pl.lit(None, pl.String),
    ).filter(pl.Series(second))
    return pl.concat([first_views, second_views])


@functools.lru_cache(maxsize=4)
def messages_on(world: World, day: Day) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(tracks, identifies) that happened on `day`, with late/duplicate flags and ids."""
    user_tracks, identifies = _user_tracks(world, day)
    tracks = pl.concat([_journey_tracks(world, day), user_tracks, _bounces(world, day)])
    out = []
    for k, frame in enumerate((tracks, identifies)):
        n = frame.height
        g = rng.day_rng(world.seed, f"segment:dirt{k}", day.index)
        frame = frame.with_columns(
            message_id=uuid_strings(frame["hi"].to_numpy(), frame["lo"].to_numpy()),
            anonymous_id=uuid_strings(
                frame["anon"].to_numpy(), frame["anon"].to_numpy() ^ np.uint64(0x5EED)
            ),
            late=pl.Series(g.random(n) < LATE_SHARE),
            duplicated=pl.Series(g.random(n) < DUPLICATE_SHARE),
            case=pl.Series(
                rng.choice(
                    g.random(n), [1 - MIXED_CASE_SHARE, MIXED_CASE_SHARE / 2, MIXED_CASE_SHARE / 2]
                )
            ),
            lag=pl.Series(((1 + 30 * g.random(n)) * MINUTE_US).astype(np.int64)),
            late_lag=pl.Series(((20 + 300 * g.random(n)) * MINUTE_US).astype(np.int64)),
        ).drop("hi", "lo", "anon")
        out.append(frame.sort("timestamp", "message_id"))
    return out[0], out[1]


def _mixed_case(column: str) -> pl.Expr:
    col = pl.col(column)
    return (
        pl.when(pl.col("case") == 1)
        .then(col.str.to_uppercase())
        .when(pl.col("case") == 2)
        .then(col.str.to_titlecase())
        .otherwise(col)
        .alias(column)
    )


def _partition(world: World, day: Day, which: int, columns: list[str]) -> pl.DataFrame:
    today = messages_on(world, day)[which]
    if not world.dirt:
        frame = today.with_columns(
            landed=pl.min_horizontal(pl.col("timestamp") + pl.col("lag"), pl.lit(day.end_us - 1))
        )
    else:
        parts = [
            today.filter(~pl.col("late")).with_columns(
                landed=pl.min_horizontal(
                    pl.col("timestamp") + pl.col("lag"), pl.lit(day.end_us - 1)
                )
            )
        ]
        if day.index > 0:
            yesterday = messages_on(world, day.shift(-1))[which]
            parts.append(
                yesterday.filter(pl.col("late")).with_columns(
                    landed=pl.lit(day.start_us) + pl.col("late_lag")
                )
            )
        frame = pl.concat(parts)
        # A retried delivery lands again a little later: same message_id, same payload.
        dupes = frame.filter("duplicated").with_columns(
            landed=pl.min_horizontal(pl.col("landed") + 7 * MINUTE_US, pl.lit(day.end_us - 1))
        )
        frame = pl.concat([frame, dupes])
        if which == 0:
            frame = frame.with_columns(
                _mixed_case(c)
                for c in (
                    "context_campaign_source",
                    "context_campaign_medium",
                    "context_campaign_name",
                )
            )
    return frame.sort("landed", "message_id").select(
        *[c for c in columns if c not in ("timestamp", "_loaded_at")],
        pl.col("timestamp").cast(pl.Datetime("us")),
        pl.col("landed").cast(pl.Datetime("us")).alias("_loaded_at"),
    )


def tracks_day(world: World, day: Day) -> pl.DataFrame:
    return _partition(
        world,
        day,
        0,
        [
            "message_id",
            "anonymous_id",
            "user_id",
            "event",
            "context_page_path",
            "context_campaign_source",
            "context_campaign_medium",
            "context_campaign_name",
        ],
    )


def identifies_day(world: World, day: Day) -> pl.DataFrame:
    return _partition(world, day, 1, ["message_id", "anonymous_id", "user_id", "email"])
