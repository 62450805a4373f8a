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
    failed = failed_names(invocation)
    prefix = "expect_partitions_landed_through_as_of_stg_app_db__subscription_versions"
    assert [name for name in failed if not name.startswith(prefix)] == [], failed
    assert failed, "the landed test must fail"
    rows = stored_failures(project, invocation, prefix)
    assert [(table, day) for table, _folder, day in rows] == [("app_db.subscriptions", AS_OF)]
    assert marts(project) == marts(good)


def test_three_days_missing_name_every_missing_day(good: DbtProject, tmp_path: Path) -> None:
    missing = [AS_OF - dt.timedelta(days=back) for back in (2, 1, 0)]

    def corrupt(raw: Path) -> None:
        for day in missing:
            partition_path(raw, RAW_TABLES_BY_NAME["invoices"], day).unlink()

    project, invocation = rebuild_corrupted(good, tmp_path, corrupt)
    failed = failed_names(invocation)
    prefix = "expect_partitions_landed_through_as_of_stg_stripe__invoices"
    assert len(failed) == 1 and failed[0].startswith(prefix), failed
    rows = stored_failures(project, invocation, prefix)
    assert [(table, day) for table, _folder, day in rows] == [
        ("stripe.invoices", day) for day in missing
    ]
    assert marts(project) == marts(good)
