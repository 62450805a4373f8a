"""fct_events and fct_user_engagement_daily, incremental by day, under late and corrected data:
after a sequence of daily builds each equals a full refresh over the same raw data.

A hand-made world of three users (and a QA account, whose events are never product usage) ending
on the as-of day T; user 4 was last active on the world's first day, 39 days before T, beyond the
engagement mart's 28-day context. Both marts are first built through T-2. Then, day by day as the
extract lands:
  T-1: the day's events, one event of T-2 landing a day late, and a re-delivered copy of an event
       of T-3 (the copy landed first wins);
  T:   the day's events (user 4 back after 39 days) and one event of T-1 landing late;
  then partition T-3 is re-landed corrected: one event withdrawn, one added, and that old
  partition is rebuilt (the re-landed partition sensor's repair run);
  then app_db.users versions updated on T land in T's partition, and T is built again: user 2 moves
  to user 1's customer account, user 1's signup is corrected to T-6, user 4 becomes a QA account
  and the QA account 3 a real user. dim_users takes these attributes for every day of the user, so
  the days before the window must be restated too (the pre-hook deletes a user whose built rows no
  longer match dim_users, and the build reads every day of each user with no row left before it).
The late event of T-2 is what each mart's lookback exists for: without it, building T-1 starts
after the newest day built (T-2) and the event is never added.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from data_generation.schema import RAW_TABLES_BY_NAME, RawTable
from tests.dbt.raw_fixtures import app_user, at, partition_path, typed_frame, write_world
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

T = AS_OF
START = T - dt.timedelta(days=39)
USAGE_EVENTS = RAW_TABLES_BY_NAME["usage_events"]
APP_USERS = RAW_TABLES_BY_NAME["users"]


def days_before(n: int) -> dt.date:
    return T - dt.timedelta(days=n)


def event(
    event_id: str,
    user_id: int,
    occurred_on: dt.date,
    *,
    hour: int = 10,
    landed_on: dt.date | None = None,
    feature: str = "file_upload",
) -> dict[str, Any]:
    """A usage event, landed the hour after it happened unless `landed_on` says otherwise."""
    occurred_at = at(occurred_on, hour)
    loaded_at = at(landed_on, 1) if landed_on else occurred_at + dt.timedelta(hours=1)
    return {
        "event_id": event_id,
        "user_id": user_id,
        "product": "cloudsync",
        "feature": feature,
        "occurred_at": occurred_at,
        "_loaded_at": loaded_at,
    }  # fmt: skip


USERS = [
    app_user(1, "ana@example1.com", at(START, 8)),
    app_user(2, "bo@example2.com", at(START, 9)),
    app_user(3, "qa+3@techflow.test", at(START, 9)),
    app_user(4, "cy@example4.com", at(START, 7)),
]

ON_TIME_THROUGH_T_MINUS_2 = [
    event("ev_4_39", 4, START),
    *(event(f"ev_{user}_{n}", user, days_before(n)) for n in range(2, 8) for user in (1, 2, 3)),
]
LANDING_T_MINUS_1 = [
    event("ev_1_1", 1, days_before(1)),
    event("ev_2_1", 2, days_before(1), hour=14),
    event("late_2", 2, days_before(2), hour=23, landed_on=days_before(1)),
    # Re-delivered a second time two days later, feature garbled: the first copy wins.
    {**event("ev_1_3", 1, days_before(3), landed_on=days_before(1)), "feature": "file_share"},
]
LANDING_T = [
    event("ev_1_0", 1, T),
    event("ev_4_0", 4, T, hour=12),
    event("late_1", 1, days_before(1), hour=23, landed_on=T),
]
# Partition T-3 re-landed: ev_2_3 withdrawn, ev_2_3b added (user 1's event of T-3 unchanged).
RELANDED_T_MINUS_3 = [
    event("ev_1_3", 1, days_before(3)),
    event("ev_3_3", 3, days_before(3)),
    event("ev_2_3b", 2, days_before(3), hour=16, feature="folder_sync"),
]


def updated(user: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A later version of an app_db.users row: updated and landed on T."""
    return {**user, **changes, "updated_at": at(T, 2), "_loaded_at": at(T, 3)}


USERS_UPDATED_ON_T = [
    updated(USERS[1], account_owner_id=1),  # bo joins ana's account: customer_id 2 -> 1
    updated(USERS[0], signup_at=at(days_before(6), 8)),  # ana's signup corrected (she was active)
    updated(USERS[3], email="qa+4@techflow.test"),  # cy turns out to be a QA account
    updated(USERS[2], email="dee@example3.com", company_domain="example3.com"),  # 3 is real
]

MARTS = ("fct_events", "fct_user_engagement_daily")
ORDER_BY = {"fct_events": "event_id", "fct_user_engagement_daily": "user_id, activity_date"}


@dataclass
class Marts:
    """Both incremental marts, every column, in a stable order."""

    events: pl.DataFrame
    engagement: pl.DataFrame

    @classmethod
    def read(cls, project: DbtProject) -> Marts:
        events, engagement = (
            project.query_pl(f"select * from product.{mart} order by {ORDER_BY[mart]}")
            for mart in MARTS
        )
        return cls(events=events, engagement=engagement)

    def equals(self, other: Marts) -> bool:
        return self.events.equals(other.events) and self.engagement.equals(other.engagement)


def land(
    raw_dir: Path,
    day: dt.date,
    rows: list[dict[str, Any]],
    *,
    replace: bool = False,
    table: RawTable = USAGE_EVENTS,
) -> None:
    """Land rows in a raw table's partition `day` (added to it, or replacing it: a re-landing)."""
    path = partition_path(raw_dir, table, day)
    existing = pl.read_parquet(path).to_dicts() if path.exists() and not replace else []
    path.parent.mkdir(parents=True, exist_ok=True)
    typed_frame(table, [*existing, *rows]).write_parquet(path)


def build_partition(project: DbtProject, day: dt.date) -> Marts:
    """What a daily partition's dbt step runs for the marts: them and their parents, one day."""
    project.as_of = max(day, project.as_of)
    invocation = project.dbt(
        "run", "--select", *(f"+{mart}" for mart in MARTS),
        vars={"min_date": day.isoformat(), "max_date": day.isoformat()},
    )  # fmt: skip
    assert invocation.success, invocation.describe()
    return Marts.read(project)


def full_refresh(raw_dir: Path, data_dir: Path, as_of: dt.date) -> Marts:
    """Both marts built from scratch over a copy of the same raw data."""
    shutil.copytree(raw_dir, data_dir / "raw")
    project = DbtProject(data_dir=data_dir, world_start=START, as_of=as_of)
    seeded = project.dbt("seed")
    assert seeded.success, seeded.describe()
    selected = (f"+{mart}" for mart in MARTS)
    invocation = project.dbt("run", "--select", *selected, "--full-refresh")
    assert invocation.success, invocation.describe()
    return Marts.read(project)


@dataclass
class EventsRun:
    first: Marts
    after_late: Marts
    full_after_late: Marts
    after_next_day: Marts
    full_after_next_day: Marts
    after_relanding: Marts
    full_after_relanding: Marts
    after_user_changes: Marts
    full_after_user_changes: Marts


@pytest.fixture(scope="module")
def events_run(tmp_path_factory: pytest.TempPathFactory) -> EventsRun:
    data_dir = tmp_path_factory.mktemp("events_incremental")
    raw_dir = data_dir / "raw"
    # Every partition through T lands (empty where no rows); usage events arrive day by day below.
    write_world(raw_dir, {"users": USERS, "usage_events": ON_TIME_THROUGH_T_MINUS_2}, START)
    project = DbtProject(data_dir=data_dir, world_start=START, as_of=days_before(2))
    seeded = project.dbt("seed")
    assert seeded.success, seeded.describe()
    first = build_partition(project, days_before(2))

    land(raw_dir, days_before(1), LANDING_T_MINUS_1)
    after_late = build_partition(project, days_before(1))
    full_after_late = full_refresh(raw_dir, tmp_path_factory.mktemp("full_late"), days_before(1))

    land(raw_dir, T, LANDING_T)
    after_next_day = build_partition(project, T)
    full_after_next_day = full_refresh(raw_dir, tmp_path_factory.mktemp("full_next"), T)

    land(raw_dir, days_before(3), RELANDED_T_MINUS_3, replace=True)
    after_relanding = build_partition(project, days_before(3))
    full_after_relanding = full_refresh(raw_dir, tmp_path_factory.mktemp("full_relanded"), T)

    land(raw_dir, T, USERS_UPDATED_ON_T, table=APP_USERS)
    return EventsRun(
        first=first,
        after_late=after_late,
        full_after_late=full_after_late,
        after_next_day=after_next_day,
        full_after_next_day=full_after_next_day,
        after_relanding=after_relanding,
        full_after_relanding=full_after_relanding,
        after_user_changes=build_partition(project, T),
        full_after_user_changes=full_refresh(raw_dir, tmp_path_factory.mktemp("full_users"), T),
    )


def engagement_of(marts: Marts, user_id: int, day: dt.date) -> dict[str, Any]:
    rows = marts.engagement.filter(
        (pl.col("user_id") == user_id) & (pl.col("activity_date") == day)
    )
    assert rows.height == 1, f"user {user_id} on {day}: {rows.height} engagement rows"
    return rows.row(0, named=True)


def test_the_first_build_holds_every_real_users_event(events_run: EventsRun) -> None:
    # 6 days x users 1 and 2, and user 4's one event; the QA account's are not usage.
    assert events_run.first.events.height == 13
    assert set(events_run.first.events["user_id"]) == {1, 2, 4}


def test_an_event_landing_a_day_late_is_added_to_its_own_day(events_run: EventsRun) -> None:
    """Building T-1 re-reads T-2 (the lookback): the late event lands on its event day, and the
    re-delivered copy of an older event changes nothing; row for row a full refresh."""
    assert events_run.after_late.equals(events_run.full_after_late)
    events = events_run.after_late.events
    late = events.filter(pl.col("event_id") == "late_2").row(0, named=True)
    assert late["event_date"] == days_before(2)
    redelivered = events.filter(pl.col("event_id") == "ev_1_3")
    assert redelivered["feature"].to_list() == ["file_upload"]
    assert engagement_of(events_run.after_late, 2, days_before(2))["event_count"] == 2


def test_the_next_days_build_equals_a_full_refresh(events_run: EventsRun) -> None:
    assert events_run.after_next_day.equals(events_run.full_after_next_day)
    assert events_run.after_next_day.events.height == 13 + 3 + 3


def test_a_return_after_39_days_counts_from_the_last_active_day(events_run: EventsRun) -> None:
    """User 4's previous active day lies before the 28-day context the window reads: it comes
    from the rows already built, as a full refresh computes it."""
    back = engagement_of(events_run.after_next_day, 4, T)
    assert back["days_since_previous_activity"] == 39
    assert (back["active_days_last_28_days"], back["events_last_28_days"]) == (1, 1)


def test_a_relanded_partition_rebuilt_equals_a_full_refresh(events_run: EventsRun) -> None:
    """Partition T-3 re-landed without ev_2_3 and with ev_2_3b: its rebuild drops the withdrawn
    event, adds the new one, and keeps every later day (rebuilt from T-3 on)."""
    assert events_run.after_relanding.equals(events_run.full_after_relanding)
    ids = set(events_run.after_relanding.events["event_id"])
    assert "ev_2_3" not in ids
    assert {"ev_2_3b", "late_1", "late_2", "ev_1_0", "ev_4_0"} <= ids


def test_user_attribute_changes_restate_the_days_before_the_window(events_run: EventsRun) -> None:
    """app_db.users versions landed on T change what dim_users says of users for all their days;
    building T (window T-2..T) restates the older days too, row for row a full refresh."""
    after = events_run.after_user_changes
    assert after.equals(events_run.full_after_user_changes)
    # User 4 is now a QA account: none of their events is product usage any more.
    assert 4 not in set(after.events["user_id"])
    assert 4 not in set(after.engagement["user_id"])
    # User 3 is now real: their events since T-7, never built before, are usage.
    assert after.events.filter(pl.col("user_id") == 3).height == 6
    old_day = engagement_of(after, 3, days_before(7))
    assert old_day["active_days_last_7_days"] == 1
    assert old_day["days_since_previous_activity"] is None
    # User 2 counts for user 1's account on every day; user 1's signup day is T-6.
    assert set(after.engagement.filter(pl.col("user_id") == 2)["customer_id"]) == {1}
    signup_days = after.engagement.filter((pl.col("user_id") == 1) & pl.col("is_signup_day"))
    assert signup_days["activity_date"].to_list() == [days_before(6)]
