"""Helpers shared by the test suite: run dbt in-process against throw-away data dirs.

- `DbtProject`: run dbt (dbtRunner) against a temporary data dir and warehouse, selected
  through the same environment variables production uses.
- `generate_world`: a small generated world (raw Parquet) for a date range.

Worlds stay small (scale 0.05, 60 days): the whole suite shares two cores.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "techflow_dbt"

SMALL_WORLD_DAYS = 60
SMALL_WORLD_SCALE = 0.05
SMALL_WORLD_SEED = 7


# The suite's clock: every fixture world ends on this day and every dbt/Dagster/generator call
# sees it as TECHFLOW_AS_OF, so a test gives the same verdict whenever it runs (no test reads the
# wall clock). A Sunday on purpose: quiet weekend days must not fail any check.
AS_OF = dt.date(2026, 6, 14)
# "Now" by that clock: the end of the as-of day (naive UTC, like every raw timestamp).
AS_OF_END = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())


# The reference world (tests/conftest.py `reference_world`): long enough for every retention
# metric — trailing-12-month cohorts need a year of paying customers before the months measured —
# and small enough to build in about half a minute (a few hundred paying customers).
REFERENCE_WORLD_DAYS = 500
REFERENCE_WORLD_SCALE = 0.1


def small_world_start() -> dt.date:
    """First day of small_world (and the TECHFLOW_WORLD_START dbt must see for it)."""
    return AS_OF - dt.timedelta(days=SMALL_WORLD_DAYS - 1)


def reference_world_start() -> dt.date:
    """First day of the reference world (and its TECHFLOW_WORLD_START)."""
    return AS_OF - dt.timedelta(days=REFERENCE_WORLD_DAYS - 1)


@contextlib.contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore the previous values."""
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class DbtInvocation:
    """What one dbt command did: success, per-node results and every warning/error event."""

    args: list[str]
    success: bool
    results: list[Any]
    warnings: list[str]
    errors: list[str]
    exception: BaseException | None

    def failed_nodes(self) -> list[str]:
        """unique_ids of nodes whose status is error or fail (models and tests)."""
        return [
            r.node.unique_id
            for r in self.results
            if str(getattr(r, "status", "")).lower() in {"error", "fail", "runtime error"}
        ]

    def failures(self) -> dict[str, str]:
        """Name -> message of every node whose status is error or fail. A raw-feed guard raises
        its problems as the message (macros/guard_failures.sql), so this is what the user reads
        in dbt's console and in the Dagster step's failure."""
        return {
            r.node.name: str(r.message)
            for r in self.results
            if str(getattr(r, "status", "")).lower() in {"error", "fail", "runtime error"}
        }

    def describe(self) -> str:
        lines = [f"dbt {' '.join(self.args)} -> success={self.success}"]
        if self.exception is not None:
            lines.append(f"exception: {self.exception!r}")
        lines += [f"ERROR {e}" for e in self.errors]
        lines += [f"WARN {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class DbtProject:
    """The techflow dbt project pointed at one data dir and warehouse.

    Runs dbt in-process through dbtRunner with TECHFLOW_DATA_DIR / TECHFLOW_WAREHOUSE set, and a
    private target/log path so parallel tests never share compiled state. As everywhere, the
    `prod` target builds into the build file (`warehouse`, beside the published one); these
    tests query what dbt built there. `publish()` publishes it as Dagster does, for tests whose
    readers open the published file (`published`).
    """

    data_dir: Path
    target: str = "prod"
    world_start: dt.date | None = None
    as_of: dt.date = AS_OF
    extra_env: dict[str, str] = field(default_factory=dict)
    history: list[DbtInvocation] = field(default_factory=list)

    @property
    def published(self) -> Path:
        """$TECHFLOW_WAREHOUSE: what readers open."""
        return self.data_dir / "warehouse" / "techflow.duckdb"

    @property
    def warehouse(self) -> Path:
        """The file dbt builds into (the profile's `prod` target derives it from `published`)."""
        from techflow_core.warehouse import build_warehouse_for

        return build_warehouse_for(self.published)

    def publish(self) -> None:
        """Publish the build file over `published`, through the project's own publisher."""
        from techflow_orchestration.lib.publish import DuckDBFilePublisher

        publisher = DuckDBFilePublisher(published=self.published, build=self.warehouse)
        with publisher.writing("tests.support.DbtProject.publish", lambda _: None) as write:
            write.publish()

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def env(self) -> dict[str, str]:
        env = {
            "TECHFLOW_DATA_DIR": str(self.data_dir),
            "TECHFLOW_WAREHOUSE": str(self.published),
            "TECHFLOW_AS_OF": self.as_of.isoformat(),
        }
        if self.world_start is not None:
            env["TECHFLOW_WORLD_START"] = self.world_start.isoformat()
        return {**env, **self.extra_env}

    def dbt(self, *args: str, vars: Mapping[str, Any] | None = None) -> DbtInvocation:
        """Run one dbt command (e.g. "build", "--select", "fct_mrr_daily") and collect events."""
        from dbt.cli.main import dbtRunner

        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        run_dir = self.data_dir / "dbt_run"
        cli_args = [
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target",
            self.target,
            "--target-path",
            str(run_dir / "target"),
            "--log-path",
            str(run_dir / "logs"),
        ]
        if vars:
            import json

            cli_args += ["--vars", json.dumps(dict(vars))]
        warnings: list[str] = []
        errors: list[str] = []

        def collect(event: Any) -> None:
            level = event.info.level
            if level == "warn":
                warnings.append(f"{event.info.name}: {event.info.msg}")
            elif level == "error":
                errors.append(f"{event.info.name}: {event.info.msg}")

        with environment(self.env):
            result = dbtRunner(callbacks=[collect]).invoke(cli_args)
        release_duckdb_file()
        raw = result.result
        results = list(getattr(raw, "results", None) or [])
        invocation = DbtInvocation(
            args=list(args),
            success=result.success,
            results=results,
            warnings=warnings,
            errors=errors,
            exception=result.exception,
        )
        self.history.append(invocation)
        return invocation

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL read-only against the warehouse (closes the file before dbt needs it again)."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def query_pl(self, sql: str) -> Any:
        """Run SQL read-only and return a polars DataFrame."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.sql(sql).pl()


def release_duckdb_file() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in-process after an invocation.

    dbt-duckdb caches one connection environment per process; while it is open, any other
    connection to the same file with another configuration (e.g. read_only=True in `query`)
    fails with "Can't open a connection to same database file with a different configuration".
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()


def generate_world(out_raw: Path, start: dt.date, end: dt.date, **config: Any) -> Path:
    """Generate a synthetic world's raw Parquet for [start, end] into out_raw (…/raw)."""
    from data_generation import WorldConfig, generate_range

    world = WorldConfig(
        start=start,
        scale=config.pop("scale", SMALL_WORLD_SCALE),
        seed=config.pop("seed", SMALL_WORLD_SEED),
        out_dir=out_raw,
        **config,
    )
    generate_range(world, start, end)
    return out_raw
