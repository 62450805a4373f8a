"""Write a range run's per-(asset, day) events in two transactions instead of two per event.

A range run of the daily job plans one event per (partitioned asset, day) and records one
materialization per (asset, day): for a fresh default world, the raw tables
(schema.RAW_TABLES) + 2 incrementals times every day since the world start. That is
what lets the UI show every partition, and every partition of a failed run as failed, so the
count stays. What each costs is the storage's business: Dagster
hands these events over as batches (planned events, and the materializations of one output over a
partition range) when DAGSTER_EVENT_BATCH_SIZE is set, but the default SQLite event log storage
(dagster 1.13) writes a batch one event at a time — a new engine, connection and WAL commit for
the run's shard and again for the index shard, per event: minutes per fresh `make run`.

`enable_batched_event_writes` makes `make run`'s instance write such a batch the way
`store_event` writes one event (same rows: run shard, index shard, asset event tags, asset key
record), but each stretch of asset events in one transaction per shard; anything else in a batch
is stored event by event as before. It is applied to the
instance object of `make run` only (steps run in its process); `make dev`'s runs keep Dagster's
default writes.

Events that arrive one at a time (a dbt build streams thousands: check results, materializations,
step outputs) cost the same way: Dagster's SQLite storage creates an engine and opens, commits and
closes a connection per event and shard, and closing the last connection to a WAL database
checkpoints it and deletes its WAL file; the commit fsyncs — CPU and I/O taken from the dbt process
beside it (profiled figures: docs/orchestration.md). `reuse_connections` keeps one engine (and its
pooled connection) per shard for the life of the process, with `synchronous=NORMAL`, SQLite's
recommended setting for WAL: a commit is durable against a crash of the process (kill -9 loses
nothing committed), only an OS crash or power loss can roll back the last transactions, and the
database stays consistent either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import sqlalchemy
from dagster import DagsterInstance
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlalchemy_compat import db_result
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS

BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
# Events per transaction: a range's materializations of one asset (698 days) in one or two.
BATCH_SIZE = 500


def _is_asset_event(event: EventLogEntry) -> bool:
    return bool(
        event.is_dagster_event
        and event.dagster_event_type in ASSET_EVENTS
        and event.dagster_event.asset_key
    )


def _store_asset_events(storage: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    """SqliteEventLogStorage.store_event for asset events of one run, one transaction per shard."""
    statements = [storage.prepare_insert_event(event) for event in events]
    with storage.run_connection(events[0].run_id) as conn:
        for statement in statements:
            conn.execute(statement)
    # Mirrored in the index shard with the event's index id, as store_event does.
    with storage.index_transaction() as conn:
        for event, statement in zip(events, statements, strict=True):
            with db_result(conn, statement) as result:
                event_id = result.inserted_primary_key[0]
            storage._store_asset_event_tags(conn, [event], [event_id])
            storage._store_asset_event(conn, event, event_id)


def store_event_batch(storage: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    """Store a batch in order: each stretch of asset events of one run together, anything else
    (asset check plans, ...) one by one through store_event."""
    stretch: list[EventLogEntry] = []
    for event in events:
        if _is_asset_event(event) and (not stretch or stretch[0].run_id == event.run_id):
            stretch.append(event)
            continue
        if stretch:
            _store_asset_events(storage, stretch)
            stretch = []
        if _is_asset_event(event):
            stretch.append(event)
        else:
            storage.store_event(event)
    if stretch:
        _store_asset_events(storage, stretch)


def enable_batched_event_writes(instance: DagsterInstance) -> bool:
    """Batch this process's range-run events on `instance`; False (and nothing changed) when its
    event log is not Dagster's default SQLite storage."""
    storage = instance.event_log_storage
    if type(storage) is not SqliteEventLogStorage:
        return False
    os.environ.setdefault(BATCH_SIZE_ENV, str(BATCH_SIZE))
    storage.store_event_batch = partial(store_event_batch, storage)  # type: ignore[method-assign]
    return True


def _synchronous_normal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def _connect_reusing_engine(
    storage: SqliteEventLogStorage, engines: dict[str, sqlalchemy.Engine], shard: str
) -> Iterator[Any]:
    """SqliteEventLogStorage._connect, with one engine per shard kept open (pooled connection)."""
    with storage._db_lock:
        engine = engines.get(shard)
        if engine is None:
            engine = sqlalchemy.create_engine(
                storage.conn_string_for_shard(shard),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            sqlalchemy.event.listen(engine, "connect", _synchronous_normal)
            engines[shard] = engine
        if shard not in storage._initialized_dbs:
            storage._initdb(engine)
            storage._initialized_dbs.add(shard)
        with engine.connect() as conn, conn.begin():
            yield conn


def reuse_connections(instance: DagsterInstance) -> bool:
    """Keep this process's event log connections open, one per shard, with synchronous=NORMAL;
    False (and nothing changed) when the event log is not Dagster's default SQLite storage. The
    engines live as long as the process (`make run` is one short process)."""
    storage = instance.event_log_storage
    if type(storage) is not SqliteEventLogStorage:
        return False
    engines: dict[str, sqlalchemy.Engine] = {}
    storage._connect = partial(_connect_reusing_engine, storage, engines)  # type: ignore[method-assign]
    # Asked before writing each asset event and check evaluation, each time with an engine and a
    # connection of its own (over a thousand times in one build); tables only ever get added, by a
    # migration, never while `make run` runs: a table once there stays there.
    has_table = storage.has_table
    present: set[str] = set()

    def has_table_once_present(table_name: str) -> bool:
        if table_name not in present and has_table(table_name):
            present.add(table_name)
        return table_name in present

    storage.has_table = has_table_once_present  # type: ignore[method-assign]
    return True
