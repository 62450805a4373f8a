"""generate_day / generate_range: the functions the CLI and the Dagster assets call."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from data_generation.config import WorldConfig
from data_generation.errors import InvalidInputError
from data_generation.extracts import app_db, app_db_usage, marketing, salesforce, segment, stripe
from data_generation.extracts.frames import Day
from data_generation.schema import RAW_TABLES, RAW_TABLES_BY_NAME, RawTable
from data_generation.simulation.world import World, world_for
from data_generation.writer import TableDayResult, write_partition

Builder = Callable[[World, Day], pl.DataFrame]
BUILDERS: dict[str, Builder] = {
    "users": app_db.users_day,
    "subscriptions": app_db.subscriptions_day,
    "usage_events": app_db_usage.usage_events_day,
    "customers": stripe.customers_day,
    "invoices": stripe.invoices_day,
    "charges": stripe.charges_day,
    "invoice_line_items": stripe.invoice_line_items_day,
    "tracks": segment.tracks_day,
    "identifies": segment.identifies_day,
    "accounts": salesforce.accounts_day,
    "opportunities": salesforce.opportunities_day,
    "ad_spend": marketing.ad_spend_day,
}
assert set(BUILDERS) == set(RAW_TABLES_BY_NAME), "every raw table needs exactly one builder"
# A parallel run (workers > 1) hands out the days in blocks of this many: a worker pays one extra
# day of usage events and Segment messages per block (the late batch of the day before), and the
# world grows over the range, so blocks must be small enough for two workers to finish together.
BLOCK_DAYS = 32


def resolve_tables(tables: Iterable[str] | None) -> list[RawTable]:
    """Table names (or system.table) → RawTables in contract order; None means all of RAW_TABLES."""
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


def _build_day(world: World, date: dt.date, tables: list[RawTable]) -> list[pl.DataFrame]:
    day = Day.of(world, date)
    frames = []
    for table in tables:
        frame = BUILDERS[table.name](world, day)
        frames.append(frame if frame.height else pl.DataFrame(schema=table.schema))
    return frames


class _DayWriter:
    """Writes day D's files on a background thread while the caller builds day D+1.

    Parquet encoding releases the GIL, so building and writing overlap; at most one day waits to
    be written, so memory stays bounded by about two days of data. Files appear in day order and
    a failed write is raised from the next `submit` or from `finish`.
    """

    def __init__(self, out_dir: Path, tables: list[RawTable]) -> None:
        self._out_dir = out_dir
        self._tables = tables
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="techflow-writer")
        self._pending: Future[list[TableDayResult]] | None = None
        self.results: list[TableDayResult] = []

    def _write(self, date: dt.date, frames: list[pl.DataFrame]) -> list[TableDayResult]:
        return [
            write_partition(self._out_dir, table, date, frame)
            for table, frame in zip(self._tables, frames, strict=True)
        ]

    def _collect(self) -> None:
        if self._pending is not None:
            self.results += self._pending.result()
            self._pending = None

    def submit(self, date: dt.date, frames: list[pl.DataFrame]) -> None:
        self._collect()
        self._pending = self._pool.submit(self._write, date, frames)

    def finish(self) -> list[TableDayResult]:
        try:
            self._collect()
        finally:
            self._pool.shutdown(wait=True)
        return self.results


def generate_day(
    cfg: WorldConfig, day: dt.date, tables: Iterable[str] | None = None
) -> list[TableDayResult]:
    """Write one day's partition of each table (all of RAW_TABLES by default); one result per
    file."""
    return generate_range(cfg, day, day, tables)


def generate_range(
    cfg: WorldConfig,
    first: dt.date,
    last: dt.date,
    tables: Iterable[str] | None = None,
    progress: bool = False,
    workers: int = 1,
) -> list[TableDayResult]:
    """Write every day in [first, last], streaming day by day (memory: the world + ~2 days).

    workers > 1 splits a range of more than one block (BLOCK_DAYS) over that many processes
    (this one and workers - 1 spawned): a day's files depend only on (cfg, day), so they are the
    same bytes whichever process writes them, but they no longer appear in day order, and each
    process holds its own copy of the world. The results are in day order either way.
    """
    selected = resolve_tables(tables)
    check_range(cfg, first, last)
    check_writable(cfg.out_dir)
    world_for(cfg, last)  # validates the seeds before the first file is written
    days = list(_iter_days(first, last))
    blocks = [days[i : i + BLOCK_DAYS] for i in range(0, len(days), BLOCK_DAYS)]
    if workers > 1 and len(blocks) > 1:
        return _generate_in_processes(cfg, blocks, selected, last, progress, workers)
    with _progress(progress, len(days)) as advance:
        return _generate_days(cfg, days, selected, last, advance)


def _generate_days(
    cfg: WorldConfig,
    days: list[dt.date],
    tables: list[RawTable],
    horizon_day: dt.date,
    advance: Callable[[], None] = lambda: None,
) -> list[TableDayResult]:
    """Build and write `days` in order in this process, with the world able to reach
    horizon_day (the range's last day, so every worker of a range shares one world)."""
    world = world_for(cfg, horizon_day)
    writer = _DayWriter(cfg.out_dir, tables)
    try:
        for date in days:
            writer.submit(date, _build_day(world, date, tables))
            advance()
    finally:
        results = writer.finish()
    return results


class _BlockQueue:
    """Blocks of days (with their index) handed out to whichever worker asks first, the last
    block first: the world grows over the range, so the late blocks take longest, and ending on
    the short early ones leaves the workers finishing together. Thread-safe; after `stop` (a
    worker failed) it hands out nothing more."""

    def __init__(self, blocks: list[list[dt.date]]) -> None:
        self._blocks = blocks
        self._left = len(blocks)
        self._stopped = False
        self._lock = threading.Lock()

    def take(self) -> tuple[int, list[dt.date]] | None:
        with self._lock:
            if self._stopped or self._left == 0:
                return None
            self._left -= 1
            return self._left, self._blocks[self._left]

    def stop(self) -> None:
        with self._lock:
            self._stopped = True


def _generate_in_processes(
    cfg: WorldConfig,
    blocks: list[list[dt.date]],
    tables: list[RawTable],
    horizon_day: dt.date,
    progress: bool,
    workers: int,
) -> list[TableDayResult]:
    """Blocks of days on this process and `workers - 1` spawned ones, each taking the next block
    (_BlockQueue) when it is free.

    Building a day is mostly numpy and polars calls too short to release the GIL for long, so
    threads would not use a second core; processes do. They are spawned, never forked: polars'
    thread pool does not survive a fork. This process starts on the first block at once (its world
    is built), while a spawned worker spends a couple of seconds importing and building its own.
    """
    queue = _BlockQueue(blocks)
    done: dict[int, list[TableDayResult]] = {}

    def work(generate: Callable[[list[dt.date]], list[TableDayResult]]) -> None:
        try:
            while (item := queue.take()) is not None:
                index, block = item
                done[index] = generate(block)
                for _ in block:
                    advance()
        except BaseException:
            queue.stop()  # the other workers finish their block and stop
            raise

    spawn = multiprocessing.get_context("spawn")
    with (
        _progress(progress, sum(map(len, blocks))) as advance,
        ProcessPoolExecutor(max_workers=workers - 1, mp_context=spawn) as pool,
        ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="techflow-feed") as feed,
    ):

        def remote(block: list[dt.date]) -> list[TableDayResult]:
            return pool.submit(_generate_days, cfg, block, tables, horizon_day).result()

        feeders = [feed.submit(work, remote) for _ in range(workers - 1)]
        work(lambda block: _generate_days(cfg, block, tables, horizon_day))
        for feeder in feeders:
            feeder.result()
    return [result for index in range(len(blocks)) for result in done[index]]


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar over days on stderr (so a redirected summary stays clean), or nothing."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("generating days", total=total)
        yield lambda: bar.advance(task)
