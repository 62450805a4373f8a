"""make run's batched event writes store exactly what Dagster's one-by-one writes store.

Two instances with the repo's dagster.yaml (SQLite storage) run the same 60-day range of a small
partitioned job, one with `enable_batched_event_writes`: the same planned events, the same
materializations, the same partition status — failed partitions included — and the batched one
opened a handful of connections instead of several per event.
"""

from __future__ import annotations

import pytest
from dagster import (
    AssetPartitionStatus,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

from techflow_ops.event_batches import (
    BATCH_SIZE_ENV,
    enable_batched_event_writes,
    reuse_connections,
)
from techflow_orchestration.lib.tags import RANGE_END_TAG, RANGE_START_TAG
from tests.orchestration.conftest import make_dagster_home

DAYS = DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-03-02")  # 60 days
FIRST, LAST = "2026-01-01", "2026-03-01"
PER_PARTITION_EVENTS = (
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
)


@asset(partitions_def=DAYS)
def landed(context) -> MaterializeResult:
    return MaterializeResult(metadata={"days": len(context.partition_keys)})


@asset(partitions_def=DAYS, deps=[landed])
def modeled(context) -> MaterializeResult:
    if context.run.tags.get("fail") == "yes":
        raise RuntimeError("modeled failed on purpose")
    return MaterializeResult()


JOB = Definitions(assets=[landed, modeled], jobs=[define_asset_job("range_job")]).resolve_job_def(
    "range_job"
)


def _run(instance: DagsterInstance, fail: bool) -> str:
    result = JOB.execute_in_process(
        instance=instance,
        tags={RANGE_START_TAG: FIRST, RANGE_END_TAG: LAST, "fail": "yes" if fail else "no"},
        raise_on_error=False,
    )
    assert result.success is not fail
    return result.run_id


def _what_was_stored(instance: DagsterInstance, run_ids: list[str]) -> dict:
    keys = DAYS.get_partition_keys()
    stored = {}
    for asset_def in (landed, modeled):
        key = asset_def.key
        status = instance.get_status_by_partition(key, keys, DAYS)
        stored[key.to_user_string()] = {
            "status": sorted({str(s) for s in status.values()}),
            "failed": sorted(k for k, s in status.items() if s == AssetPartitionStatus.FAILED),
            "materialized": sorted(instance.get_materialized_partitions(key)),
        }
    for n, run_id in enumerate(run_ids):
        logs = instance.all_logs(run_id)
        stored[f"run{n}"] = sorted(
            (str(r.dagster_event.event_type_value), r.dagster_event.partition or "")
            for r in logs
            if r.dagster_event
            and r.dagster_event.event_type
            in (
                DagsterEventType.ASSET_MATERIALIZATION,
                DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
            )
        )
    return stored


def _count_connections(instance: DagsterInstance) -> list[int]:
    storage = instance.event_log_storage
    opened = [0]
    connect = storage._connect

    def counting(shard):
        opened[0] += 1
        return connect(shard)

    storage._connect = counting
    return opened


@pytest.fixture
def two_instances(tmp_path, monkeypatch):
    monkeypatch.delenv(BATCH_SIZE_ENV, raising=False)
    homes = [make_dagster_home(tmp_path / name) for name in ("one_by_one", "batched")]
    with (
        DagsterInstance.from_config(str(homes[0])) as plain,
        DagsterInstance.from_config(str(homes[1])) as batched,
    ):
        yield plain, batched


def test_batched_writes_store_the_same_events_and_partition_status(two_instances, monkeypatch):
    plain, batched = two_instances
    plain_connections = _count_connections(plain)
    plain_runs = [_run(plain, fail=True), _run(plain, fail=False), _run(plain, fail=True)]

    monkeypatch.setenv(BATCH_SIZE_ENV, "500")  # what enable sets; restored after the test
    assert enable_batched_event_writes(batched)
    batched_connections = _count_connections(batched)
    batched_runs = [_run(batched, fail=True), _run(batched, fail=False), _run(batched, fail=True)]

    assert _what_was_stored(batched, batched_runs) == _what_was_stored(plain, plain_runs)
    stored = _what_was_stored(batched, batched_runs)
    # The last run failed: modeled's 60 partitions show failed, landed's are materialized.
    assert len(stored["modeled"]["failed"]) == 60
    assert len(stored["landed"]["materialized"]) == 60 and stored["landed"]["failed"] == []
    # 3 runs x (2 assets x 60 days planned + up to 120 materializations): hundreds of
    # connections one by one; a few dozen batched.
    assert plain_connections[0] > 600
    assert batched_connections[0] < plain_connections[0] / 5, (
        batched_connections[0],
        plain_connections[0],
    )


def test_reused_connections_store_the_same_events_over_one_connection_per_shard(
    two_instances, monkeypatch
):
    """make run's instance also keeps one connection per SQLite shard (index + one per run),
    with synchronous=NORMAL, instead of opening, committing and closing one per event."""
    import sqlite3

    plain, reused = two_instances
    plain_runs = [_run(plain, fail=True), _run(plain, fail=False)]

    opened: list[str] = []
    connect = sqlite3.connect

    def counting_connect(database, *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", counting_connect)
    assert reuse_connections(reused)
    reused_runs = [_run(reused, fail=True), _run(reused, fail=False)]

    assert _what_was_stored(reused, reused_runs) == _what_was_stored(plain, plain_runs)
    event_log_files = [path for path in opened if "event_logs" in path]
    # One per shard touched: the index and each run's own file (no more however many events).
    assert len(event_log_files) == len(set(event_log_files)) <= 1 + len(reused_runs)
    with reused.event_log_storage.index_connection() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
