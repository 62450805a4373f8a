"""MRR's own lineage is guarded: bad subscription data stops fct_mrr_daily itself, naming the
model and column, and the table keeps its last good rows.

Each case starts from a warehouse whose fct_mrr_daily was built over the hand-made finance world
(tests/dbt/finance_world.py), lands one defect in the as-of day's subscriptions partition, and
runs what Dagster's daily partition runs: `dbt build` of the incremental models for that day.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.dbt.finance_world import day, period, world_start, write_finance_world
from tests.dbt.raw_fixtures import at
from tests.dbt.test_mrr_late_data import land
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

PARTITION = {"min_date": AS_OF.isoformat(), "max_date": AS_OF.isoformat()}
# As Dagster's partitioned step selects them: the incremental models and the tests whose parents
# are selected or upstream of them ("buildable").
INCREMENTALS = ("int_subscription_versions", "fct_mrr_daily", "--indirect-selection", "buildable")


def landed_today(row: dict[str, Any]) -> dict[str, Any]:
    """The row as a CDC extract landing on the as-of day delivers it."""
    return {**row, "_loaded_at": at(AS_OF, 6)}


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = write_finance_world(tmp_path_factory.mktemp("mrr_guards"))
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    invocation = project.dbt(
        "build", "--select", "+fct_mrr_daily", "--indirect-selection", "buildable"
    )
    assert invocation.success, invocation.describe()
    return data_dir


def project_with(good_warehouse: Path, tmp_path: Path, rows: list[dict[str, Any]]) -> DbtProject:
    data_dir = tmp_path / "data"
    shutil.copytree(good_warehouse, data_dir, ignore=shutil.ignore_patterns("dbt_run"))
    land(data_dir / "raw", [landed_today(row) for row in rows])
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    # The copied staging views still read the original raw dir (their paths are absolute).
    repointed = project.dbt(
        "run", "--select", "stg_app_db__subscription_versions", "stg_app_db__users"
    )
    assert repointed.success, repointed.describe()
    return project


def mrr_rows(project: DbtProject) -> pl.DataFrame:
    return project.query_pl("select * from finance.fct_mrr_daily order by all")


def failed(project: DbtProject, *args: str) -> tuple[list[str], str]:
    before = mrr_rows(project)
    invocation = project.dbt(*args, vars=PARTITION)
    assert not invocation.success, "bad subscription data must stop the build"
    assert mrr_rows(project).equals(before), "fct_mrr_daily must keep its last good rows"
    return invocation.failed_nodes(), invocation.describe()


def test_conflicting_versions_of_a_subscription_stop_mrr(
    good_warehouse: Path, tmp_path: Path
) -> None:
    """Subscription 5 re-landed with the same updated_at and other seats: which is true?"""
    conflict = period(
        5, 4, "datahub_starter_monthly", 3, at(day(3), 10), ended=at(day(5), 10), reason="churn"
    )
    project = project_with(good_warehouse, tmp_path, [conflict])
    nodes, _ = failed(project, "build", "--select", *INCREMENTALS)
    assert any(
        n.startswith("test.techflow.expect_one_version_per_key_int_subscription_versions_")
        for n in nodes
    ), nodes
    assert "model.techflow.fct_mrr_daily" not in nodes, "fct_mrr_daily must not even run"


def test_an_unknown_plan_stops_mrr_naming_plan_id(good_warehouse: Path, tmp_path: Path) -> None:
    project = project_with(
        good_warehouse, tmp_path, [period(8, 4, "cloudsync_platinum_monthly", 1, at(day(12), 9))]
    )
    nodes, _ = failed(project, "build", "--select", *INCREMENTALS)
    assert any(
        n.startswith("test.techflow.relationships_int_subscription_versions_plan_id__plan_id")
        for n in nodes
    ), nodes


def test_an_orphan_customer_stops_mrr_naming_customer_id(
    good_warehouse: Path, tmp_path: Path
) -> None:
    project = project_with(
        good_warehouse, tmp_path, [period(9, 99, "cloudsync_pro_monthly", 1, at(day(12), 9))]
    )
    nodes, _ = failed(project, "build", "--select", *INCREMENTALS)
    assert any(
        n.startswith("test.techflow.relationships_int_subscription_versions_customer_id__user_id")
        for n in nodes
    ), nodes


def test_an_unknown_plan_fails_the_contract_even_without_tests(
    good_warehouse: Path, tmp_path: Path
) -> None:
    """`dbt run` skips tests; the contract's not-null product still refuses the unknown plan."""
    project = project_with(
        good_warehouse, tmp_path, [period(8, 4, "cloudsync_platinum_monthly", 1, at(day(12), 9))]
    )
    nodes, description = failed(project, "run", "--select", *INCREMENTALS)
    assert nodes == ["model.techflow.fct_mrr_daily"], nodes
    assert "product" in description and "NOT NULL" in description.upper(), description


def test_a_negative_mrr_fails_loudly_instead_of_being_filtered(
    good_warehouse: Path, tmp_path: Path
) -> None:
    """A negative seat count makes MRR negative: the contract's check fails the merge."""
    project = project_with(
        good_warehouse, tmp_path, [period(8, 4, "cloudsync_pro_monthly", -3, at(day(12), 9))]
    )
    nodes, description = failed(project, "run", "--select", *INCREMENTALS)
    assert nodes == ["model.techflow.fct_mrr_daily"], nodes
    assert "mrr >= 0" in description, description
