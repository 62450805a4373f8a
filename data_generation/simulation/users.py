"""App users (the customers): who signs up when, through which campaign, and who they are.

Users are numbered in signup order from the world's start (user_id 1, 2, …), so a user's id and
every attribute (hashed from the id) are the same whatever range is generated.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation.simulation import rng
from data_generation.simulation.acquisition import CAMPAIGNS, signups_tensor
from data_generation.simulation.funnel import activation_us
from data_generation.simulation.pools import (
    COMPANY_PREFIXES,
    COMPANY_SUFFIXES,
    COUNTRIES,
    FREE_MAIL_DOMAINS,
    TLDS,
    build_pools,
)
from data_generation.simulation.timeutil import DAY_US, HOUR_US, day_start_us

TEST_ACCOUNT_SHARE = 0.006  # internal QA sign-ups with @techflow.test addresses (dirt)
FREE_MAIL_SHARE = 0.12
RELOCATION_SHARE = 0.06  # users whose country changes later (a second version of the row)
# Hour-of-day weights for signups (UTC; the customer mix is mostly Europe and the Americas).
SIGNUP_HOURS = np.array(
    [1.0, 0.7, 0.5, 0.4, 0.4, 0.6, 1.0, 1.8, 3.0, 4.0, 4.6, 4.8, 4.6, 4.7, 4.9, 5.0, 4.8,
     4.3, 3.6, 2.9, 2.4, 2.0, 1.6, 1.2]
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class Users:
    """All users who signed up on day indices 0..last_index; numpy columns, one entry per user."""

    seed: int
    user_id: np.ndarray
    signup_index: np.ndarray  # day index of signup
    signup_us: np.ndarray
    campaign: np.ndarray  # index into CAMPAIGNS: the campaign of the first (converting) visit
    source: np.ndarray  # index into that campaign's sources
    visit_lag: np.ndarray  # days between the first visit and the signup (0..13)
    activated_us: np.ndarray  # when the user activated a workspace (funnel.py), or NEVER
    is_test: np.ndarray
    relocated_us: np.ndarray  # when the country changed, or -1
    country: np.ndarray  # index into COUNTRIES
    new_country: np.ndarray  # index into COUNTRIES, used from relocated_us on

    @functools.cached_property
    def frame(self) -> pl.DataFrame:
        """Profiles: user_id, email, full_name, company_name, company_domain, country,
        new_country, signup_at; row i is user_id i + 1.

        Built on first use only (string formatting is the costly part of a world), so a run that
        writes only usage events never pays for it; the draws are hashes of user_id, so building
        it later gives the same values.
        """
        return _profile_frame(self)


def time_of_day_us(u_hour: np.ndarray, u_within: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """A time of day drawn from hour weights: which hour, then uniformly inside it."""
    hour = rng.choice(u_hour, hours)
    return hour * HOUR_US + (u_within * HOUR_US).astype(np.int64)


def build_users(seed: int, scale: float, start: dt.date, last_index: int) -> Users:
    counts = signups_tensor(seed, scale, start, last_index)  # (days, campaigns, visit lag)
    flat = counts.ravel()
    n = int(flat.sum())
    cell = np.repeat(np.arange(flat.size), flat)
    days, rest = np.divmod(cell, counts.shape[1] * counts.shape[2])
    campaigns, visit_lag = np.divmod(rest, counts.shape[2])
    user_id = np.arange(1, n + 1, dtype=np.int64)

    def u(stream: str) -> np.ndarray:
        return rng.uniform(seed, "user:" + stream, user_id)

    signup_us = (
        day_start_us(start) + days * DAY_US + time_of_day_us(u("hour"), u("minute"), SIGNUP_HOURS)
    )
    source = np.zeros(n, dtype=np.int64)
    for index, campaign in enumerate(CAMPAIGNS):
        mask = campaigns == index
        source[mask] = rng.choice(u("source")[mask], [w for *_, w in campaign.sources])
    is_test = u("test") < TEST_ACCOUNT_SHARE
    country = rng.choice(u("country"), [w for _, w in COUNTRIES])
    new_country = rng.choice(u("country2"), [w for _, w in COUNTRIES])
    relocates = (u("relocates") < RELOCATION_SHARE) & (new_country != country) & ~is_test
    relocated_us = np.where(
        relocates, signup_us + ((30 + 400 * u("relocated_at")) * DAY_US).astype(np.int64), -1
    )

    return Users(
        seed=seed,
        user_id=user_id,
        signup_index=days.astype(np.int64),
        signup_us=signup_us,
        campaign=campaigns.astype(np.int64),
        source=source,
        visit_lag=visit_lag.astype(np.int64),
        activated_us=activation_us(seed, user_id, campaigns, signup_us),
        is_test=is_test,
        relocated_us=relocated_us,
        country=country,
        new_country=new_country,
    )


def _profile_frame(users: Users) -> pl.DataFrame:
    pools = build_pools(users.seed)
    country_codes = [c for c, _ in COUNTRIES]

    def u(stream: str) -> np.ndarray:
        return rng.uniform(users.seed, "user:" + stream, users.user_id)

    first = pools.first_names.gather(rng.choice(u("first"), np.ones(len(pools.first_names))))
    last = pools.last_names.gather(rng.choice(u("last"), np.ones(len(pools.last_names))))
    prefix_index, word_index, suffix_index, cycle = company_identity(
        users.seed, users.user_id, len(pools.company_words)
    )
    tld_index = rng.choice(u("tld"), [5, 3, 1, 1, 1, 1, 1, 1])
    free_mail = rng.choice(u("free"), np.ones(len(FREE_MAIL_DOMAINS)))
    return (
        pl.DataFrame(
            {
                "user_id": users.user_id,
                "prefix": pl.Series(COMPANY_PREFIXES).gather(prefix_index),
                "cycle": pl.Series(np.where(cycle > 0, (cycle + 1).astype(str), "")),
                "first": first,
                "last": last,
                "word": pools.company_words.gather(word_index),
                "slug": pools.company_slugs.gather(word_index),
                "suffix": pl.Series(COMPANY_SUFFIXES).gather(suffix_index),
                "tld": pl.Series(TLDS).gather(tld_index),
                "free_domain": pl.Series(FREE_MAIL_DOMAINS).gather(free_mail),
                "uses_free_mail": u("uses_free") < FREE_MAIL_SHARE,
                "digits": (u("digits") * 90 + 10).astype(np.int64),
                "is_test": users.is_test,
                "country": pl.Series(country_codes).gather(users.country),
                "new_country": pl.Series(country_codes).gather(users.new_country),
                "signup_at": users.signup_us,
            }
        )
        .with_columns(
            domain=pl.format(
                "{}{}{}{}.{}",
                # "red-fordlabs" vs "redfordlabs": the hyphen keeps a prefix apart from the word.
                pl.when(pl.col("prefix") == "")
                .then(pl.lit(""))
                .otherwise(pl.col("prefix").str.to_lowercase() + "-"),
                "slug",
                pl.col("suffix").str.to_lowercase(),
                "cycle",
                "tld",
            )
        )
        .select(
            "user_id",
            pl.when("is_test")
            .then(pl.format("qa+{}@techflow.test", "user_id"))
            .when("uses_free_mail")
            .then(
                pl.format("{}.{}{}@{}", "first", "last", "digits", "free_domain").str.to_lowercase()
            )
            .otherwise(pl.format("{}.{}@{}", "first", "last", "domain").str.to_lowercase())
            .alias("email"),
            pl.when("is_test")
            .then(pl.lit("QA Tester"))
            .otherwise(pl.format("{} {}", "first", "last"))
            .alias("full_name"),
            pl.when("is_test")
            .then(pl.lit("TechFlow QA"))
            .otherwise(
                pl.format("{} {} {} {}", "prefix", "word", "suffix", "cycle").str.strip_chars()
            )
            .alias("company_name"),
            pl.when("is_test")
            .then(pl.lit("techflow.test"))
            .otherwise("domain")
            .alias("company_domain"),
            "country",
            "new_country",
            pl.from_epoch(pl.col("signup_at"), time_unit="us").alias("signup_at"),
            pl.lit(None, dtype=pl.Int64).alias("account_owner_id"),  # owners own their account
        )
    )


# A large odd multiplier: n -> (n x M + offset) mod N is a bijection whenever gcd(M, N) = 1.
_IDENTITY_MULTIPLIER = 2_654_435_761


def company_identity(
    seed: int, user_id: np.ndarray, words: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(prefix, word, suffix, cycle) of each owner's company, distinct for distinct user_ids.

    Why: drawing word and suffix independently gave thousands of unrelated accounts one
    company. Instead user n takes slot perm(n) of the prefixes x words x suffixes grid, perm an
    affine bijection (seeded offset), so no two of the first N accounts share a company; account
    N + n reuses the grid with a number (cycle 1 → "… 2"). A word's slug ends in no suffix, so
    the domain label (prefix- + slug + suffix + number) is as unique as the name.
    """
    grid = len(COMPANY_PREFIXES) * words * len(COMPANY_SUFFIXES)
    multiplier = _IDENTITY_MULTIPLIER
    while np.gcd(multiplier, grid) != 1:
        multiplier += 2
    n = np.asarray(user_id, dtype=np.int64) - 1
    offset = int(rng.hash64(seed, "company:offset", 0)[0] % np.uint64(grid))
    slot = (n % grid * multiplier + offset) % grid  # < 2^63: grid < 2^18 and multiplier < 2^32
    word_suffix, prefix = np.divmod(slot, len(COMPANY_PREFIXES))
    word, suffix = np.divmod(word_suffix, len(COMPANY_SUFFIXES))
    return prefix, word, suffix, n // grid
