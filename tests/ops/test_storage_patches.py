"""make run's SQLite event-log speed-ups apply only on the Dagster versions they were tested on.

On such a version both patches replace the instance's storage methods and say nothing; on any
other version nothing is patched (the module calling Dagster's private names is not even
imported) and one warning names the version.
"""

from __future__ import annotations

import re
import sys

import pytest
from dagster import DagsterInstance
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from techflow_core.paths import REPO_ROOT
from techflow_ops.storage_patches import TESTED_DAGSTER_VERSIONS, apply_storage_patches
from tests.orchestration.conftest import make_dagster_home

EVENT_BATCHES = "techflow_ops.event_batches"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    with DagsterInstance.from_config(str(make_dagster_home(tmp_path / "home"))) as instance:
        yield instance


def _patched(storage: SqliteEventLogStorage) -> set[str]:
    """The storage methods replaced on this object (instance attributes shadowing the class)."""
    return {
        name for name in ("store_event_batch", "_connect", "has_table") if name in vars(storage)
    }


def test_the_locked_dagster_version_is_a_tested_one():
    locked = re.search(
        r'name = "dagster"\nversion = "([^"]+)"', (REPO_ROOT / "uv.lock").read_text()
    )
    assert locked is not None
    assert locked.group(1) in TESTED_DAGSTER_VERSIONS


def test_a_tested_version_is_patched_without_a_warning(instance):
    warnings: list[str] = []
    version = sorted(TESTED_DAGSTER_VERSIONS)[0]

    assert apply_storage_patches(instance, dagster_version=version, warn=warnings.append)

    assert warnings == []
    assert _patched(instance.event_log_storage) == {"store_event_batch", "_connect", "has_table"}


def test_another_version_runs_unpatched_with_one_warning(instance, monkeypatch):
    monkeypatch.delitem(sys.modules, EVENT_BATCHES, raising=False)
    warnings: list[str] = []

    assert not apply_storage_patches(instance, dagster_version="1.14.0", warn=warnings.append)

    assert len(warnings) == 1
    assert "Dagster 1.14.0" in warnings[0] and "storage_patches.py" in warnings[0]
    assert _patched(instance.event_log_storage) == set()
    assert EVENT_BATCHES not in sys.modules
