"""Apply make run's SQLite event-log speed-ups (event_batches.py) only where they were tested.

The speed-ups replace methods of Dagster's `SqliteEventLogStorage` and call its private names,
which any Dagster release may change. So they are applied only on the Dagster versions listed in
`TESTED_DAGSTER_VERSIONS` (the lock's, checked by tests/ops with the whole suite); on any other
version `make run` runs on Dagster's own writes — slower for a fresh world's range run, never
wrong — and says so once. To adopt a new Dagster: run tests/ops/test_event_batches.py against
it, then add its version here.

Only techflow_ops's own process applies them, to its own instance object (`make run` executes its
runs in process). The code location never imports this package: the processes `make dev` starts
(webserver, daemon, run workers) keep Dagster's default writes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from dagster import DagsterInstance
from dagster.version import __version__ as DAGSTER_VERSION

TESTED_DAGSTER_VERSIONS = frozenset({"1.13.27"})


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def apply_storage_patches(
    instance: DagsterInstance,
    dagster_version: str = DAGSTER_VERSION,
    warn: Callable[[str], None] = _stderr,
) -> bool:
    """Batch range-run events and reuse event-log connections on `instance`; True when applied.

    On an untested Dagster version: nothing is patched (event_batches is not even imported: it
    imports Dagster's private modules) and one warning names the version and what to do.
    """
    if dagster_version not in TESTED_DAGSTER_VERSIONS:
        warn(
            f"make run: Dagster {dagster_version} is not a version its SQLite event-log speed-ups "
            f"were tested on ({', '.join(sorted(TESTED_DAGSTER_VERSIONS))}); running on "
            "Dagster's own event writes (correct, slower on a fresh world). "
            "See techflow_ops/storage_patches.py to adopt the new version."
        )
        return False
    from techflow_ops.event_batches import enable_batched_event_writes, reuse_connections

    # A fresh world's range run records ~18,000 per-(asset, day) events: write them in batches,
    # and the events a dbt build streams one by one over one connection per shard.
    batched = enable_batched_event_writes(instance)
    reused = reuse_connections(instance)
    return batched and reused
