"""Hand-made raw Parquet worlds for dbt tests: a few rows whose right answers are known by hand.

Files follow the raw contract exactly (data_generation.schema): every raw table gets typed
columns, hive-partitioned as <raw>/<system>/<table>/date=YYYY-MM-DD/part-0.parquet. Columns a
test does not mention are null, so each test states only the facts it is about.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from data_generation.schema import RAW_TABLES, RAW_TABLES_BY_NAME, RawTable
from tests.support import AS_OF

Row = Mapping[str, Any]


def partition_path(raw_dir: Path, table: RawTable, day: dt.date) -> Path:
    return raw_dir / table.system / table.name / f"date={day.isoformat()}" / "part-0.parquet"


def typed_frame(table: RawTable, rows: Iterable[Row]) -> pl.DataFrame:
    """Rows -> a DataFrame with exactly the contract's columns and types (missing = null)."""
    rows = list(rows)
    unknown = {key for row in rows for key in row} - set(table.schema)
    if unknown:
        raise ValueError(
            f"raw fixture for {table.system}.{table.name}: unknown columns {sorted(unknown)}; "
            f"the contract (data_generation/schema.py) has {list(table.schema)}"
        )
    columns = {
        name: pl.Series(name, [row.get(name) for row in rows], dtype=dtype)
        for name, dtype in table.schema.items()
    }
    return pl.DataFrame(columns)


def landing_day(table: RawTable, row: Row) -> dt.date:
    """The partition a row lands in: the day of its _loaded_at (set one explicitly if needed)."""
    loaded_at = row.get("_loaded_at")
    if not isinstance(loaded_at, dt.datetime):
        raise ValueError(f"raw fixture for {table.system}.{table.name}: every row needs _loaded_at")
    return loaded_at.date()


def write_table(raw_dir: Path, table_name: str, rows: Iterable[Row]) -> None:
    """Write rows of one table, each into the partition of its _loaded_at day."""
    table = RAW_TABLES_BY_NAME[table_name]
    by_day: dict[dt.date, list[Row]] = defaultdict(list)
    for row in rows:
        by_day[landing_day(table, row)].append(row)
    for day, day_rows in by_day.items():
        path = partition_path(raw_dir, table, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        typed_frame(table, day_rows).write_parquet(path)


def write_world(raw_dir: Path, tables: Mapping[str, Iterable[Row]], first_day: dt.date) -> Path:
    """Write the given tables; like the real extract, every raw table lands one partition a day
    from first_day (the world's start: pass it to DbtProject as world_start) through the suite's
    as-of day, empty on days without rows, so a world is neither a stopped feed nor one with a
    hole unless a test makes it one (expect_partitions_landed_through_as_of)."""
    days = [first_day + dt.timedelta(days=n) for n in range((AS_OF - first_day).days + 1)]
    for table in RAW_TABLES:
        rows = list(tables.get(table.name, []))
        if rows:
            write_table(raw_dir, table.name, rows)
        empty = None
        for day in days:
            path = partition_path(raw_dir, table, day)
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if empty is None:
                typed_frame(table, []).write_parquet(path)
                empty = path
            else:
                shutil.copyfile(empty, path)  # one empty file per table, copied: 0.1 ms a day
    return raw_dir


def write_empty_partition(raw_dir: Path, table: RawTable, day: dt.date) -> None:
    path = partition_path(raw_dir, table, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    typed_frame(table, []).write_parquet(path)


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A naive UTC timestamp on a day (raw timestamps are naive UTC)."""
    return dt.datetime.combine(day, dt.time(hour, minute))


def app_user(user_id: int, email: str, signup_at: dt.datetime) -> dict[str, object]:
    """An account owner's app_db.users row (company at the email's domain), landed 30 min later."""
    return {
        "user_id": user_id,
        "email": email,
        "full_name": f"User {user_id}",
        "company_name": f"Company {user_id}",
        "company_domain": email.split("@")[1],
        "country": "DE",
        "signup_at": signup_at,
        "updated_at": signup_at,
        "_loaded_at": signup_at + dt.timedelta(minutes=30),
    }
