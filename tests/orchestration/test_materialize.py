"""Materializing through Dagster: partitions are idempotent, equal to a full run, and backfills are
one run with one dbt invocation.

All tests share `dagster_world`: a 14-day, scale-0.5 world ending on the suite's fixed as-of day
(a Sunday), built by one single-run backfill of the daily job (the "full run") in a temporary
instance and warehouse.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from techflow_orchestration.defs.warehouse.assets import DBT_OP_NAME
from techflow_orchestration.lib.keys import FCT_MRR_DAILY, MRR_PARTITIONED_KEYS, RAW_ASSET_KEYS
from tests.support import AS_OF

pytestmark = pytest.mark.slow


def test_the_full_run_materialized_every_partition_of_raw_and_fct_mrr_daily(dagster_world):
    keys = set(dagster_world.partition_keys)
    for key in [*RAW_ASSET_KEYS, *MRR_PARTITIONED_KEYS]:
        assert dagster_world.instance.get_materialized_partitions(key) == keys, key


def test_the_world_ends_on_the_as_of_day_with_usage_on_its_last_weekend(dagster_world):
    """The fixture is sized like a real business, not a toy: the world ends on AS_OF, a Sunday,
    and both days of that weekend have usage events. (Quiet days cannot fail a check anyway: the
    usage feed's recency rule asks for its daily partitions through the as-of day, not events.)"""
    import polars as pl

    assert dagster_world.partition_keys[-1] == AS_OF.isoformat()
    assert AS_OF.weekday() == 6  # Sunday
    events = pl.read_parquet(
        dagster_world.settings.raw_dir / "app_db" / "usage_events" / "**" / "*.parquet"
    )
    per_day = dict(events.group_by(pl.col("occurred_at").dt.date().alias("day")).len().iter_rows())
    weekend = [AS_OF - timedelta(days=1), AS_OF]
    assert all(per_day.get(day, 0) >= 5 for day in weekend), {d: per_day.get(d) for d in weekend}


def test_a_partition_rebuilt_twice_equals_the_full_run(dagster_world):
    day = dagster_world.partition_keys[-4]
    from_full_run = dagster_world.mrr_rows(day)
    assert from_full_run, f"the full run built no fct_mrr_daily rows for {day}"

    # The day's raw files and its fct_mrr_daily partition: one Parquet write, one dbt invocation.
    selection = [*RAW_ASSET_KEYS, *MRR_PARTITIONED_KEYS]
    first = dagster_world.run_daily(day, asset_selection=selection)
    after_first = dagster_world.mrr_rows(day)
    second = dagster_world.run_daily(day, asset_selection=selection)
    after_second = dagster_world.mrr_rows(day)

    assert first.success and second.success
    assert after_first == from_full_run
    assert after_second == after_first


def test_a_five_day_backfill_is_one_run_and_one_dbt_invocation(dagster_world):
    first, last = dagster_world.partition_keys[2], dagster_world.partition_keys[6]
    runs_before = len(dagster_world.instance.get_run_records())

    result = dagster_world.run_daily(first, last, asset_selection=list(MRR_PARTITIONED_KEYS))

    assert result.success
    assert len(dagster_world.instance.get_run_records()) == runs_before + 1
    logs = [
        record.user_message
        for record in dagster_world.instance.all_logs(result.run_id)
        if record.user_message
    ]
    dbt_commands = [m for m in logs if m.startswith("Running dbt command")]
    assert len(dbt_commands) == 1, dbt_commands
    # The window goes to dbt as environment variables, not --vars (see test_dbt_parse).
    assert f"partition window {first}..{last}" in logs
    materialized = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == FCT_MRR_DAILY
    }
    assert materialized == set(dagster_world.partition_keys[2:7])


def test_a_range_run_of_the_build_job_plans_unpartitioned_assets_once(dagster_world):
    """make run's build run (jobs.BUILD_JOB_NAME) over a range: one planned event per
    unpartitioned asset, one per day for the partitioned incrementals — not one per (asset, day),
    which Dagster plans for every asset of a run it gives a run-wide partitions subset (jobs.py)."""
    from dagster import AssetKey, DagsterEventType

    from techflow_orchestration.defs.warehouse.jobs import BUILD_JOB_NAME
    from techflow_orchestration.lib.tags import RANGE_END_TAG, RANGE_START_TAG
    from tests.support import environment

    keys = dagster_world.partition_keys
    unpartitioned = [AssetKey("plan_catalog"), AssetKey("stg_app_db__users")]
    job = dagster_world.defs.resolve_job_def(BUILD_JOB_NAME)
    with environment(dagster_world.env):
        result = job.execute_in_process(
            instance=dagster_world.instance,
            tags={RANGE_START_TAG: keys[-3], RANGE_END_TAG: keys[-1]},
            asset_selection=[*MRR_PARTITIONED_KEYS, *unpartitioned],
        )
    assert result.success
    planned: dict[AssetKey, list[str | None]] = {}
    for record in dagster_world.instance.all_logs(
        result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    ):
        event = record.dagster_event
        planned.setdefault(event.asset_key, []).append(event.partition)
    assert {key: len(days) for key, days in planned.items()} == {
        **{key: 3 for key in MRR_PARTITIONED_KEYS},
        **{key: 1 for key in unpartitioned},
    }
    assert sorted(planned[FCT_MRR_DAILY]) == keys[-3:]


def test_a_raw_partition_records_the_rows_bytes_and_path_of_its_file(dagster_world):
    import polars as pl

    day = dagster_world.partition_keys[-1]
    key = next(k for k in RAW_ASSET_KEYS if k.path[-1] == "subscriptions")
    result = dagster_world.run_daily(day, asset_selection=[key])

    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    metadata = event.materialization.metadata
    path = metadata["path"].value
    assert path.endswith(f"raw/app_db/subscriptions/date={day}/part-0.parquet")
    assert metadata["rows"].value == pl.read_parquet(path).height
    assert metadata["bytes"].value == Path(path).stat().st_size
    assert event.partition == day


def test_a_failed_range_run_shows_each_of_its_partitions_as_failed(dagster_world):
    """make run builds a whole range in one run; when that run fails, every partition it was to
    build shows as failed (the UI's partition bar), and one event per (asset, day) was planned."""
    from dagster import AssetPartitionStatus, DagsterEventType

    from techflow_core.clock import AS_OF_ENV
    from techflow_orchestration.defs.warehouse.jobs import DAILY_JOB_NAME
    from techflow_orchestration.lib.tags import RANGE_END_TAG, RANGE_START_TAG
    from tests.support import environment

    keys = dagster_world.partition_keys
    first, last = keys[1], keys[3]
    job = dagster_world.defs.resolve_job_def(DAILY_JOB_NAME)
    # A malformed as-of day fails the dbt step before dbt starts (it is read first).
    with environment({**dagster_world.env, AS_OF_ENV: "not-a-date"}):
        failed = job.execute_in_process(
            instance=dagster_world.instance,
            tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
            asset_selection=list(MRR_PARTITIONED_KEYS),
            raise_on_error=False,
        )
    assert not failed.success
    planned = [
        record.dagster_event.partition
        for record in dagster_world.instance.all_logs(
            failed.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        )
        if record.dagster_event.asset_key == FCT_MRR_DAILY
    ]
    assert sorted(planned) == keys[1:4]
    status = dagster_world.instance.get_status_by_partition(FCT_MRR_DAILY, keys, job.partitions_def)
    assert {day for day, s in status.items() if s == AssetPartitionStatus.FAILED} == set(keys[1:4])

    # Rebuilt, they are materialized again (and the shared world is whole for other tests).
    assert dagster_world.run_daily(first, last, asset_selection=list(MRR_PARTITIONED_KEYS)).success
    status = dagster_world.instance.get_status_by_partition(FCT_MRR_DAILY, keys, job.partitions_def)
    assert all(s == AssetPartitionStatus.MATERIALIZED for s in status.values()), status


def test_the_launchpads_full_refresh_rebuilds_the_incrementals_to_the_same_rows(dagster_world):
    from techflow_orchestration.defs.warehouse.jobs import DAILY_JOB_NAME
    from tests.support import environment

    keys = dagster_world.partition_keys
    before = {day: dagster_world.mrr_rows(day) for day in (keys[-4], keys[-1])}
    job = dagster_world.defs.resolve_job_def(DAILY_JOB_NAME)
    with environment(dagster_world.env):
        result = job.execute_in_process(
            instance=dagster_world.instance,
            partition_key=keys[-1],
            asset_selection=list(MRR_PARTITIONED_KEYS),
            run_config={"ops": {DBT_OP_NAME: {"config": {"full_refresh": True}}}},
        )

    assert result.success
    commands = [
        r.user_message
        for r in dagster_world.instance.all_logs(result.run_id)
        if r.user_message and r.user_message.startswith("Running dbt command")
    ]
    assert len(commands) == 1 and "--full-refresh" in commands[0], commands
    # Rebuilt from all raw data, it equals the history built partition by partition.
    assert before[keys[-4]] and before[keys[-1]]
    assert {day: dagster_world.mrr_rows(day) for day in before} == before
