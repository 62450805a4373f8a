"""`dbt source freshness` on the app_db and stripe sources: newest _loaded_at within 26 h passes,
older than 50 h fails (the warn/error windows in _app_db__sources.yml and _stripe__sources.yml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_generation.schema import RAW_TABLES
from tests.dbt.finance_world import finance_tables, world_start, write_finance_world
from tests.support import AS_OF_END, DbtProject

pytestmark = pytest.mark.slow

FINANCE_SOURCES = ("source:app_db", "source:stripe")
# Every raw table of the two systems (the contract names them; stripe has invoice_line_items too).
EXPECTED_TABLES = {
    f"source.techflow.{t.system}.{t.name}" for t in RAW_TABLES if t.system in ("app_db", "stripe")
}


def world_landed(tmp_path: Path, age: dt.timedelta) -> DbtProject:
    """The finance world (plus one usage event) with every extract having landed `age` ago."""
    landed_at = AS_OF_END - age
    tables = finance_tables()
    tables["usage_events"] = [
        {
            "event_id": "ev_1",
            "user_id": 1,
            "product": "cloudsync",
            "feature": "file_upload",
            "occurred_at": landed_at - dt.timedelta(minutes=5),
        }
    ]
    for rows in tables.values():
        for row in rows:
            row["_loaded_at"] = landed_at
    return DbtProject(data_dir=write_finance_world(tmp_path, tables), world_start=world_start())


def freshness(project: DbtProject) -> tuple[bool, dict[str, str]]:
    invocation = project.dbt("source", "freshness", "--select", *FINANCE_SOURCES)
    statuses = {r.node.unique_id: str(r.status) for r in invocation.results}
    assert set(statuses) == EXPECTED_TABLES, statuses
    return invocation.success, statuses


def test_fresh_extracts_pass(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(hours=2)))
    assert success
    assert set(statuses.values()) == {"pass"}, statuses


def test_a_day_late_extracts_warn(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(hours=30)))
    assert success, "a warning does not fail the command"
    assert set(statuses.values()) == {"warn"}, statuses


def test_stale_extracts_fail(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(days=3)))
    assert not success
    assert set(statuses.values()) == {"error"}, statuses
