"""fct_mrr_daily on a small generated world: it equals MRR recomputed in polars from the raw
Parquet, and its incremental builds (one day at a time with the generator's late rows, the same
day twice, a day with the old raw partitions emptied) agree with a full refresh."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from tests.reference.mrr import mrr_by_day
from tests.support import AS_OF, DbtProject, generate_world, small_world_start

pytestmark = pytest.mark.slow

MRR_COLUMNS = "date_day, customer_id, product, mrr, previous_mrr, mrr_change, arr, seats, movement"


def mrr_table(project: DbtProject) -> pl.DataFrame:
    return project.query_pl(
        f"select mrr_daily_id, {MRR_COLUMNS} from finance.fct_mrr_daily order by all"
    )


def build_day(project: DbtProject, day: dt.date) -> None:
    """What Dagster's daily partition runs: the two incremental MRR models for one day."""
    invocation = project.dbt(
        "run",
        "--select",
        "int_subscription_versions",
        "fct_mrr_daily",
        vars={"min_date": day.isoformat(), "max_date": day.isoformat()},
    )
    assert invocation.success, invocation.describe()


def test_build_has_no_warnings(built_warehouse: DbtProject) -> None:
    """`dbt build` over a generated world passes with no warning at all (deprecations included)."""
    build = built_warehouse.history[-1]
    assert build.args == ["build"]
    assert build.success
    assert build.warnings == []


def test_mrr_equals_polars_recomputation_from_raw(
    built_warehouse: DbtProject, small_world: Path
) -> None:
    """Every customer x product x day: fct_mrr_daily.mrr == MRR recomputed from raw, to the cent."""
    expected = mrr_by_day(small_world / "raw", small_world_start(), AS_OF)
    actual = built_warehouse.query_pl(
        "select customer_id, product, date_day, cast(mrr * 100 as bigint) as mrr_cents, seats"
        " from finance.fct_mrr_daily where mrr > 0 order by all"
    )
    assert expected.height > 0, "the small world should have paying customers"
    compared = expected.join(
        actual, on=["customer_id", "product", "date_day"], how="full", suffix="_dbt", coalesce=True
    )
    mismatches = compared.filter(
        pl.col("mrr_cents").is_null()
        | pl.col("mrr_cents_dbt").is_null()
        | (pl.col("mrr_cents") != pl.col("mrr_cents_dbt"))
        | (pl.col("seats") != pl.col("seats_dbt"))
    )
    assert mismatches.is_empty(), f"fct_mrr_daily differs from raw recomputation:\n{mismatches}"


def test_total_mrr_per_day_matches_reference(
    built_warehouse: DbtProject, small_world: Path
) -> None:
    """The company's MRR per day (the number on the dashboard) matches, including zero days."""
    expected = (
        mrr_by_day(small_world / "raw", small_world_start(), AS_OF)
        .group_by("date_day")
        .agg(pl.col("mrr_cents").sum())
    )
    actual = built_warehouse.query_pl(
        "select date_day, cast(sum(mrr) * 100 as bigint) as mrr_cents"
        " from finance.fct_mrr_daily group by date_day having sum(mrr) > 0"
    )
    assert expected.sort("date_day").equals(actual.sort("date_day"))


# The incremental tests need late data in the days they build one at a time: a world ten times
# busier than small_world (≈5 subscription versions a day, ≈1 in 8 changes landing late).
BUSY_WORLD_SCALE = 0.5


@pytest.fixture(scope="module")
def busy_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw_dir = tmp_path_factory.mktemp("busy_world") / "raw"
    return generate_world(raw_dir, small_world_start(), AS_OF, scale=BUSY_WORLD_SCALE)


@pytest.fixture(scope="module")
def full_refresh_table(busy_world: Path, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    data_dir = tmp_path_factory.mktemp("busy_full_refresh")
    shutil.copytree(busy_world, data_dir / "raw")
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    built = project.dbt("build", "--select", "+fct_mrr_daily", "--indirect-selection", "buildable")
    assert built.success, built.describe()
    return mrr_table(project)


@dataclass
class IncrementalRun:
    """What a Dagster-like sequence of one-day builds produced (see incremental_run)."""

    after_days: pl.DataFrame
    after_rerun: pl.DataFrame
    corrupted_partitions: int
    late_rows_applied: int


def late_subscription_rows(raw_dir: Path, first_landed: dt.date) -> int:
    """Subscription versions landed on or after first_landed whose change took effect on an
    earlier day (the generator's late CDC rows)."""
    versions = pl.read_parquet(
        raw_dir / "app_db" / "subscriptions" / "*" / "*.parquet", hive_partitioning=True
    )
    effective = pl.coalesce(pl.col("ended_at"), pl.col("started_at")).dt.date()
    return versions.filter((pl.col("date") >= first_landed) & (effective < pl.col("date"))).height


@pytest.fixture(scope="module")
def incremental_run(busy_world: Path, tmp_path_factory: pytest.TempPathFactory) -> IncrementalRun:
    """Like Dagster would: a full build up to 6 days before the end; then one partition at a time
    (skipping one, so a build must widen its window back to leave no gap), each landing the
    generator's late rows (changes effective up to 45 days before they land); the last day with
    every older subscriptions partition emptied; then the last day again."""
    data_dir = tmp_path_factory.mktemp("incremental")
    shutil.copytree(busy_world, data_dir / "raw")
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    end = AS_OF
    # The last six days have not landed yet: each lands just before its partition is built, so
    # its late rows reach a table already built for the days they change.
    pending = tmp_path_factory.mktemp("not_landed_yet")
    for partition in project.raw_dir.glob("*/*/date=*"):
        if dt.date.fromisoformat(partition.name.removeprefix("date=")) > end - dt.timedelta(days=6):
            target = pending / partition.relative_to(project.raw_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(partition, target)

    def land_through(day: dt.date) -> None:
        for partition in pending.glob("*/*/date=*"):
            if dt.date.fromisoformat(partition.name.removeprefix("date=")) <= day:
                shutil.move(partition, project.raw_dir / partition.relative_to(pending))

    seed = project.dbt("seed")
    assert seed.success, seed.describe()
    full = project.dbt(
        "run",
        "--select",
        "+fct_mrr_daily",
        vars={"max_date": (end - dt.timedelta(days=6)).isoformat()},
    )
    assert full.success, full.describe()
    for days_before_end in (4, 3, 2, 1):
        day = end - dt.timedelta(days=days_before_end)
        land_through(day)
        build_day(project, day)
    land_through(end)

    # Pruning: the last day's build reads only the raw partitions from the newest one already in
    # int_subscription_versions on (it re-reads that one in case it was re-landed). Every older
    # partition is emptied: had the build read its rows, periods would be missing. (Their footers
    # stay valid: the source reads files by column name, so DuckDB binds every file's schema — a
    # footer read per file — before it skips the pruned ones.)
    corrupted = 0
    for partition in sorted((project.raw_dir / "app_db" / "subscriptions").glob("date=*")):
        if dt.date.fromisoformat(partition.name.removeprefix("date=")) < end - dt.timedelta(days=1):
            path = partition / "part-0.parquet"
            if pl.read_parquet(path).height:
                pl.read_parquet(path).clear().write_parquet(path)
                corrupted += 1
    build_day(project, end)
    after_days = mrr_table(project)
    build_day(project, end)
    return IncrementalRun(
        after_days,
        mrr_table(project),
        corrupted,
        late_rows_applied=late_subscription_rows(busy_world, end - dt.timedelta(days=5)),
    )


def test_day_by_day_incremental_equals_full_refresh(
    incremental_run: IncrementalRun, full_refresh_table: pl.DataFrame
) -> None:
    """Building the last days one partition at a time, each landing late changes, even after a
    skipped partition, gives exactly the full-refresh table."""
    assert incremental_run.late_rows_applied > 0, "the world must land late rows in those days"
    assert incremental_run.after_days.equals(full_refresh_table)


def test_full_refresh_with_late_and_corrected_rows_equals_recomputation(
    busy_world: Path, full_refresh_table: pl.DataFrame
) -> None:
    """The busy world's late rows and corrections: each period counts by its newest version."""
    expected = mrr_by_day(busy_world, small_world_start(), AS_OF).sort(
        ["customer_id", "product", "date_day"]
    )
    actual = (
        full_refresh_table.filter(pl.col("mrr") > 0)
        .select(
            "customer_id",
            "product",
            "date_day",
            (pl.col("mrr") * 100).cast(pl.Int64).alias("mrr_cents"),
            "seats",
        )
        .sort(["customer_id", "product", "date_day"])
    )
    assert expected.height > 0
    assert actual.select(expected.columns).equals(
        expected.cast(actual.select(expected.columns).schema)
    )


def test_building_the_same_day_twice_changes_nothing(incremental_run: IncrementalRun) -> None:
    """Re-running a partition is idempotent: same rows, same values."""
    assert incremental_run.after_rerun.equals(incremental_run.after_days)


def test_one_day_build_reads_only_recent_partitions(
    incremental_run: IncrementalRun, full_refresh_table: pl.DataFrame
) -> None:
    """With every subscriptions partition but the last two emptied, the last day still equals
    the full refresh: a day's build reads no raw subscription history."""
    assert incremental_run.corrupted_partitions > 0
    assert incremental_run.after_days.equals(full_refresh_table)
