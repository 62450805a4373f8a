"""Acquisition from the raw Segment, app and ad-spend data (METRICS.md, "Visits, sessions and
attribution", "CAC and cohorting"), written out again in polars.

- A track message counts once (Segment re-delivers); UTM values are trimmed and lower-cased and
  mapped to a channel by the utm_channel_mapping seed (untagged = direct, unknown = other).
- A visit is a session: a browser's page views with no gap over 30 minutes; its channel and
  campaign are its first page view's.
- A signup (a real account owner) is linked to the sessions of every browser it identified on
  and to sessions naming it; its first touch is its earliest session at or before signup; with
  none it is direct.
- A signup is a paying customer once it has had MRR; CAC = spend / paying customers acquired,
  by acquisition (signup) month and channel.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tests.reference.raw import is_qa, month_start, read_raw, read_seed, real_users

SESSION_GAP = pl.duration(minutes=30)


def _utm(column: str) -> pl.Expr:
    value = pl.col(column).str.strip_chars().str.to_lowercase()
    return pl.when(value == "").then(None).otherwise(value)


def sessions(raw_dir: Path) -> pl.DataFrame:
    """One row per session: session_id, anonymous_id, user_id, started_at, channel, campaign."""
    mapping = read_seed("utm_channel_mapping")
    tracks = (
        read_raw(raw_dir, "segment", "tracks")
        .sort("_loaded_at", "timestamp")
        .unique("message_id", keep="first")
        .filter(pl.col("event").str.strip_chars().str.to_lowercase() == "page viewed")
        .with_columns(
            utm_source=_utm("context_campaign_source"),
            utm_medium=_utm("context_campaign_medium"),
            campaign=_utm("context_campaign_name").fill_null("(none)"),
            user_id=pl.col("user_id").str.strip_chars().cast(pl.Int64, strict=False),
        )
        .join(
            mapping,
            left_on=[
                pl.col("utm_source").fill_null("(direct)"),
                pl.col("utm_medium").fill_null("(none)"),
            ],
            right_on=["utm_source", "utm_medium"],
            how="left",
        )
        .with_columns(pl.col("channel").fill_null("other"))
        .sort("anonymous_id", "timestamp", "message_id")
    )
    gap = pl.col("timestamp") - pl.col("timestamp").shift(1).over("anonymous_id")
    numbered = tracks.with_columns(
        session_number=(gap.is_null() | (gap > SESSION_GAP))
        .cast(pl.Int64)
        .cum_sum()
        .over("anonymous_id")
    )
    return numbered.group_by("anonymous_id", "session_number").agg(
        session_id=pl.col("message_id").first(),
        started_at=pl.col("timestamp").first(),
        channel=pl.col("channel").first(),
        campaign=pl.col("campaign").first(),
        user_id=pl.col("user_id").max(),
    )


def signups(raw_dir: Path) -> pl.DataFrame:
    """Real account owners with their signup time and acquisition month."""
    return (
        real_users(raw_dir)
        .filter(pl.col("account_owner_id").is_null())
        .select("user_id", "signup_at", acquisition_month=month_start("signup_at"))
    )


def first_touches(raw_dir: Path) -> pl.DataFrame:
    """user_id, channel, campaign, session_id (null without a tracked touch) per signup."""
    all_sessions = sessions(raw_dir)
    identifies = read_raw(raw_dir, "segment", "identifies")
    browsers = (
        identifies.sort("_loaded_at", "timestamp")
        .unique("message_id", keep="first")
        .filter(~is_qa(pl.col("email")))
        .select(
            "anonymous_id", user_id=pl.col("user_id").str.strip_chars().cast(pl.Int64, strict=False)
        )
        .unique()
    )
    linked = pl.concat(
        [
            all_sessions.drop("user_id").join(browsers, on="anonymous_id"),
            all_sessions.filter(pl.col("user_id").is_not_null()),
        ],
        how="diagonal_relaxed",
    ).unique(["user_id", "session_id"])
    people = signups(raw_dir)
    first = (
        linked.join(people, on="user_id")
        .filter(pl.col("started_at") <= pl.col("signup_at"))
        .sort("started_at", "session_id")
        .group_by("user_id")
        .agg(pl.col("session_id", "channel", "campaign", "started_at").first())
    )
    return people.join(first, on="user_id", how="left").with_columns(
        pl.col("channel").fill_null("direct"), pl.col("campaign").fill_null("(none)")
    )


def spend_by_month_and_channel(raw_dir: Path) -> pl.DataFrame:
    """Ad spend in cents per spend month and channel (a re-exported day counts once: the latest)."""
    spend = read_raw(raw_dir, "marketing", "ad_spend").with_columns(
        channel=pl.col("channel").str.strip_chars().str.to_lowercase(),
        campaign=pl.col("campaign").str.strip_chars().str.to_lowercase(),
    )
    latest = spend.sort("_loaded_at").unique(["spend_date", "channel", "campaign"], keep="last")
    return latest.group_by(month=month_start("spend_date"), channel="channel").agg(
        spend_cents=pl.col("spend_cents").sum()
    )


def cac_by_month_and_channel(raw_dir: Path, first_paid: pl.DataFrame) -> pl.DataFrame:
    """month, channel, spend_cents, paying (acquired that month, paid to date), for every month x
    channel with spend. first_paid: customer_id of every customer that has had MRR."""
    acquired = (
        first_touches(raw_dir)
        .join(first_paid.select(user_id="customer_id"), on="user_id", how="semi")
        .group_by(month="acquisition_month", channel="channel")
        .agg(paying=pl.len())
    )
    return spend_by_month_and_channel(raw_dir).join(acquired, on=["month", "channel"], how="left")
