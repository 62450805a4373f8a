"""Fixtures for the Dagster code location.

- `prepared_manifest`: the dbt manifest Dagster loads, prepared once if missing or stale.
- `defs_and_settings`: the real code location built over a temporary data dir (no runs).
- `dagster_world`: a small world (scale 0.05, 14 days ending yesterday) materialized through
  Dagster once per session — raw Parquet, warehouse and instance all in temporary dirs.

Environment variables are set only around Dagster executions (`world.env()`), never for the whole
session, so other suites in the same pytest process are unaffected.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import DagsterInstance, Definitions, ExecuteInProcessResult

from techflow_orchestration.jobs import DAILY_JOB_NAME
from techflow_orchestration.project import (
    FINGERPRINT_PATH,
    changed_since_manifest,
    dbt_project,
    prepare_manifest,
)
from techflow_orchestration.settings import REPO_ROOT, TechflowSettings, yesterday_utc
from tests.support import environment

# Deprecations raised inside third-party code, not by calls this project makes; silenced for this
# directory only so that a deprecated call of our own still shows up.
THIRD_PARTY_DEPRECATIONS = (
    # dagster-dbt 0.29 reads context.op inside its own dbt selection code
    "ignore:AssetExecutionContext.op is deprecated:DeprecationWarning",
    # dagster 1.13's SQL event log storage
    "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning",
    # build_schedule_from_partitioned_job calls this itself when it evaluates a tick
    "ignore:Function `.*run_request_for_partition` is deprecated:DeprecationWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            for rule in THIRD_PARTY_DEPRECATIONS:
                item.add_marker(pytest.mark.filterwarnings(rule))


WORLD_DAYS = 14
WORLD_SCALE = 0.05
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@pytest.fixture(scope="session")
def prepared_manifest() -> Path:
    """`make manifest` in-process: `dbt parse` only when the project changed since the last one."""
    current = (
        dbt_project.manifest_path.exists()
        and FINGERPRINT_PATH.exists()
        and not changed_since_manifest()
    )
    return dbt_project.manifest_path if current else prepare_manifest()


def world_settings(data_dir: Path, days: int = WORLD_DAYS) -> TechflowSettings:
    return TechflowSettings(
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "techflow.duckdb",
        world_start=yesterday_utc() - timedelta(days=days - 1),
        world_scale=WORLD_SCALE,
    )


def settings_env(settings: TechflowSettings, dagster_home: Path) -> dict[str, str]:
    return {
        "TECHFLOW_DATA_DIR": str(settings.data_dir),
        "TECHFLOW_WAREHOUSE": str(settings.warehouse),
        "TECHFLOW_WORLD_START": settings.world_start.isoformat(),
        "TECHFLOW_WORLD_SCALE": str(settings.world_scale),
        "DAGSTER_HOME": str(dagster_home),
    }


def make_dagster_home(path: Path) -> Path:
    """A temporary instance configured exactly like the repo's (.dagster_home/dagster.yaml)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", path / "dagster.yaml")
    return path


@pytest.fixture
def defs_and_settings(prepared_manifest, tmp_path) -> tuple[Definitions, TechflowSettings]:
    from techflow_orchestration.location import build_definitions

    settings = world_settings(tmp_path / "data")
    return build_definitions(settings), settings


@dataclass
class DagsterWorld:
    settings: TechflowSettings
    defs: Definitions
    instance: DagsterInstance
    dagster_home: Path

    @property
    def env(self) -> dict[str, str]:
        return settings_env(self.settings, self.dagster_home)

    @property
    def partition_keys(self) -> list[str]:
        return self.defs.resolve_job_def(DAILY_JOB_NAME).partitions_def.get_partition_keys()

    def run_daily(
        self,
        first: str,
        last: str | None = None,
        asset_selection: list[Any] | None = None,
    ) -> ExecuteInProcessResult:
        """The daily job for one partition, or a single-run range first..last."""
        single = last is None or last == first
        job = self.defs.resolve_job_def(DAILY_JOB_NAME)
        with environment(self.env):
            return job.execute_in_process(
                instance=self.instance,
                tags=None if single else {RANGE_START_TAG: first, RANGE_END_TAG: last},
                partition_key=first if single else None,
                asset_selection=asset_selection,
            )

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def mrr_rows(self, day: date | str) -> list[tuple[Any, ...]]:
        """Every column of fct_mrr_daily for one day, in a stable order."""
        return self.query(
            "select * from finance.fct_mrr_daily where date_day = ? order by all", [str(day)]
        )


@pytest.fixture(scope="session")
def dagster_world(prepared_manifest, tmp_path_factory) -> Iterator[DagsterWorld]:
    """The whole graph for a small world, as one single-run backfill of the daily job."""
    from techflow_orchestration.location import build_definitions

    root = tmp_path_factory.mktemp("dagster_world")
    settings = world_settings(root / "data")
    home = make_dagster_home(root / "dagster_home")
    with DagsterInstance.from_config(str(home)) as instance:
        world = DagsterWorld(
            settings=settings,
            defs=build_definitions(settings),
            instance=instance,
            dagster_home=home,
        )
        keys = world.partition_keys
        result = world.run_daily(keys[0], keys[-1])
        assert result.success
        yield world
