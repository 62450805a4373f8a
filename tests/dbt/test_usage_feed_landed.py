"""The usage feed's recency rule checks what it means: the feed landed through the as-of day.

A quiet weekend (no events on Saturday and Sunday, their partitions landed empty) passes; a
Sunday partition that never landed fails, naming the missing day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from data_generation.schema import RAW_TABLES_BY_NAME
from tests.dbt.raw_fixtures import at, partition_path, write_world
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

SUNDAY = AS_OF
FRIDAY = SUNDAY - dt.timedelta(days=2)
USAGE = RAW_TABLES_BY_NAME["usage_events"]


def quiet_weekend_world(data_dir: Path) -> DbtProject:
    event = {
        "event_id": "ev_1",
        "user_id": 1,
        "product": "cloudsync",
        "feature": "file_upload",
        "occurred_at": at(FRIDAY, 17),
        "_loaded_at": at(FRIDAY, 23),
    }
    # Saturday and Sunday land empty partitions (write_world lands one every day).
    write_world(data_dir / "raw", {"usage_events": [event]}, FRIDAY)
    return DbtProject(data_dir=data_dir, world_start=FRIDAY)


# The landed check sits on the staging model that reads the feed (Dagster runs model tests).
LANDED_TEST = "raw_landed__app_db__usage_events"


def usage_feed_test(project: DbtProject):
    return project.dbt(
        "build",
        "--select",
        "plan_catalog",  # products are related to the seed
        "stg_app_db__usage_events",
        "source:app_db.usage_events",  # the landed check reads the source too
        "--indirect-selection",
        "cautious",  # not the seed's other tests (their models are not built here)
        "--exclude-resource-type",
        "unit_test",
    )


def test_a_quiet_weekend_is_not_a_stale_feed(tmp_path: Path) -> None:
    assert SUNDAY.weekday() == 6
    invocation = usage_feed_test(quiet_weekend_world(tmp_path))
    assert invocation.success, invocation.describe()


def test_a_partition_that_never_landed_fails_naming_the_day(tmp_path: Path) -> None:
    project = quiet_weekend_world(tmp_path)
    partition_path(project.raw_dir, USAGE, SUNDAY).unlink()
    invocation = usage_feed_test(project)
    assert not invocation.success
    failures = invocation.failures()
    assert list(failures) == [LANDED_TEST], failures
    folder = project.raw_dir / "app_db" / "usage_events"
    assert failures[LANDED_TEST].endswith(
        f"app_db.usage_events ({folder}): daily partitions never landed (every day from the "
        f"world start {FRIDAY} through the as-of day {SUNDAY} needs one, even empty): "
        f"date={SUNDAY}"
    ), failures[LANDED_TEST]
