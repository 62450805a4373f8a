"""A small world generated once for the generator's tests, with helpers to read it back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from data_generation import RAW_TABLES_BY_NAME, WorldConfig, generate_range
from data_generation.simulation.late import MAX_LATE_DAYS, WRONG_END_MAX_DAYS

START = dt.date(2025, 1, 1)
DAYS = 120  # long enough for trials to convert, first renewals, dunning and churn
END = START + dt.timedelta(days=DAYS - 1)
# Enough billing edge cases (refunds, voids, prorations) once a third of signups never subscribe.
SCALE = 0.5
# Late and corrected subscription versions land within MAX_LATE_DAYS of what they describe (a
# wrong ended_at is up to WRONG_END_MAX_DAYS early): raw data describing times before this many
# days ahead of the range's end is final; after it, some versions are still in flight.
SETTLE_DAYS = MAX_LATE_DAYS + WRONG_END_MAX_DAYS + 1


@dataclass(frozen=True)
class RawWorld:
    root: Path
    cfg: WorldConfig
    first: dt.date = START
    last: dt.date = END
    days: int = DAYS

    @property
    def settled(self) -> str:
        """A SQL timestamp: everything the raw data says about times before it is final."""
        return f"timestamp '{self.last + dt.timedelta(days=1 - SETTLE_DAYS)}'"

    def glob(self, table: str) -> str:
        t = RAW_TABLES_BY_NAME[table]
        return str(self.root / t.system / t.name / "*" / "*.parquet")

    def sql(self, query: str) -> list[tuple]:
        """Run SQL where {table} names are replaced by hive-partitioned reads of that raw table."""
        for name in RAW_TABLES_BY_NAME:
            query = query.replace(
                "{" + name + "}", f"read_parquet('{self.glob(name)}', hive_partitioning=true)"
            )
        with duckdb.connect() as con:
            return con.execute(query).fetchall()

    def scalar(self, query: str):
        return self.sql(query)[0][0]


def make_world(root: Path, dirt: bool) -> RawWorld:
    cfg = WorldConfig(start=START, scale=SCALE, seed=11, dirt=dirt, out_dir=root)
    generate_range(cfg, START, END)
    return RawWorld(root, cfg)


@pytest.fixture(scope="session")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> RawWorld:
    return make_world(tmp_path_factory.mktemp("dirty") / "raw", dirt=True)


@pytest.fixture(scope="session")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> RawWorld:
    return make_world(tmp_path_factory.mktemp("clean") / "raw", dirt=False)
