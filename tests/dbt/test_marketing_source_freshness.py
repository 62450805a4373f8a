"""`dbt source freshness` on the segment, marketing and salesforce sources.

Segment and ad spend land every day: newest _loaded_at older than 26 h warns, older than 50 h
fails. Salesforce lands only changed records, so its windows are 3 days (warn) and 7 days
(error): a quiet CRM day is not an outage. The windows live in each folder's _<source>__sources.yml.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.dbt.raw_fixtures import write_world
from tests.support import AS_OF_END, DbtProject

pytestmark = pytest.mark.slow

DAILY = {
    "source.techflow.segment.tracks",
    "source.techflow.segment.identifies",
    "source.techflow.marketing.ad_spend",
}
CRM = {"source.techflow.salesforce.accounts", "source.techflow.salesforce.opportunities"}


def world_landed(tmp_path: Path, age: dt.timedelta) -> DbtProject:
    """One row in each of the five tables, every extract having landed `age` ago."""
    landed = AS_OF_END - age
    happened = landed - dt.timedelta(minutes=30)
    tables = {
        "tracks": [{"message_id": "m1", "anonymous_id": "a1", "event": "page viewed"}],
        "identifies": [{"message_id": "i1", "anonymous_id": "a1", "user_id": "1"}],
        "ad_spend": [{"spend_date": happened.date(), "channel": "email", "campaign": "c"}],
        "accounts": [{"account_id": "001A", "name": "Acme", "updated_at": happened}],
        "opportunities": [{"opportunity_id": "006A", "account_id": "001A", "updated_at": happened}],
    }
    for rows in tables.values():
        for row in rows:
            row["_loaded_at"] = landed
    data_dir = tmp_path / "data"
    write_world(data_dir / "raw", tables, first_day=landed.date())
    return DbtProject(data_dir=data_dir, world_start=landed.date())


def freshness(project: DbtProject) -> tuple[bool, dict[str, str]]:
    invocation = project.dbt(
        "source", "freshness", "--select", "source:segment", "source:marketing", "source:salesforce"
    )
    statuses = {r.node.unique_id: str(r.status) for r in invocation.results}
    assert set(statuses) == DAILY | CRM, statuses
    return invocation.success, statuses


def test_extracts_landed_two_hours_ago_pass(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(hours=2)))
    assert success
    assert set(statuses.values()) == {"pass"}, statuses


def test_a_day_late_daily_feeds_warn_while_a_quiet_crm_day_passes(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(hours=30)))
    assert success, "a warning does not fail the command"
    assert {statuses[t] for t in DAILY} == {"warn"}, statuses
    assert {statuses[t] for t in CRM} == {"pass"}, statuses


def test_daily_feeds_fail_after_two_days_and_the_crm_after_a_week(tmp_path: Path) -> None:
    success, statuses = freshness(world_landed(tmp_path, dt.timedelta(days=4)))
    assert not success
    assert {statuses[t] for t in DAILY} == {"error"}, statuses
    assert {statuses[t] for t in CRM} == {"warn"}, statuses

    success, statuses = freshness(world_landed(tmp_path / "week", dt.timedelta(days=8)))
    assert not success
    assert set(statuses.values()) == {"error"}, statuses
