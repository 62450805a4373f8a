"""Session fixtures shared by the whole suite.

- `small_world`: a small generated world (raw Parquet), built once per session.
- `DbtProject` / `dbt_project_factory`: run dbt in-process (dbtRunner) against a throw-away
  data dir and warehouse, selected through the same environment variables production uses.
- `built_warehouse`: `dbt seed` + `dbt build` over `small_world`, built once and published,
  queried by many tests.
- `prepared_manifest`: the dbt manifest Dagster loads, prepared once if missing or stale.
- `reference_world`: a longer, sparser world (REFERENCE_WORLD_DAYS at REFERENCE_WORLD_SCALE)
  built with `dbt build` and published, against which the metrics are compared with the
  independent references recomputed from its raw Parquet (tests/reference/).

Worlds stay small (scale 0.05, 60 days): every engineer's suite shares two cores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    AS_OF,
    REFERENCE_WORLD_SCALE,
    DbtProject,
    generate_world,
    reference_world_start,
    small_world_start,
)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding raw/ for a small world of SMALL_WORLD_DAYS days ending on the suite's
    as-of day (AS_OF).

    Generated once per session; treat it as read-only (copy it to change raw files).
    """
    data_dir = tmp_path_factory.mktemp("small_world")
    generate_world(data_dir / "raw", small_world_start(), AS_OF)
    return data_dir


@pytest.fixture
def dbt_project_factory(tmp_path: Path):
    """Make a DbtProject over a given data dir (default: a fresh empty one under tmp_path)."""

    def make(
        data_dir: Path | None = None, target: str = "prod", world_start: dt.date | None = None
    ) -> DbtProject:
        return DbtProject(
            data_dir=data_dir or tmp_path / "data", target=target, world_start=world_start
        )

    return make


@pytest.fixture(scope="session")
def built_warehouse(
    small_world: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DbtProject]:
    """`dbt seed` + `dbt build` of the whole project over small_world, built once per session.

    The warehouse lives in its own dir; the raw files are shared with small_world through
    TECHFLOW_DATA_DIR pointing at a dir whose raw/ is a symlink (the build never writes raw).
    """
    data_dir = tmp_path_factory.mktemp("built_warehouse")
    (data_dir / "raw").symlink_to(small_world / "raw", target_is_directory=True)
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    invocation = project.dbt("build")  # seeds, snapshots, models and tests, in DAG order
    assert invocation.success, invocation.describe()
    project.publish()  # readers (docs, metrics) open the published file, as in production
    yield project


@pytest.fixture(scope="session")
def prepared_manifest() -> Path:
    """`make manifest` in-process: `dbt parse` only when the project changed since the last one."""
    from techflow_orchestration.project import (
        FINGERPRINT_PATH,
        changed_since_manifest,
        dbt_project,
        prepare_manifest,
    )

    current = (
        dbt_project.manifest_path.exists()
        and FINGERPRINT_PATH.exists()
        and not changed_since_manifest()
    )
    return dbt_project.manifest_path if current else prepare_manifest()


@pytest.fixture(scope="session")
def reference_world(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """`dbt build` over a generated world of REFERENCE_WORLD_DAYS days ending on AS_OF: over a
    year of paying customers, so every monthly and trailing-12-month metric has months to be
    compared on. Its raw Parquet is under `.raw_dir`; treat both as read-only."""
    data_dir = tmp_path_factory.mktemp("reference_world")
    generate_world(data_dir / "raw", reference_world_start(), AS_OF, scale=REFERENCE_WORLD_SCALE)
    project = DbtProject(data_dir=data_dir, world_start=reference_world_start())
    invocation = project.dbt("build")
    assert invocation.success, invocation.describe()
    project.publish()  # the metrics are read from the published file, as in production
    return project
