"""Bad raw feeds are stopped at the door: the staging tests fail naming table, column and days,
and `dbt build` skips everything downstream, so the marts keep their last good contents.

Each case copies a warehouse built from the good finance world, corrupts its raw data one way,
rebuilds the finance marts and compares them with the good build.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from data_generation.schema import RAW_TABLES_BY_NAME
from tests.dbt.finance_world import FINANCE_BUILD, charge, world_start, write_finance_world
from tests.dbt.raw_fixtures import at, partition_path, write_table
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

MARTS = ("finance.fct_mrr_daily", "finance.fct_revenue", "finance.dim_customers")


def marts(project: DbtProject) -> dict[str, list[tuple[object, ...]]]:
    return {mart: project.query(f"select * from {mart} order by all") for mart in MARTS}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    data_dir = write_finance_world(tmp_path_factory.mktemp("good_world"))
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(*FINANCE_BUILD)
    assert invocation.success, invocation.describe()
    return project


def rebuild_corrupted(good: DbtProject, tmp_path: Path, corrupt) -> tuple[DbtProject, Any]:
    """Copy the good raw data and warehouse, corrupt the copy, rebuild; the failed invocation."""
    data_dir = tmp_path / "data"
    shutil.copytree(good.data_dir / "raw", data_dir / "raw")
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    shutil.copytree(good.warehouse.parent, project.warehouse.parent)  # the build file dbt writes
    corrupt(data_dir / "raw")
    invocation = project.dbt(*FINANCE_BUILD, "--store-failures")
    assert not invocation.success, "the corrupt feed must fail the build"
    return project, invocation


def failed_names(invocation: Any) -> list[str]:
    return [node.split(".")[2] for node in invocation.failed_nodes()]


def stored_failures(project: DbtProject, invocation: Any, test_prefix: str) -> list[tuple]:
    """The failing rows dbt stored (--store-failures) for the failed test named test_prefix..."""
    [relation] = [
        result.node.relation_name
        for result in invocation.results
        if str(result.status) == "fail" and result.node.name.startswith(test_prefix)
    ]
    return project.query(f"select * from {relation} order by all")


def test_a_charge_dated_400_days_ahead_fails_in_staging_naming_table_and_column(
    good: DbtProject, tmp_path: Path
) -> None:
    future = at(AS_OF + dt.timedelta(days=400), 10)

    def corrupt(raw: Path) -> None:
        bad = charge("ch_future", "in_1", "cus_1", future, 4800)
        # Landed today like any other row: only its event time is wrong.
        bad["_loaded_at"] = at(AS_OF, 23)
        write_table(raw, "charges", [bad])

    project, invocation = rebuild_corrupted(good, tmp_path, corrupt)
    failed = failed_names(invocation)
    assert failed == ["expect_no_future_timestamps_stg_stripe__charges_created_at"], failed
    [(model, column, value)] = stored_failures(
        project, invocation, "expect_no_future_timestamps_stg_stripe__charges_created_at"
    )
    assert (model, column, value) == ("stg_stripe__charges", "created_at", future)
    assert marts(project) == marts(good)


def test_a_partition_that_never_landed_stops_the_build_naming_table_and_day(
    good: DbtProject, tmp_path: Path
) -> None:
    def corrupt(raw: Path) -> None:
        partition_path(raw, RAW_TABLES_BY_NAME["subscriptions"], AS_OF).unlink()

    project, invocation = rebuild_corrupted(good, tmp_path, corrupt)
    failures = invocation.failures()
    assert list(failures) == ["raw_landed__app_db__subscriptions"], failures
    message = failures["raw_landed__app_db__subscriptions"]
    assert "app_db.subscriptions (" in message and "daily partitions never landed" in message
    assert message.endswith(f": date={AS_OF}"), message
    assert marts(project) == marts(good)


def test_days_missing_anywhere_in_history_are_each_named(good: DbtProject, tmp_path: Path) -> None:
    """Not only the last days: a hole in the middle of history (a failed sync never re-run) is
    what a full build would read past without a word."""
    missing = [world_start() + dt.timedelta(days=3), AS_OF - dt.timedelta(days=10), AS_OF]

    def corrupt(raw: Path) -> None:
        for day in missing:
            partition_path(raw, RAW_TABLES_BY_NAME["invoices"], day).unlink()

    project, invocation = rebuild_corrupted(good, tmp_path, corrupt)
    failures = invocation.failures()
    assert list(failures) == ["raw_landed__stripe__invoices"], failures
    assert failures["raw_landed__stripe__invoices"].endswith(
        ": " + "; ".join(f"date={day}" for day in missing)
    )
    assert marts(project) == marts(good)
