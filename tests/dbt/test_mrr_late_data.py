"""fct_mrr_daily under late and corrected data: an incremental build equals a full refresh over
the same raw data, however late a change lands, with no fixed lookback to outrun.

A hand-made world of 90 days ending on the as-of day T. Four customers pay from the start:
  1  cloudsync pro monthly x2        (MRR 48)
  2  teamchat starter monthly x5     (MRR 30)
  3  datahub pro monthly x1          (MRR 75)
  4  cloudsync starter monthly x3    (MRR 36)
fct_mrr_daily is built through T-1. Then partition T lands three backdated changes, as a CDC sync
delivers them: customer 1 canceled effective T-10, customer 2 went from 5 to 8 seats effective
T-6, customer 3 moved to datahub enterprise (MRR 150) effective T-40. Partition T alone is built.
Then partition T-20 is re-landed with a correction (customer 4 had 2 seats, not 3, from the start)
and that old partition is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from data_generation.schema import RAW_TABLES_BY_NAME
from tests.dbt.raw_fixtures import at, partition_path, typed_frame, write_table, write_world
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

T = AS_OF
START = T - dt.timedelta(days=89)
MRR_COLUMNS = "date_day, customer_id, product, mrr, previous_mrr, mrr_change, arr, seats, movement"


def days_before(n: int) -> dt.date:
    return T - dt.timedelta(days=n)


def user(user_id: int) -> dict[str, Any]:
    signed_up = at(START, 8)
    return {
        "user_id": user_id,
        "email": f"user{user_id}@example{user_id}.com",
        "full_name": f"User {user_id}",
        "company_name": f"Company {user_id}",
        "company_domain": f"example{user_id}.com",
        "country": "us",
        "signup_at": signed_up,
        "updated_at": signed_up,
        "_loaded_at": signed_up + dt.timedelta(hours=1),
    }


def version(
    subscription_id: int,
    user_id: int,
    plan_id: str,
    quantity: int,
    started: dt.datetime,
    *,
    landed_on: dt.date,
    ended: dt.datetime | None = None,
    reason: str | None = None,
    previous: int | None = None,
) -> dict[str, Any]:
    """One version of a period, entered and landed on `landed_on` (its updated_at/_loaded_at),
    whatever day the change took effect."""
    entered = max(at(landed_on, 9), ended or started)
    return {
        "subscription_id": subscription_id,
        "user_id": user_id,
        "plan_id": plan_id,
        "quantity": quantity,
        "status": "canceled" if ended else "active",
        "trial_ends_at": None,
        "started_at": started,
        "ended_at": ended,
        "ended_reason": reason,
        "previous_subscription_id": previous,
        "created_at": started,
        "updated_at": entered,
        "_loaded_at": entered + dt.timedelta(hours=1),
    }


def on_time(subscription_id: int, user_id: int, plan_id: str, seats: int, day: dt.date) -> dict:
    return version(subscription_id, user_id, plan_id, seats, at(day, 10), landed_on=day)


INITIAL_PERIODS = [
    on_time(10, 1, "cloudsync_pro_monthly", 2, START + dt.timedelta(days=1)),
    on_time(20, 2, "teamchat_starter_monthly", 5, START + dt.timedelta(days=2)),
    on_time(30, 3, "datahub_pro_monthly", 1, START + dt.timedelta(days=3)),
    on_time(40, 4, "cloudsync_starter_monthly", 3, START + dt.timedelta(days=4)),
]

CANCEL_AT = at(days_before(10), 15)
SEATS_AT = at(days_before(6), 11)
PLAN_AT = at(days_before(40), 14)

LATE_ROWS_LANDING_ON_T = [
    # canceled effective T-10, entered on T
    version(10, 1, "cloudsync_pro_monthly", 2, INITIAL_PERIODS[0]["started_at"], landed_on=T,
            ended=CANCEL_AT, reason="churn"),
    # 5 -> 8 seats effective T-6: the old period ends, a new one names it
    version(20, 2, "teamchat_starter_monthly", 5, INITIAL_PERIODS[1]["started_at"], landed_on=T,
            ended=SEATS_AT, reason="seat_change"),
    version(21, 2, "teamchat_starter_monthly", 8, SEATS_AT, landed_on=T, previous=20),
    # pro -> enterprise effective T-40
    version(30, 3, "datahub_pro_monthly", 1, INITIAL_PERIODS[2]["started_at"], landed_on=T,
            ended=PLAN_AT, reason="upgrade"),
    version(31, 3, "datahub_enterprise_monthly", 1, PLAN_AT, landed_on=T, previous=30),
]  # fmt: skip

# Customer 4's period had 2 seats from the start, not 3: corrected in a re-landed T-20 partition.
CORRECTION_DAY = days_before(20)
CORRECTION = version(
    40, 4, "cloudsync_starter_monthly", 2, INITIAL_PERIODS[3]["started_at"],
    landed_on=CORRECTION_DAY,
)  # fmt: skip


def mrr_table(project: DbtProject) -> pl.DataFrame:
    return project.query_pl(
        f"select mrr_daily_id, {MRR_COLUMNS} from finance.fct_mrr_daily order by all"
    )


def build(project: DbtProject, *args: str, **vars: str) -> None:
    invocation = project.dbt("run", "--select", *args, vars=vars or None)
    assert invocation.success, invocation.describe()


def build_partition(project: DbtProject, day: dt.date) -> None:
    """What Dagster's daily partition runs: the incremental models for one day."""
    build(project, "int_subscription_versions", "fct_mrr_daily", min_date=day.isoformat(),
          max_date=day.isoformat())  # fmt: skip


def full_refresh(raw_dir: Path, data_dir: Path) -> pl.DataFrame:
    """fct_mrr_daily built from scratch over a copy of the same raw data."""
    shutil.copytree(raw_dir, data_dir / "raw")
    project = DbtProject(data_dir=data_dir, world_start=START)
    seeded = project.dbt("seed")
    assert seeded.success, seeded.describe()
    build(project, "+fct_mrr_daily", "--full-refresh", max_date=T.isoformat())
    return mrr_table(project)


SUBSCRIPTIONS = RAW_TABLES_BY_NAME["subscriptions"]


def land(raw_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Add rows to the subscriptions partitions of their _loaded_at day (re-landing the file)."""
    table = SUBSCRIPTIONS
    for row in rows:
        path = partition_path(raw_dir, table, row["_loaded_at"].date())
        existing = pl.read_parquet(path).to_dicts() if path.exists() else []
        path.parent.mkdir(parents=True, exist_ok=True)
        typed_frame(table, [*existing, row]).write_parquet(path)


@dataclass
class LateDataRun:
    before_late: pl.DataFrame
    after_late: pl.DataFrame
    full_after_late: pl.DataFrame
    after_correction: pl.DataFrame
    full_after_correction: pl.DataFrame
    fct_alone_after_late: pl.DataFrame
    after_relanding: pl.DataFrame
    full_after_relanding: pl.DataFrame


@pytest.fixture(scope="module")
def late_run(tmp_path_factory: pytest.TempPathFactory) -> LateDataRun:
    data_dir = tmp_path_factory.mktemp("late_data")
    raw_dir = data_dir / "raw"
    write_world(raw_dir, {"users": [user(n) for n in (1, 2, 3, 4)]}, START)
    write_table(raw_dir, "subscriptions", INITIAL_PERIODS)
    project = DbtProject(data_dir=data_dir, world_start=START)
    seeded = project.dbt("seed")
    assert seeded.success, seeded.describe()
    build(project, "+fct_mrr_daily", max_date=days_before(1).isoformat())
    before_late = mrr_table(project)

    # The same day built with fct_mrr_daily alone (as a UI user may materialize it), so the
    # warehouse copy of the versions is one partition behind: it must not matter.
    alone_dir = tmp_path_factory.mktemp("fct_alone")
    shutil.copytree(
        data_dir, alone_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("dbt_run")
    )
    alone = DbtProject(data_dir=alone_dir, world_start=START)
    land(alone.raw_dir, LATE_ROWS_LANDING_ON_T)
    repointed = alone.dbt("run", "--select", "stg_app_db__subscription_versions")
    assert repointed.success, repointed.describe()
    build(alone, "fct_mrr_daily", min_date=T.isoformat(), max_date=T.isoformat())

    land(raw_dir, LATE_ROWS_LANDING_ON_T)
    build_partition(project, T)
    after_late = mrr_table(project)
    full_after_late = full_refresh(raw_dir, tmp_path_factory.mktemp("full_after_late"))

    land(raw_dir, [CORRECTION])
    build_partition(project, CORRECTION_DAY)
    after_correction = mrr_table(project)
    full_after_correction = full_refresh(raw_dir, tmp_path_factory.mktemp("full_after_fix"))

    # Partition T re-landed by the source without customer 1's cancellation (it was withdrawn):
    # a row the table was built from disappears, and the day is rebuilt.
    relanded = [row for row in LATE_ROWS_LANDING_ON_T if row["subscription_id"] != 10]
    partition_path(raw_dir, SUBSCRIPTIONS, T).unlink()
    land(raw_dir, relanded)
    build_partition(project, T)
    return LateDataRun(
        before_late=before_late,
        after_late=after_late,
        full_after_late=full_after_late,
        after_correction=after_correction,
        full_after_correction=full_after_correction,
        fct_alone_after_late=mrr_table(alone),
        after_relanding=mrr_table(project),
        full_after_relanding=full_refresh(raw_dir, tmp_path_factory.mktemp("full_relanded")),
    )


def pair(table: pl.DataFrame, customer_id: int) -> dict[dt.date, tuple[Decimal, int, str]]:
    rows = table.filter(pl.col("customer_id") == customer_id).sort("date_day")
    return {
        r["date_day"]: (r["mrr"], r["seats"], r["movement"]) for r in rows.iter_rows(named=True)
    }


def test_the_world_paid_unchanged_before_the_late_rows_landed(late_run: LateDataRun) -> None:
    before = pair(late_run.before_late, 3)
    assert before[days_before(1)] == (Decimal("75.00"), 1, "unchanged")


def test_building_the_landing_day_alone_equals_a_full_refresh(late_run: LateDataRun) -> None:
    """Three changes effective 10, 6 and 40 days before they landed: one day's build recomputes
    from the earliest of them, row for row what a full refresh gives."""
    assert late_run.after_late.equals(late_run.full_after_late)
    assert not late_run.after_late.equals(late_run.before_late)


def test_building_fct_mrr_daily_without_its_versions_copy_still_equals_a_full_refresh(
    late_run: LateDataRun,
) -> None:
    """int_subscription_versions one partition behind: the raw partitions after it are read."""
    assert late_run.fct_alone_after_late.equals(late_run.full_after_late)


def test_a_cancellation_landed_10_days_late_churns_on_its_effective_day(
    late_run: LateDataRun,
) -> None:
    days = pair(late_run.after_late, 1)
    assert days[days_before(11)] == (Decimal("48.00"), 2, "unchanged")
    assert days[days_before(10)] == (Decimal("0.00"), 0, "churn")
    assert max(days) == days_before(10), "no MRR rows after the churn day"


def test_a_seat_change_landed_6_days_late_expands_on_its_effective_day(
    late_run: LateDataRun,
) -> None:
    days = pair(late_run.after_late, 2)
    assert days[days_before(7)] == (Decimal("30.00"), 5, "unchanged")
    assert days[days_before(6)] == (Decimal("48.00"), 8, "expansion")
    assert days[T] == (Decimal("48.00"), 8, "unchanged")


def test_a_plan_change_landed_40_days_late_counts_every_day_since(late_run: LateDataRun) -> None:
    days = pair(late_run.after_late, 3)
    assert days[days_before(41)] == (Decimal("75.00"), 1, "unchanged")
    assert days[days_before(40)] == (Decimal("150.00"), 1, "expansion")
    assert {days[days_before(n)][0] for n in range(0, 40)} == {Decimal("150.00")}


def test_rebuilding_a_partition_20_days_back_after_a_correction_carries_forward(
    late_run: LateDataRun,
) -> None:
    """The correction changes customer 4 from its first paid day; rebuilding the old partition
    recomputes from there through the newest day built, equal to a full refresh."""
    assert late_run.after_correction.equals(late_run.full_after_correction)
    days = pair(late_run.after_correction, 4)
    assert days[START + dt.timedelta(days=4)] == (Decimal("24.00"), 2, "new")
    assert days[T] == (Decimal("24.00"), 2, "unchanged")


def test_a_relanded_partition_that_withdraws_a_row_is_recomputed(late_run: LateDataRun) -> None:
    """The source re-lands partition T without customer 1's cancellation: rebuilding T restores
    customer 1's MRR on every day since the withdrawn end, equal to a full refresh."""
    assert late_run.after_relanding.equals(late_run.full_after_relanding)
    days = pair(late_run.after_relanding, 1)
    assert days[T] == (Decimal("48.00"), 2, "unchanged")
