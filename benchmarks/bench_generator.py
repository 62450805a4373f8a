"""The generator on the real workload against two anchors on the same layout: `make bench` (e).

Workload: the default range (WORLD_START to the as-of day: 698 days on 2026-11-30) at scale 10,
every table of RAW_TABLES, one daily file each —
`techflow-generate` as a process, timed from its start to its exit; its peak RSS: the larger of
the kernel's (wait4: the biggest single process) and the sampled sum over the process and its
worker processes — target ≤ 4 GiB.

Anchors, measured in the same run:
- the naive loop: one Python dict per row with mimesis/random draws, collected per day and
  written with polars to that day's file (zstd level 1, the generator's codec). At ~0.1 M rows/s
  the whole workload would take several minutes, so it runs on a slice: the last NAIVE_DAYS days
  of usage_events (87 % of the rows), as many rows per day as the generator wrote for them —
  target: the generator ≥ 10x its rows/s;
- the ceiling: DuckDB writing the SAME rows (the generator's output, loaded into a DuckDB file
  first, untimed) into the same layout with `COPY … (FORMAT parquet, PARTITION_BY (date),
  COMPRESSION zstd, COMPRESSION_LEVEL 1)`, table by table — target: the generator ≥ 50 % of its
  rows/s. (DuckDB skips the empty days the generator writes as empty files: a few hundred files
  less for it to write.)

Wall-clock rows/s on a shared 2-core machine swing with the load; both anchors run right after
the generator, so the ratios are comparable. BENCH_QUICK=1: 90 days, 2 naive days.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import psutil

from benchmarks.harness import WORLD_START, quick
from benchmarks.verdict import Result, Target, ratio
from data_generation import RAW_TABLES, RAW_TABLES_BY_NAME
from data_generation.writer import COMPRESSION, COMPRESSION_LEVEL, PART_FILE
from techflow_core.clock import pin_as_of

SCALE = 10.0
NAIVE_DAYS = 7
VS_LOOP = Target("e", "generator rows/s / naive row loop's, same layout", 10.0, at_most=False)
VS_COPY = Target("e", "generator rows/s / DuckDB COPY PARTITION_BY's", 0.5, at_most=False, unit="%")
PEAK_RSS = Target("e", "generator peak RSS", 4096.0, unit="MB")
PRODUCTS = ("cloudsync", "teamchat", "datahub")
FEATURES = ("file_upload", "message_sent", "query_run", "dashboard_view", "folder_sync")


@dataclass(frozen=True)
class Throughput:
    rows: int
    seconds: float

    @property
    def per_second(self) -> float:
        return ratio(self.rows, self.seconds)


def say(text: str) -> None:
    print(text, flush=True)


class _TreeRss(threading.Thread):
    """Samples the summed RSS of a process and its descendants every 0.1 s; keeps the peak.

    The generator runs its blocks of days in worker processes: wait4's ru_maxrss is the largest
    single process of the tree, not what they hold together."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self._pid = pid
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            try:
                root = psutil.Process(self._pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            total = 0
            for proc in tree:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def run_generator(out: Path, last: dt.date) -> tuple[float, float]:
    """(wall seconds from process start, peak RSS in MB) of the CLI over the whole range; the RSS
    is the larger of the biggest single process (wait4) and the sampled sum over its workers."""
    cmd = [sys.executable, "-m", "data_generation", "--scale", str(SCALE), "--quiet"]
    cmd += ["--start", WORLD_START.isoformat(), "--end", last.isoformat(), "--out", str(out)]
    began = time.perf_counter()
    proc = subprocess.Popen(cmd)
    sampler = _TreeRss(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    tree_mb = sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}")
    return seconds, max(usage.ru_maxrss / 1024, tree_mb)  # Linux reports ru_maxrss in KiB


def table_glob(raw: Path, system: str, table: str) -> str:
    return str(raw / system / table / "date=*" / PART_FILE)


def load_for_copy(raw: Path, db: Path) -> int:
    """The generator's rows in a DuckDB file, one table per raw table, with the partition date."""
    rows = 0
    with duckdb.connect(str(db)) as con:
        for t in RAW_TABLES:
            con.execute(
                f'create table "{t.system}__{t.name}" as select * from read_parquet('
                f"'{table_glob(raw, t.system, t.name)}', hive_partitioning = true)"
            )
            rows += con.execute(f'select count(*) from "{t.system}__{t.name}"').fetchone()[0]
    return rows


def copy_ceiling(db: Path, out: Path, rows: int) -> Throughput:
    with duckdb.connect(str(db)) as con:
        for t in RAW_TABLES:
            (out / t.system).mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        for t in RAW_TABLES:
            con.execute(
                f"copy \"{t.system}__{t.name}\" to '{out / t.system / t.name}' (format parquet, "
                f"partition_by (date), compression {COMPRESSION}, "
                f"compression_level {COMPRESSION_LEVEL})"
            )
        return Throughput(rows, time.perf_counter() - began)


def naive_loop(raw: Path, out: Path, days: list[dt.date]) -> Throughput:
    """usage_events for `days`, row by row, as many rows per day as the generator wrote."""
    from mimesis import Datetime

    table = RAW_TABLES_BY_NAME["usage_events"]
    counts = [
        pl.scan_parquet(table_glob(raw, table.system, table.name).replace("date=*", f"date={d}"))
        .select(pl.len())
        .collect()
        .item()
        for d in days
    ]
    draw, when = random.Random(1), Datetime(seed=1)
    began = time.perf_counter()
    for day, count in zip(days, counts, strict=True):
        rows = []
        for _ in range(count):
            at = when.datetime(start=day.year, end=day.year).replace(month=day.month, day=day.day)
            rows.append(
                {
                    "event_id": str(uuid.UUID(int=draw.getrandbits(128))),
                    "user_id": draw.randint(1, 200_000),
                    "product": draw.choice(PRODUCTS),
                    "feature": draw.choice(FEATURES),
                    "occurred_at": at,
                    "_loaded_at": at + dt.timedelta(minutes=draw.randint(1, 45)),
                }
            )
        path = out / f"date={day.isoformat()}" / PART_FILE
        path.parent.mkdir(parents=True)
        pl.DataFrame(rows, schema=table.schema).write_parquet(
            path, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL
        )
    return Throughput(sum(counts), time.perf_counter() - began)


def main() -> list[Result]:
    last = WORLD_START + dt.timedelta(days=89) if quick() else pin_as_of()
    naive_days = 2 if quick() else NAIVE_DAYS
    days = (last - WORLD_START).days + 1
    with tempfile.TemporaryDirectory(prefix="bench_generator_") as tmp:
        root = Path(tmp)
        say(f"(e) generator: scale {SCALE:g}, {WORLD_START}..{last} ({days} days), all tables …")
        seconds, rss = run_generator(root / "raw", last)
        rows = load_for_copy(root / "raw", root / "copy.duckdb")
        gen = Throughput(rows, seconds)
        say(f"    {rows:,} rows in {seconds:.1f} s = {gen.per_second / 1e6:.2f} M rows/s, "
            f"peak RSS {rss:,.0f} MB")  # fmt: skip
        say("(e) DuckDB COPY … PARTITION_BY of the same rows …")
        ceiling = copy_ceiling(root / "copy.duckdb", root / "copy", rows)
        (root / "copy.duckdb").unlink()
        say(f"    {ceiling.seconds:.1f} s = {ceiling.per_second / 1e6:.2f} M rows/s")
        slice_days = [last - dt.timedelta(days=n) for n in range(naive_days - 1, -1, -1)]
        say(f"(e) naive row loop: usage_events of the last {naive_days} days …")
        naive = naive_loop(root / "raw", root / "naive", slice_days)
        say(f"    {naive.rows:,} rows in {naive.seconds:.1f} s = "
            f"{naive.per_second / 1e6:.3f} M rows/s")  # fmt: skip
    workload = f"{rows / 1e6:.1f} M rows, {days} days, scale {SCALE:g}"
    return [
        Result(
            VS_LOOP,
            ratio(gen.per_second, naive.per_second),
            f"{gen.per_second / 1e6:.2f} vs {naive.per_second / 1e6:.3f} M rows/s "
            f"({workload}, {seconds:.1f} s; loop on {naive.rows:,} rows of the last "
            f"{naive_days} days)",
        ),
        Result(
            VS_COPY,
            ratio(gen.per_second, ceiling.per_second),
            f"{gen.per_second / 1e6:.2f} vs {ceiling.per_second / 1e6:.2f} M rows/s "
            f"(COPY {ceiling.seconds:.1f} s for the same rows and files)",
        ),
        Result(PEAK_RSS, rss, workload),
    ]


if __name__ == "__main__":
    from benchmarks.verdict import table

    print(table(main()))
