"""Realistic value pools built once with mimesis, then sampled by index (never per row)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import polars as pl
from mimesis import Finance, Person, Text
from mimesis.locales import Locale

POOL_SIZE = 600
COMPANY_SUFFIXES = (
    "Labs", "Systems", "Analytics", "Group", "Health", "Logistics", "Software", "Partners",
    "Media", "Capital", "Robotics", "Foods", "Studio", "Works", "Energy", "Cloud",
)  # fmt: skip
# A distinguishing first word, so (prefix, word, suffix) names enough distinct companies
# (24 x ~600 x 16 ≈ 230,000) for every account of a large world to have its own (users.py).
COMPANY_PREFIXES = (
    "", "North", "Blue", "Bright", "Summit", "Silver", "Red", "Green", "Open", "True", "Clear",
    "Swift", "Prime", "Nova", "Apex", "Iron", "Golden", "Evergreen", "Pacific", "Atlantic",
    "Urban", "Alpine", "Coastal", "Granite",
)  # fmt: skip
TLDS = ("com", "io", "co", "ai", "net", "de", "co.uk", "app")
FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me")
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Education",
    "Media", "Logistics", "Real Estate", "Professional Services", "Energy", "Government",
)  # fmt: skip
# ISO 3166-1 alpha-2 with a B2B SaaS customer mix (weights sum to 1).
COUNTRIES = (
    ("US", 0.42), ("GB", 0.10), ("DE", 0.08), ("CA", 0.06), ("FR", 0.05), ("IN", 0.05),
    ("AU", 0.04), ("NL", 0.03), ("BR", 0.03), ("ES", 0.02), ("SE", 0.02), ("SG", 0.02),
    ("JP", 0.02), ("IE", 0.02), ("PL", 0.02), ("MX", 0.02),
)  # fmt: skip


@dataclass(frozen=True)
class Pools:
    first_names: pl.Series
    last_names: pl.Series
    company_words: pl.Series  # the distinctive part of a company name, e.g. "Harbor"
    company_slugs: pl.Series  # the same word as a domain label, e.g. "harbor"


def _unique(values: list[str], size: int) -> list[str]:
    seen = dict.fromkeys(v for v in values if v)
    return list(seen)[:size]


@functools.cache
def build_pools(seed: int) -> Pools:
    """Draw the pools once per seed; mimesis is seeded, so the pools are reproducible."""
    person = Person(Locale.EN, seed=seed)
    text = Text(Locale.EN, seed=seed)
    finance = Finance(Locale.EN, seed=seed)
    firsts = _unique([person.first_name() for _ in range(POOL_SIZE * 3)], POOL_SIZE)
    lasts = _unique([person.last_name() for _ in range(POOL_SIZE * 3)], POOL_SIZE)
    # Company names read best as surnames ("Whitaker Logistics") and a few nouns ("Harbor Labs").
    nouns = [w.title() for w in text.words(quantity=POOL_SIZE) if w.isalpha() and len(w) > 4]
    brands = [re.split(r"[ ,.&]", finance.company())[0] for _ in range(100)]
    words = _unique(brands + lasts[: POOL_SIZE // 2] + nouns, POOL_SIZE)
    # One word per slug ("O'Neil" and "Oneil" would share a domain label): company identities
    # are built from these and must not collide (users.py).
    by_slug = {re.sub(r"[^a-z0-9]", "", w.lower()): w for w in reversed(words)}
    by_slug.pop("", None)
    words = [w for w in words if by_slug.get(re.sub(r"[^a-z0-9]", "", w.lower())) == w]
    slugs = [re.sub(r"[^a-z0-9]", "", w.lower()) for w in words]
    return Pools(
        first_names=pl.Series(firsts, dtype=pl.String),
        last_names=pl.Series(lasts, dtype=pl.String),
        company_words=pl.Series(words, dtype=pl.String),
        company_slugs=pl.Series(slugs, dtype=pl.String),
    )
