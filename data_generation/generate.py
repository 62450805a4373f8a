"""generate_day / generate_range: the functions the CLI and the Dagster assets call."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import polars as pl

from data_generation import app_db, marketing, salesforce, segment, stripe, usage
from data_generation.config import WorldConfig
from data_generation.errors import InvalidInputError
from data_generation.frames import Day
from data_generation.schema import RAW_TABLES, RAW_TABLES_BY_NAME, RawTable
from data_generation.world import World, world_for
from data_generation.writer import TableDayResult, write_partition

Builder = Callable[[World, Day], pl.DataFrame]
BUILDERS: dict[str, Builder] = {
    "users": app_db.users_day,
    "subscriptions": app_db.subscriptions_day,
    "usage_events": usage.usage_events_day,
    "customers": stripe.customers_day,
    "invoices": stripe.invoices_day,
    "charges": stripe.charges_day,
    "tracks": segment.tracks_day,
    "identifies": segment.identifies_day,
    "accounts": salesforce.accounts_day,
    "opportunities": salesforce.opportunities_day,
    "ad_spend": marketing.ad_spend_day,
}
assert set(BUILDERS) == set(RAW_TABLES_BY_NAME), "every raw table needs exactly one builder"


def resolve_tables(tables: Iterable[str] | None) -> list[RawTable]:
    """Table names (or system.table) → RawTables in contract order; None means all 11."""
    if tables is None:
        return list(RAW_TABLES)
    wanted = []
    for name in tables:
        short = name.split(".", 1)[-1].strip()
        if short not in RAW_TABLES_BY_NAME:
            raise InvalidInputError(
                f"unknown table {name!r}; choose from {', '.join(RAW_TABLES_BY_NAME)}"
            )
        wanted.append(short)
    return [t for t in RAW_TABLES if t.name in wanted]


def check_range(cfg: WorldConfig, first: dt.date, last: dt.date) -> None:
    if last < first:
        raise InvalidInputError(
            f"end {last} is before start {first}; pass --end on or after --start"
        )
    if first < cfg.start:
        raise InvalidInputError(
            f"day {first} is before the world's start {cfg.start}; the world has no history before "
            "it (lower --start / TECHFLOW_WORLD_START or ask for a later day)"
        )


def check_writable(out_dir: Path) -> None:
    """Fail before writing anything if out_dir cannot be created or written."""
    probe = Path(out_dir).resolve()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidInputError(
            f"output directory {out_dir} is not writable ({probe} "
            f"{'is not a directory' if not probe.is_dir() else 'denies write access'}); "
            "pass a writable --out or fix its permissions"
        )


def _iter_days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _write_day(
    cfg: WorldConfig, world: World, date: dt.date, tables: list[RawTable]
) -> list[TableDayResult]:
    day = Day.of(world, date)
    results = []
    for table in tables:
        frame = BUILDERS[table.name](world, day)
        if frame.height == 0:
            frame = pl.DataFrame(schema=table.schema)
        results.append(write_partition(cfg.out_dir, table, date, frame))
    return results


def generate_day(
    cfg: WorldConfig, day: dt.date, tables: Iterable[str] | None = None
) -> list[TableDayResult]:
    """Write one day's partition of each table (all 11 by default); returns one result per file."""
    return generate_range(cfg, day, day, tables)


def generate_range(
    cfg: WorldConfig,
    first: dt.date,
    last: dt.date,
    tables: Iterable[str] | None = None,
    progress: bool = False,
) -> list[TableDayResult]:
    """Write every day in [first, last]; day by day, so memory holds one day of data at a time."""
    selected = resolve_tables(tables)
    check_range(cfg, first, last)
    check_writable(cfg.out_dir)
    world = world_for(cfg, last)  # validates the seeds before the first file is written
    days = list(_iter_days(first, last))
    results: list[TableDayResult] = []
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        # On stderr, so `techflow-generate > summary.txt` keeps a clean summary.
        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("generating days", total=len(days))
            for date in days:
                results += _write_day(cfg, world, date, selected)
                bar.advance(task)
    else:
        for date in days:
            results += _write_day(cfg, world, date, selected)
    return results
