"""The raw contract has one definition (data_generation/schema.py); the dbt sources mirror it.

The guard `expect_raw_files_match_contract` checks every landed file against the sources'
`data_type`s (dbt cannot import Python), so these tests keep the two equal, column for column, and
check that every source reads its files by column name (union_by_name): a column a connector adds
to newer files is kept, one missing from some files is null there instead of an IO error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from data_generation.schema import RAW_TABLES, RawTable
from tests.support import DBT_PROJECT_DIR

# The raw contract's polars types as the sources (and DuckDB's parquet_schema) spell them.
DBT_TYPES: dict[type[pl.DataType], str] = {
    pl.Int64: "bigint",
    pl.Int32: "integer",
    pl.String: "varchar",
    pl.Date: "date",
    pl.Boolean: "boolean",
    pl.Datetime: "timestamp",
}
HIVE_KEY = "date"


def source_tables() -> dict[tuple[str, str], dict[str, Any]]:
    tables = {}
    for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(Path(path).read_text())["sources"]:
            for table in source["tables"]:
                tables[(source["name"], table["name"])] = table
    return tables


@pytest.fixture(scope="module")
def sources() -> dict[tuple[str, str], dict[str, Any]]:
    return source_tables()


def test_every_raw_table_has_one_source_and_every_source_a_raw_table(sources) -> None:
    assert set(sources) == {table.key for table in RAW_TABLES}


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: f"{t.system}.{t.name}")
def test_source_columns_mirror_the_contract(sources, table: RawTable) -> None:
    columns = sources[table.key]["columns"]
    declared = {
        column["name"]: (
            column.get("data_type"),
            bool(((column.get("config") or {}).get("meta") or {}).get("added_later")),
        )
        for column in columns
        if column["name"] != HIVE_KEY
    }
    expected = {
        name: (DBT_TYPES[type(dtype)], name in table.added_later)
        for name, dtype in table.schema.items()
    }
    assert declared == expected
    [hive_key] = [column for column in columns if column["name"] == HIVE_KEY]
    assert hive_key["data_type"] == "date"


@pytest.mark.parametrize("table", RAW_TABLES, ids=lambda t: f"{t.system}.{t.name}")
def test_every_source_reads_its_files_by_column_name(sources, table: RawTable) -> None:
    location = " ".join(sources[table.key]["config"]["meta"]["external_location"].split())
    assert f"/raw/{table.system}/{table.name}/*/*.parquet'" in location
    assert "hive_partitioning = true" in location
    assert "union_by_name = true" in location


def test_added_later_columns_are_in_the_contract() -> None:
    for table in RAW_TABLES:
        assert table.added_later <= set(table.schema), table.name
