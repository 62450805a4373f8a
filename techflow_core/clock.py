"""The platform's one clock: the as-of day, the last complete day everything is built through.

`TECHFLOW_AS_OF` (YYYY-MM-DD) fixes it; unset, it is yesterday (UTC). This module is the only
Python code that reads the wall clock: the generator's default end, the Dagster code location, the
summary, slim CI and the benchmarks all ask `as_of_date()`. dbt has the same rule in one macro
(techflow_dbt/macros/as_of.sql). Tests fix the day, so their verdict never depends on when they run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping

from techflow_core.errors import SettingsError

AS_OF_ENV = "TECHFLOW_AS_OF"


def yesterday_utc(now: dt.datetime | None = None) -> dt.date:
    """The last complete UTC day before `now` (default: the wall clock, read here only)."""
    now = now or dt.datetime.now(dt.UTC)
    return (now.astimezone(dt.UTC) - dt.timedelta(days=1)).date()


def parse_as_of(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise SettingsError(
            f"{AS_OF_ENV}={raw!r} is not a date; set it as YYYY-MM-DD (e.g. 2026-06-14) or unset "
            "it to use yesterday (UTC)"
        ) from exc


def as_of_date(environ: Mapping[str, str] | None = None) -> dt.date:
    """$TECHFLOW_AS_OF, or yesterday (UTC): the last day the platform treats as complete."""
    env = os.environ if environ is None else environ
    raw = env.get(AS_OF_ENV)
    return parse_as_of(raw) if raw else yesterday_utc()


def pin_as_of(environ: dict[str, str] | None = None) -> dt.date:
    """Resolve the as-of day once and write it to the environment, so every child process (dbt,
    Dagster steps) agrees on it even when a run crosses midnight UTC."""
    env = os.environ if environ is None else environ
    day = as_of_date(env)
    env[AS_OF_ENV] = day.isoformat()
    return day
