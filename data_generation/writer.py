"""Write one table's day to its hive partition, atomically, exactly in the contract's schema."""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_generation.schema import RawTable
from techflow_core.durable import replace_durably

PART_FILE = "part-0.parquet"
# zstd at level 1 writes as fast as snappy here and the files are a third smaller; every Parquet
# reader (DuckDB, polars, Spark) reads it.
COMPRESSION = "zstd"
COMPRESSION_LEVEL = 1


@dataclass(frozen=True)
class TableDayResult:
    """One file written: which table and day, where, how many rows and bytes."""

    system: str
    table: str
    day: dt.date
    path: Path
    rows: int
    bytes: int


def partition_path(out_dir: Path, table: RawTable, day: dt.date) -> Path:
    return out_dir / table.system / table.name / f"date={day.isoformat()}" / PART_FILE


def conform(frame: pl.DataFrame, table: RawTable) -> pl.DataFrame:
    """Select and cast exactly the contract's columns, in order; a missing column is a bug."""
    missing = [c for c in table.schema if c not in frame.columns]
    if missing:
        raise RuntimeError(
            f"{table.system}.{table.name}: builder did not produce column(s) {missing}"
        )
    if list(frame.schema.items()) == list(table.schema.items()):
        return frame  # already the contract (most builders): skip a select per file
    return frame.select(
        pl.col(name).cast(dtype, strict=True) for name, dtype in table.schema.items()
    )


def write_partition(
    out_dir: Path, table: RawTable, day: dt.date, frame: pl.DataFrame
) -> TableDayResult:
    """Replace the day's file: write a temp file next to it, fsync it, then rename over the old one.

    The rename is atomic on POSIX, so readers see the old file or the new one, never half a file,
    and the fsync first means a crash right after the rename cannot leave the new name on an
    empty file (durable.py). The directory is not synced: a lost rename leaves the old, complete
    file, and the next run writes the day again. A failed write removes its temp file (only a
    killed process can leave a stray `.tmp-*`).
    """
    path = partition_path(out_dir, table, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread, so concurrent writers of one day never share a temp file.
    tmp = path.with_name(f".{PART_FILE}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        conform(frame, table).write_parquet(
            tmp, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL, statistics=True
        )
        replace_durably(tmp, path, sync_dir=False)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return TableDayResult(table.system, table.name, day, path, frame.height, path.stat().st_size)
