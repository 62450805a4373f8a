"""A re-landed raw partition is noticed and repaired through Dagster.

A small world is built by the daily job; then an old subscriptions partition is re-delivered —
first with the same bytes (nothing to do), then with a seat count changed (a connector re-sync
with corrected data). Before any repair fct_mrr_daily still holds the old figures (its incremental
builds never re-read that day); the `relanded_raw_partitions` sensor observes the new data version
and requests one partition run, after which fct_mrr_daily equals a full refresh over the same raw
data, row for row. The sensor's pure parts are tested on hand-made records first.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance, RunRequest, SensorResult, build_sensor_context

from techflow_orchestration.defs.raw.relanded import (
    Change,
    LandedFile,
    Recorded,
    changes,
    fingerprint,
    repair_request,
)
from techflow_orchestration.lib.keys import FCT_MRR_DAILY, INT_SUBSCRIPTION_VERSIONS, RAW_ASSET_KEYS
from techflow_orchestration.lib.tags import DATA_VERSION_TAG
from tests.orchestration.conftest import DagsterWorld, make_dagster_home, world_settings
from tests.support import DbtProject, environment

SUBSCRIPTIONS = AssetKey(["raw", "app_db", "subscriptions"])
SENSOR = "relanded_raw_partitions"


def landed(day: str, mtime: float, path: Path = Path("f.parquet")) -> LandedFile:
    return LandedFile(SUBSCRIPTIONS, day, path, mtime, 100)


def test_files_older_than_their_record_are_not_even_hashed() -> None:
    hashed = []
    recorded = {(SUBSCRIPTIONS, "2026-06-01"): Recorded(landed_mtime=50.0, data_version="v1")}
    found = changes([landed("2026-06-01", 40.0)], recorded, lambda p: hashed.append(p) or "v2")
    assert (found, hashed) == ([], [])


def test_a_redelivery_with_the_same_content_is_no_change() -> None:
    recorded = {(SUBSCRIPTIONS, "2026-06-01"): Recorded(landed_mtime=50.0, data_version="v1")}
    assert changes([landed("2026-06-01", 60.0)], recorded, lambda _: "v1") == []


def test_new_content_is_a_relanding_and_a_first_file_is_not() -> None:
    recorded = {(SUBSCRIPTIONS, "2026-06-01"): Recorded(landed_mtime=50.0, data_version="v1")}
    found = changes(
        [landed("2026-06-01", 60.0), landed("2026-06-02", 60.0)], recorded, lambda _: "v2"
    )
    assert [(c.file.day, c.previous, c.relanded) for c in found] == [
        ("2026-06-01", "v1", True),
        ("2026-06-02", None, False),
    ]


def test_one_repair_run_from_the_earliest_relanded_day_keyed_by_the_changes() -> None:
    found = [
        Change(landed("2026-06-05", 1.0, Path("b")), "v2", "v1", relanded=True),
        Change(landed("2026-06-03", 1.0, Path("a")), "v3", "v0", relanded=True),
        Change(landed("2026-06-01", 1.0, Path("c")), "v9", None, relanded=False),
    ]
    request = repair_request(found, [FCT_MRR_DAILY])
    assert request is not None
    assert (request.partition_key, request.asset_selection) == ("2026-06-03", [FCT_MRR_DAILY])
    assert request.run_key == repair_request(list(reversed(found)), [FCT_MRR_DAILY]).run_key
    assert repair_request(found[2:], [FCT_MRR_DAILY]) is None  # first landings need no repair


# --- end to end, through Dagster ------------------------------------------------------------

WORLD_DAYS = 14


@pytest.fixture(scope="module")
def world(prepared_manifest, tmp_path_factory) -> Iterator[DagsterWorld]:
    from techflow_orchestration.defs import build_definitions

    root = tmp_path_factory.mktemp("relanded_world")
    settings = world_settings(root / "data", days=WORLD_DAYS)
    home = make_dagster_home(root / "dagster_home")
    with DagsterInstance.from_config(str(home)) as instance:
        world = DagsterWorld(settings, build_definitions(settings), instance, home)
        keys = world.partition_keys
        world.build_from_scratch(keys[0], keys[-1])
        yield world


def tick(world: DagsterWorld, cursor: str | None) -> SensorResult:
    """One evaluation of the sensor, as the daemon would run it; its observations are stored."""
    sensor = world.defs.resolve_sensor_def(SENSOR)
    with environment(world.env):
        context = build_sensor_context(
            instance=world.instance, cursor=cursor, definitions=world.defs
        )
        result = sensor(context)
    assert isinstance(result, SensorResult), result
    for event in result.asset_events:
        world.instance.report_runless_asset_event(event)
    return result


def mrr_table(query: Any) -> list[tuple[Any, ...]]:
    return query("select * from finance.fct_mrr_daily order by all")


def full_refresh(world: DagsterWorld, tmp_path: Path) -> list[tuple[Any, ...]]:
    """fct_mrr_daily built from scratch, by plain dbt, over the same raw files."""
    data_dir = tmp_path / "full_refresh"
    data_dir.mkdir()
    (data_dir / "raw").symlink_to(world.settings.raw_dir, target_is_directory=True)
    project = DbtProject(data_dir=data_dir, world_start=world.settings.world_start)
    built = project.dbt(
        "build", "--select", "+fct_mrr_daily", "--full-refresh",
        "--exclude-resource-type", "test", "unit_test",
    )  # fmt: skip
    assert built.success, built.describe()
    return mrr_table(project.query)


PAYING = pl.col("status").is_in(["active", "past_due"]) & pl.col("ended_at").is_null()


def reland_with_more_seats(path: Path) -> int:
    """Rewrite a subscriptions partition with one paying period's seats raised by 5, as a
    corrected extract would; the subscription changed."""
    frame = pl.read_parquet(path)
    subscription_id = frame.filter(PAYING)["subscription_id"][0]
    frame.with_columns(
        quantity=pl.when(pl.col("subscription_id") == subscription_id)
        .then(pl.col("quantity") + 5)
        .otherwise(pl.col("quantity"))
    ).write_parquet(path)
    return subscription_id


def subscriptions_file(world: DagsterWorld, day: str) -> Path:
    return world.settings.raw_dir / "app_db" / "subscriptions" / f"date={day}" / "part-0.parquet"


def paying_day(world: DagsterWorld) -> str:
    """An old day (a week or more back) whose subscriptions partition holds a paying period."""
    for key in world.partition_keys[-14:-6]:
        if pl.read_parquet(subscriptions_file(world, key)).filter(PAYING).height:
            return key
    raise AssertionError("no old subscriptions partition with a paying period")


@pytest.mark.slow
def test_a_relanded_partition_is_observed_and_repaired_to_equal_a_full_refresh(
    world: DagsterWorld, tmp_path: Path
) -> None:
    # Everything landed so far was written by the raw asset's own runs: nothing to notice.
    first = tick(world, None)
    assert (first.run_requests, first.asset_events) == ([], [])

    # One day rematerialized on its own records its content hash as the data version...
    day = paying_day(world)
    with environment(world.env):
        assert world.run_daily(day, asset_selection=[SUBSCRIPTIONS]).success
    path = subscriptions_file(world, day)
    [record] = world.instance.fetch_materializations(SUBSCRIPTIONS, limit=1).records
    assert record.partition_key == day
    assert record.asset_materialization.tags[DATA_VERSION_TAG] == fingerprint(path)

    # ...so a re-delivery of the same bytes changes nothing.
    shutil.copyfile(path, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)
    same = tick(world, first.cursor)
    assert (same.run_requests, same.asset_events) == ([], [])

    # A re-sync lands the day again with a corrected seat count. The incremental build has not
    # seen it: fct_mrr_daily now differs from a full refresh over the raw data.
    built_before = mrr_table(world.query)
    reland_with_more_seats(path)
    expected = full_refresh(world, tmp_path)
    assert built_before != expected

    relanded = tick(world, same.cursor)
    [event] = relanded.asset_events
    assert (event.asset_key, event.partition) == (SUBSCRIPTIONS, day)
    assert event.tags[DATA_VERSION_TAG] == fingerprint(path)
    [request] = relanded.run_requests
    assert isinstance(request, RunRequest) and request.partition_key == day
    selection = set(request.asset_selection)
    assert {INT_SUBSCRIPTION_VERSIONS, FCT_MRR_DAILY} <= selection
    assert not selection & set(RAW_ASSET_KEYS), "the repair must not regenerate raw files"
    latest = world.instance.get_latest_data_version_record(
        SUBSCRIPTIONS, is_source=True, partition_key=day
    )
    assert latest.asset_observation.tags[DATA_VERSION_TAG] == fingerprint(path)

    job = world.defs.resolve_job_def("techflow_daily")
    with environment(world.env):
        repaired = job.execute_in_process(
            instance=world.instance,
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            tags=request.tags,
        )
    assert repaired.success
    assert mrr_table(world.query) == expected

    # Seen once, repaired once: the next tick finds nothing new.
    after = tick(world, relanded.cursor)
    assert (after.run_requests, after.asset_events) == ([], [])

    # Landed once more, broken this time (the seat column now text): the repair run fails at the
    # door with the guard's words in the step failure, and fct_mrr_daily keeps its good rows.
    pl.read_parquet(path).with_columns(pl.col("quantity").cast(pl.String)).write_parquet(path)
    [broken] = tick(world, after.cursor).run_requests
    with environment(world.env):
        failed = job.execute_in_process(
            instance=world.instance,
            partition_key=broken.partition_key,
            asset_selection=broken.asset_selection,
            raise_on_error=False,
        )
    assert not failed.success
    [failure] = [event for event in failed.all_events if event.is_step_failure]
    assert (
        f"app_db.subscriptions ({path.parent.parent}): raw files break the contract "
        f"(data_generation/schema.py): date={day}: column quantity is varchar, the contract says "
        "integer"
    ) in failure.step_failure_data.error.message
    assert mrr_table(world.query) == expected
