"""Data tests sized to the change: on a daily run (a partition window is requested) the tests of
fct_events read only the days that run recomputed; with no window (a full build, the weekly job)
they read the whole table; its primary-key tests read the whole table always.

Each case plants one bad row in a built fct_events and runs the mart's tests as a daily run (the
window environment Dagster passes for the as-of day) and as a full-table run (no window). A row
of an unknown feature on the as-of day fails the daily run; the same row dated a month earlier,
outside the window, passes the daily run and fails the full-table run; a duplicated event key a
month back fails both (primary keys stay unique across the whole table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.support import AS_OF, DbtProject, small_world_start

pytestmark = pytest.mark.slow

DAILY_WINDOW = {
    "TECHFLOW_MRR_MIN_DATE": AS_OF.isoformat(),
    "TECHFLOW_MRR_MAX_DATE": AS_OF.isoformat(),
}
A_MONTH_BEFORE = AS_OF - dt.timedelta(days=30)
UNKNOWN_FEATURE_TEST = "relationships_fct_events_feature__feature__ref_product_features_"
EVENT_KEY_UNIQUE_TEST = "unique_fct_events_event_key"
# fct_events, what it is built from and the seed one of its tests reads ("buildable": the tests
# whose parents are all built, as the Dagster step runs them); then the tests on fct_events.
FCT_EVENTS_AND_ITS_TESTS = (
    "--select", "+fct_events", "plan_catalog", "--indirect-selection", "buildable",
)  # fmt: skip
ITS_TESTS = ("--select", "fct_events", "plan_catalog", "--indirect-selection", "buildable")


@pytest.fixture(scope="module")
def events_built(
    small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DbtProject]:
    data_dir = tmp_path_factory.mktemp("tests_sized_to_window")
    (data_dir / "raw").symlink_to(small_world / "raw", target_is_directory=True)
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    built = project.dbt("build", *FCT_EVENTS_AND_ITS_TESTS)
    assert built.success, built.describe()
    yield project


def plant(project: DbtProject, sql: str) -> None:
    """Change the built fct_events behind dbt's back (the tests then see the planted row)."""
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(sql)


def copy_of_an_event(event_date: dt.date, *, feature: str | None, same_key: bool) -> str:
    """SQL inserting a copy of one event moved to `event_date`: under a new key with another
    feature, or under the same key (a duplicate)."""
    key = "event_key" if same_key else "'planted_key'"
    event_id = "event_id" if same_key else "'planted_event'"
    feature_sql = f"'{feature}'" if feature else "feature"
    return f"""
        insert into product.fct_events
        select {key}, {event_id}, user_key, user_id, product, {feature_sql}, feature_name,
            feature_min_tier, is_core_feature, occurred_at, cast('{event_date}' as date)
        from product.fct_events
        order by event_id
        limit 1
    """


def failed_tests(project: DbtProject, env: dict[str, str]) -> set[str]:
    project.extra_env.clear()
    project.extra_env.update(env)
    try:
        invocation = project.dbt("test", *ITS_TESTS)
    finally:
        project.extra_env.clear()
    assert invocation.results, invocation.describe()
    return {name for name in invocation.failures()}


@pytest.fixture
def clean_events(events_built: DbtProject) -> Iterator[DbtProject]:
    yield events_built
    plant(events_built, "delete from product.fct_events where event_id = 'planted_event'")
    plant(
        events_built,
        """
        delete from product.fct_events where rowid in (
            select max(rowid) from product.fct_events group by event_key having count(*) > 1
        )
        """,
    )


def test_the_built_mart_passes_its_tests_with_and_without_a_window(
    events_built: DbtProject,
) -> None:
    assert failed_tests(events_built, DAILY_WINDOW) == set()
    assert failed_tests(events_built, {}) == set()


def test_a_bad_row_inside_the_window_fails_the_daily_run(clean_events: DbtProject) -> None:
    plant(clean_events, copy_of_an_event(AS_OF, feature="no_such_feature", same_key=False))

    assert UNKNOWN_FEATURE_TEST in failed_tests(clean_events, DAILY_WINDOW)
    assert UNKNOWN_FEATURE_TEST in failed_tests(clean_events, {})


def test_a_bad_row_outside_the_window_is_left_to_the_full_table_run(
    clean_events: DbtProject,
) -> None:
    plant(clean_events, copy_of_an_event(A_MONTH_BEFORE, feature="no_such_feature", same_key=False))

    assert failed_tests(clean_events, DAILY_WINDOW) == set()
    assert failed_tests(clean_events, {}) == {UNKNOWN_FEATURE_TEST}


def test_a_duplicate_key_outside_the_window_still_fails_the_daily_run(
    clean_events: DbtProject,
) -> None:
    plant(clean_events, copy_of_an_event(A_MONTH_BEFORE, feature=None, same_key=True))

    failed = failed_tests(clean_events, DAILY_WINDOW)
    assert EVENT_KEY_UNIQUE_TEST in failed
    assert failed == failed_tests(clean_events, {})
