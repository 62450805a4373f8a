"""Segment tables of one day: tracks (page views, sign-ups) and identifies.

A future user first visits up to a week before signing up, landing from their campaign's link
(the only page that carries UTM context; direct traffic has none), looks at pricing, may come back
on the signup day, then signs up: `identify` links the anonymous_id to the user_id and the
"Signed Up" track carries both. Many more visitors bounce without signing up.

Dirt (on by default): UTM values in mixed case, the same message delivered twice (same
message_id), and messages whose batch arrives in the next day's partition.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from data_generation import rng
from data_generation.acquisition import CAMPAIGNS, acquisition_day
from data_generation.frames import Day, kept_users
from data_generation.ids import uuid_strings
from data_generation.timeutil import DAY_US, MINUTE_US, SECOND_US
from data_generation.users import SIGNUP_HOURS, time_of_day_us
from data_generation.world import LOOKAHEAD_DAYS, World

VISIT_LAG_WEIGHTS = (0.45, 0.2, 0.12, 0.08, 0.06, 0.05, 0.04)  # days between first visit and signup
BOUNCES_PER_SIGNUP = 2.5
LANDING_PAGES = (
    "/",
    "/pricing",
    "/product/cloudsync",
    "/product/teamchat",
    "/product/datahub",
    "/blog/remote-work-stack",
)
DUPLICATE_SHARE = 0.015
LATE_SHARE = 0.015
MIXED_CASE_SHARE = 0.3


def _utm(world: World, campaign: np.ndarray, source: np.ndarray) -> tuple[pl.Series, ...]:
    """Raw (source, medium, name) per visitor; direct traffic carries no UTM at all."""
    offsets = np.cumsum([0] + [len(c.sources) for c in CAMPAIGNS])
    table: list[tuple[str | None, str | None, str | None]] = []
    for c in CAMPAIGNS:
        for utm_source, utm_medium, _ in c.sources:
            direct = utm_source == "(direct)"
            table.append((None, None, None) if direct else (utm_source, utm_medium, c.name))
    flat = offsets[campaign] + source
    return tuple(
        pl.Series([row[i] for row in table], dtype=pl.String).gather(flat) for i in range(3)
    )


def _sources(campaign: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Which of its campaign's UTM source variants each visitor arrived with."""
    source = np.zeros(len(campaign), dtype=np.int64)
    for index, c in enumerate(CAMPAIGNS):
        mask = campaign == index
        source[mask] = rng.choice(u[mask], [w for *_, w in c.sources])
    return source


def _user_tracks(world: World, day: Day) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tracks and identifies of users who visit or sign up on `day`."""
    users = world.users
    near = np.flatnonzero(
        (users.signup_index >= day.index)
        & (users.signup_index <= day.index + LOOKAHEAD_DAYS - 1)
        & kept_users(world, users.user_id)
    )
    uid = users.user_id[near]
    signup = users.signup_us[near]
    lag = rng.choice(rng.uniform(world.seed, "segment:lag", uid), VISIT_LAG_WEIGHTS)
    visit_day_start = (signup // DAY_US - lag) * DAY_US
    other_day_visit = visit_day_start + time_of_day_us(
        rng.uniform(world.seed, "segment:hour", uid),
        rng.uniform(world.seed, "segment:min", uid),
        SIGNUP_HOURS,
    )
    same_day_visit = signup - (
        (3 + 40 * rng.uniform(world.seed, "segment:before", uid)) * MINUTE_US
    ).astype(np.int64)
    visit = np.where(
        lag == 0, same_day_visit, np.minimum(other_day_visit, signup - 3600 * SECOND_US)
    )
    anon_hash = rng.hash64(world.seed, "segment:anon", uid)
    landing = rng.choice(
        rng.uniform(world.seed, "segment:landing", uid), np.ones(len(LANDING_PAGES))
    )
    src, med, name = _utm(world, users.campaign[near], users.source[near])
    n = len(uid)
    none = pl.Series([None] * n, dtype=pl.String)
    pricing_view = visit + (
        (1 + 4 * rng.uniform(world.seed, "segment:pricing", uid)) * MINUTE_US
    ).astype(np.int64)
    return_visit = np.where(lag > 0, signup - 10 * MINUTE_US, -1)  # -1: never (same-day signup)

    def page(path: str) -> np.ndarray:
        return np.full(n, path, dtype=object)

    landing_page = np.array(LANDING_PAGES, dtype=object)[landing]
    kinds = (  # (timestamp, event, path, carries the UTM?, identified?)
        (visit, "Page Viewed", landing_page, True, False),
        (pricing_view, "Page Viewed", page("/pricing"), False, False),
        (return_visit, "Page Viewed", page("/"), False, False),
        (signup + SECOND_US, "Signed Up", page("/signup"), False, True),
    )
    frames = []
    for k, (when, event, path, with_utm, identified) in enumerate(kinds):
        on_day = day.contains(when)
        message = rng.hash64(world.seed, f"segment:track{k}", uid)
        frames.append(
            pl.DataFrame(
                {
                    "hi": message,
                    "lo": anon_hash ^ np.uint64(k),
                    "anon": anon_hash,
                    "user_id": pl.Series(uid).cast(pl.String)
                    if identified
                    else pl.Series(none, dtype=pl.String),
                    "event": pl.Series([event] * n, dtype=pl.String),
                    "timestamp": when,
                    "context_page_path": pl.Series(path, dtype=pl.String),
                    "context_campaign_source": pl.Series(
                        src if with_utm else none, dtype=pl.String
                    ),
                    "context_campaign_medium": pl.Series(
                        med if with_utm else none, dtype=pl.String
                    ),
                    "context_campaign_name": pl.Series(name if with_utm else none, dtype=pl.String),
                }
            ).filter(pl.Series(on_day))
        )
    tracks = pl.concat(frames)
    on_day = day.contains(signup)
    identifies = pl.DataFrame(
        {
            "hi": rng.hash64(world.seed, "segment:identify", uid),
            "lo": anon_hash ^ np.uint64(99),
            "anon": anon_hash,
            "user_id": pl.Series(uid).cast(pl.String),
            "email": users.frame["email"].gather(near),
            "timestamp": signup,
        }
    ).filter(pl.Series(on_day))
    return tracks, identifies


def _bounces(world: World, day: Day) -> pl.DataFrame:
    """Visitors who look around and leave: 1-2 page views, same UTM mix as the day's signups."""
    acq = acquisition_day(world.seed, world.scale, world.start, day.index)
    g = rng.day_rng(world.seed, "segment:bounces", day.index)
    per_campaign = g.poisson(acq.signups * BOUNCES_PER_SIGNUP + world.scale)
    campaign = np.repeat(np.arange(len(CAMPAIGNS)), per_campaign)
    n = len(campaign)
    source = _sources(campaign, g.random(n))
    src, med, name = _utm(world, campaign, source)
    anon = g.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    start = day.start_us + time_of_day_us(g.random(n), g.random(n), SIGNUP_HOURS)
    landing = rng.choice(g.random(n), np.ones(len(LANDING_PAGES)))
    second = g.random(n) < 0.4
    first_views = pl.DataFrame(
        {
            "hi": g.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True),
            "lo": anon ^ np.uint64(7),
            "anon": anon,
            "user_id": pl.Series([None] * n, dtype=pl.String),
            "event": pl.Series(["Page Viewed"] * n, dtype=pl.String),
            "timestamp": start,
            "context_page_path": pl.Series(
                np.array(LANDING_PAGES, dtype=object)[landing], dtype=pl.String
            ),
            "context_campaign_source": pl.Series(src, dtype=pl.String),
            "context_campaign_medium": pl.Series(med, dtype=pl.String),
            "context_campaign_name": pl.Series(name, dtype=pl.String),
        }
    )
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
    tracks = pl.concat([user_tracks, _bounces(world, day)])
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
