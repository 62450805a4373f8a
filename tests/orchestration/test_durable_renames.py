"""Whatever is published by a rename is fsynced first: after a crash the new name never points at
an empty or half-written file (techflow_core.durable). Checked on the calls themselves: the
temporary file's fsync precedes the rename that publishes it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data_generation.schema import RAW_TABLES
from data_generation.writer import partition_path, write_partition
from techflow_core.warehouse import build_warehouse_for
from techflow_orchestration.defs.exposures.dashboards import write_atomically
from techflow_orchestration.defs.warehouse.dbt_targets import (
    PARTIAL_PARSE_FILE,
    cached_parse_path,
    save_parse,
)
from techflow_orchestration.lib.publish import DuckDBFilePublisher


@pytest.fixture
def calls(monkeypatch) -> list[tuple[str, ...]]:
    """Every fsync (by the path its descriptor names) and rename, in order."""
    recorded: list[tuple[str, ...]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        recorded.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source, target, **kwargs) -> None:
        recorded.append(("rename", str(source), str(target)))
        real_replace(source, target, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return recorded


def assert_synced_before_renamed(calls: list[tuple[str, ...]], target: Path) -> None:
    renames = [n for n, call in enumerate(calls) if call[0] == "rename" and call[2] == str(target)]
    assert renames, f"{target} was not published by a rename: {calls}"
    for n in renames:
        source = calls[n][1]
        assert ("fsync", source) in calls[:n], f"{source} renamed before its fsync: {calls}"


def test_a_raw_day_file(calls, tmp_path):
    table = RAW_TABLES[0]
    day = dt.date(2026, 6, 14)
    write_partition(tmp_path, table, day, pl.DataFrame(schema=table.schema))
    assert_synced_before_renamed(calls, partition_path(tmp_path, table, day))


def test_a_dashboard_page(calls, tmp_path):
    page = tmp_path / "dashboards" / "mrr_finance_dashboard.html"
    write_atomically(page, "<html></html>")
    assert_synced_before_renamed(calls, page)
    assert ("fsync", str(page.parent)) in calls  # and the rename itself


def test_the_published_warehouse(calls, tmp_path):
    published = tmp_path / "warehouse" / "techflow.duckdb"
    publisher = DuckDBFilePublisher(published=published, build=build_warehouse_for(published))
    with publisher.writing("test", lambda _: None) as write:
        duckdb.connect(str(write.build_path)).close()
        write.publish()
    assert_synced_before_renamed(calls, published)
    assert ("fsync", str(published.parent)) in calls


def test_a_saved_dbt_parse(calls, tmp_path):
    target = tmp_path / "invocation"
    target.mkdir()
    (target / PARTIAL_PARSE_FILE).write_bytes(b"parse")
    save_parse(target, cache_dir=tmp_path / "cache")
    assert_synced_before_renamed(calls, cached_parse_path(tmp_path / "cache"))
