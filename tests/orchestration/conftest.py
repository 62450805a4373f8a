"""Fixtures for the Dagster code location.

- `prepared_manifest` (tests/conftest.py): the dbt manifest Dagster loads, prepared if stale.
- `defs_and_settings`: the real code location built over a temporary data dir (no runs).
- `dagster_world`: a small world (WORLD_DAYS days at WORLD_SCALE, ending on the suite's fixed
  as-of day `tests.support.AS_OF`) materialized through Dagster once per session — raw Parquet,
  warehouse and instance all in temporary dirs.
- `private_world`: a copy of it for one test, to kill processes in, break, or contend for.

Every world ends on AS_OF, a fixed day (a Sunday), and TECHFLOW_AS_OF=AS_OF is set around every
Dagster execution, so the daily partitions end on it too: no fixture or test reads the wall
clock to pick a date, and the verdict is the same on any day at any minute. Environment variables
are set only around Dagster executions (`world.env`), never for the whole session, so other
suites in the same pytest process are unaffected.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, Definitions, ExecuteInProcessResult

from techflow_core.clock import AS_OF_ENV
from techflow_core.paths import REPO_ROOT
from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.warehouse.cadence import WEEKLY_JOB_NAME, WEEKLY_TAG
from techflow_orchestration.defs.warehouse.jobs import DAILY_JOB_NAME
from tests.support import AS_OF, environment

# Deprecations raised inside third-party code, not by calls this project makes; silenced for this
# directory only, and only when raised from the module named (the last field), so that a
# deprecated call of our own still shows up. (The daily schedule is a plain @schedule:
# build_schedule_from_partitioned_job called the deprecated run_request_for_partition on every
# tick; test_definitions checks that a tick warns about nothing.)
THIRD_PARTY_DEPRECATIONS = (
    # dagster-dbt 0.29 reads context.op in its own selection code (asset_utils.py)
    "ignore:AssetExecutionContext.op is deprecated:DeprecationWarning:dagster_dbt.asset_utils",
    # dagster 1.13's SQL event log storage, when it stores an asset check evaluation
    "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning:"
    "dagster._core.storage.event_log.sql_event_log",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            for rule in THIRD_PARTY_DEPRECATIONS:
                item.add_marker(pytest.mark.filterwarnings(rule))


# Two weeks (two weekends) at scale 0.5: ~80 users, and from the second week on every day —
# Saturdays and Sundays included — has 20+ usage events. At scale 0.05 a 14-day world had 7 users
# and no usage at all on its last weekend, which failed fct_events' recency test whenever the
# last day was a Sunday. The world is fixed (seed, scale, days, AS_OF), so this is checked once,
# not hoped for: see test_the_world_has_usage_on_its_last_weekend.
WORLD_DAYS = 14
WORLD_SCALE = 0.5
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def world_settings(data_dir: Path, days: int = WORLD_DAYS) -> TechflowSettings:
    """A world of `days` days ending on AS_OF, with the as-of day pinned (partitions end on it)."""
    return TechflowSettings(
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "techflow.duckdb",
        world_start=AS_OF - timedelta(days=days - 1),
        as_of=AS_OF,
        world_scale=WORLD_SCALE,
        as_of_pinned=True,
    )


def settings_env(settings: TechflowSettings, dagster_home: Path) -> dict[str, str]:
    return {
        "TECHFLOW_DATA_DIR": str(settings.data_dir),
        "TECHFLOW_WAREHOUSE": str(settings.warehouse),
        "TECHFLOW_WORLD_START": settings.world_start.isoformat(),
        "TECHFLOW_WORLD_SCALE": str(settings.world_scale),
        AS_OF_ENV: settings.as_of.isoformat(),
        "DAGSTER_HOME": str(dagster_home),
    }


def make_dagster_home(path: Path) -> Path:
    """A temporary instance configured exactly like the repo's (.dagster_home/dagster.yaml)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", path / "dagster.yaml")
    return path


@pytest.fixture
def defs_and_settings(prepared_manifest, tmp_path) -> tuple[Definitions, TechflowSettings]:
    from techflow_orchestration.defs import build_definitions

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

    def build_from_scratch(self, first: str, last: str) -> None:
        """A fresh world through the daily job, as the schedules would have built it: the daily
        job over first..last without the exposures that read the weekly marts (on an empty
        warehouse there is nothing for them to read yet), the weekly job, then those exposures
        for the last day. (`make run` builds all of it in one build job instead.)"""
        daily = self.defs.resolve_job_def(DAILY_JOB_NAME)
        graph = self.defs.resolve_asset_graph()
        weekly = AssetSelection.tag(WEEKLY_TAG, "")
        readers = (weekly.downstream(depth=1) - weekly).resolve(graph)
        selected = daily.asset_layer.selected_asset_keys
        assert self.run_daily(first, last, asset_selection=sorted(selected - readers)).success
        with environment(self.env):
            weekly_run = self.defs.resolve_job_def(WEEKLY_JOB_NAME).execute_in_process(
                instance=self.instance
            )
        assert weekly_run.success
        assert self.run_daily(last, asset_selection=sorted(selected & readers)).success

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
    """The whole graph for a small world, as a single-run backfill of the daily job (and the
    weekly job, for the weekly marts)."""
    from techflow_orchestration.defs import build_definitions

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
        # Dagster caps even an end date by its own clock: only a clock before AS_OF's end (a
        # machine whose date is wrong by months) could cut the world short. Say so plainly.
        assert keys and keys[-1] == AS_OF.isoformat(), (
            f"the daily partitions end on {keys[-1] if keys else None}, not on AS_OF={AS_OF}: "
            "is this machine's clock before the end of AS_OF (UTC)?"
        )
        world.build_from_scratch(keys[0], keys[-1])
        yield world


@dataclass
class PrivateWorld:
    """An independent copy of the session's Dagster world (raw, warehouse, instance) that a test
    may kill, break or contend for: nothing it does reaches the shared one."""

    settings: TechflowSettings
    dagster_home: Path
    instance: DagsterInstance
    partition_keys: list[str]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **settings_env(self.settings, self.dagster_home)}

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the published warehouse, as every reader does."""
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql).fetchall()

    def run_partition(self, day: str, asset_selection: list[Any]) -> ExecuteInProcessResult:
        """The daily job's `asset_selection` for one day, in this process (as a UI launch of a
        partition runs it); failures are returned, not raised."""
        from techflow_orchestration.defs import build_definitions

        job = build_definitions(self.settings).resolve_job_def(DAILY_JOB_NAME)
        with environment(settings_env(self.settings, self.dagster_home)):
            return job.execute_in_process(
                instance=self.instance,
                partition_key=day,
                asset_selection=asset_selection,
                raise_on_error=False,
            )


@pytest.fixture
def private_world(dagster_world, tmp_path) -> Iterator[PrivateWorld]:
    data_dir = tmp_path / "data"
    shutil.copytree(dagster_world.settings.data_dir, data_dir)
    home = tmp_path / "dagster_home"
    shutil.copytree(dagster_world.dagster_home, home)
    settings = dataclasses.replace(
        dagster_world.settings,
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "techflow.duckdb",
    )
    with DagsterInstance.from_config(str(home)) as instance:
        yield PrivateWorld(settings, home, instance, dagster_world.partition_keys)
