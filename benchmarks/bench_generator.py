"""The generator's throughput against a naive loop and DuckDB's own ceiling, plus peak memory.

All three write the same usage_events schema to Parquet on this machine in one run (the naive
loop and DuckDB with snappy, DuckDB's default; the generator with zstd level 1, its production
codec, which writes as fast as snappy here):
(a) a naive loop: mimesis values drawn per row into Python dicts, then written;
(b) the ceiling: DuckDB `COPY (SELECT … FROM range(n)) TO '….parquet'` with the same types;
(c) the generator: usage_events for a month at scale 10 (world build included).
Then the peak RSS of a scale-10 CLI run over two weeks (all 11 tables) in a subprocess.

Each throughput is the best of REPEATS runs: the machine is shared, and the best run is the one
least disturbed by other processes. The generator's runs each rebuild the world from scratch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
from mimesis import Datetime, Generic
from mimesis.locales import Locale

from data_generation import RAW_TABLES_BY_NAME, WorldConfig, generate_range
from data_generation.world import build_world

SCHEMA = RAW_TABLES_BY_NAME["usage_events"].schema
NAIVE_ROWS = 100_000
CEILING_ROWS = 3_000_000
SCALE = 10.0
WORLD_START = dt.date(2025, 1, 1)
# A month of a mature world: long enough to amortise building the world once, as a backfill does.
WINDOW = (WORLD_START + dt.timedelta(days=300), WORLD_START + dt.timedelta(days=329))
RSS_DAYS = 14
REPEATS = 3
FEATURES = ["file_upload", "message_sent", "query_run", "dashboard_view", "folder_sync"]


@dataclass(frozen=True)
class Run:
    """One timed run: rows written, wall-clock seconds and CPU seconds (all threads)."""

    rows: int
    wall: float
    cpu: float

    @property
    def per_second(self) -> float:
        return self.rows / self.wall

    @property
    def per_cpu_second(self) -> float:
        return self.rows / self.cpu


@contextlib.contextmanager
def timed() -> Iterator[list[float]]:
    """Yields a list that receives [wall, cpu] seconds of the block when it ends."""
    elapsed: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield elapsed
    elapsed += [time.perf_counter() - wall, time.process_time() - cpu]


def naive_loop(out: Path) -> Run:
    """A row-by-row mimesis loop, the way a first script would do it."""
    generic = Generic(Locale.EN, seed=1)
    when = Datetime(seed=1)
    with timed() as elapsed:
        rows = []
        for _ in range(NAIVE_ROWS):
            occurred = when.datetime(start=2025, end=2026)
            rows.append(
                {
                    "event_id": str(uuid.UUID(int=generic.random.getrandbits(128))),
                    "user_id": generic.random.randint(1, 20_000),
                    "product": generic.random.choice(["cloudsync", "teamchat", "datahub"]),
                    "feature": generic.random.choice(FEATURES),
                    "occurred_at": occurred,
                    "_loaded_at": occurred + dt.timedelta(minutes=generic.random.randint(1, 30)),
                }
            )
        frame = pl.DataFrame(rows, schema=SCHEMA)
        frame.write_parquet(out / "naive.parquet", compression="snappy")
    return Run(NAIVE_ROWS, *elapsed)


def duckdb_ceiling(out: Path) -> Run:
    """DuckDB generating and writing the same column types itself."""
    query = f"""
        copy (
            select uuid()::varchar as event_id,
                   (i % 20000)::bigint as user_id,
                   ['cloudsync', 'teamchat', 'datahub'][1 + i % 3] as product,
                   ['file_upload', 'message_sent', 'query_run', 'dashboard_view'][1 + i % 4]
                       as feature,
                   timestamp '2025-01-01' + to_microseconds(i * 1000) as occurred_at,
                   timestamp '2025-01-01' + to_microseconds(i * 1000 + 60000000) as _loaded_at
            from range({CEILING_ROWS}) t(i)
        ) to '{out / "ceiling.parquet"}' (format parquet, compression snappy)
    """
    with duckdb.connect() as con, timed() as elapsed:
        con.execute(query)
    return Run(CEILING_ROWS, *elapsed)


def generator(out: Path) -> Run:
    """usage_events over WINDOW at SCALE, world build included."""
    cfg = WorldConfig(start=WORLD_START, scale=SCALE, seed=42, out_dir=out / "raw")
    build_world.cache_clear()  # every run simulates the world again
    with timed() as elapsed:
        results = generate_range(cfg, *WINDOW, tables=["usage_events"])
    return Run(sum(r.rows for r in results), *elapsed)


def best(runs: list[Run]) -> Run:
    return max(runs, key=lambda run: run.per_second)


def peak_rss_mb(out: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of a scale-10 CLI run over RSS_DAYS, all tables, in a child."""
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "data_generation", "--scale", str(SCALE), "--quiet",
         "--start", WORLD_START.isoformat(),
         "--end", (WORLD_START + dt.timedelta(days=RSS_DAYS - 1)).isoformat(),
         "--out", str(out / "rss")],
        check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_generator_") as tmp:
        out = Path(tmp)
        naive = best([naive_loop(out) for _ in range(REPEATS)])
        ceiling = best([duckdb_ceiling(out) for _ in range(REPEATS)])
        gen = best([generator(out / str(i)) for i in range(REPEATS)])
        rss, rss_seconds = peak_rss_mb(out)
    print(f"best of {REPEATS} runs each; rows/s by wall clock, and per CPU-second (all threads)")
    for label, run in (("naive mimesis loop", naive), ("duckdb COPY ceiling", ceiling),
                       (f"generator (x{SCALE:g})", gen)):  # fmt: skip
        print(
            f"{label:<20}: {run.per_second:>11,.0f} rows/s  {run.per_cpu_second:>11,.0f} rows/cpu-s"
            f"  ({run.rows:,} rows, {run.wall:.2f} s)"
        )
    print(
        f"{'generator / naive':<20}: {gen.per_second / naive.per_second:>10.1f}x wall"
        f"  {gen.per_cpu_second / naive.per_cpu_second:>10.1f}x cpu   (target >= 10x)"
    )
    print(
        f"{'generator / ceiling':<20}: {gen.per_second / ceiling.per_second:>10.0%}  wall"
        f"  {gen.per_cpu_second / ceiling.per_cpu_second:>10.0%}  cpu   (target >= 50%)"
    )
    print(
        f"peak RSS, scale {SCALE:g}, all 11 tables, {RSS_DAYS} days: {rss:,.0f} MB "
        f"({rss_seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
