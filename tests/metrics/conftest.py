"""Fixtures for the semantic layer's tests.

- `semantic_manifest`: MetricFlow's semantic manifest, prepared with the dbt manifest Dagster
  reads (`make manifest`) when missing or stale.
- `metric_store`: a MetricStore over the session's small built warehouse (`built_warehouse`),
  published and opened read-only, as `make metrics` opens it, per test module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from techflow_metrics.semantic import SEMANTIC_MANIFEST_PATH, MetricStore
from techflow_orchestration.project import (
    FINGERPRINT_PATH,
    changed_since_manifest,
    prepare_manifest,
)


@pytest.fixture(scope="session")
def semantic_manifest() -> Path:
    current = (
        SEMANTIC_MANIFEST_PATH.exists()
        and FINGERPRINT_PATH.exists()
        and not changed_since_manifest()
    )
    if not current:
        prepare_manifest()
    return SEMANTIC_MANIFEST_PATH


@pytest.fixture(scope="module")
def warehouse_con(built_warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(built_warehouse.published), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def metric_store(semantic_manifest, warehouse_con) -> MetricStore:
    return MetricStore(warehouse_con, semantic_manifest)
