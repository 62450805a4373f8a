"""Resources: dbt, the warehouse (the published file, read-only), the warehouse writer (the build
file and its publisher), the synthetic world's generator settings, and alert delivery.

Each is configured from TechflowSettings (environment variables with defaults), so a test can point
the whole code location at a temporary directory by building its own settings.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from data_generation import WorldConfig
from techflow_core.settings import TechflowSettings
from techflow_orchestration.alerts import WEBHOOK_ENV, AlertSink
from techflow_orchestration.lib.publish import DuckDBFilePublisher, DuckDBWrite
from techflow_orchestration.project import dbt_project

# The dbt launcher installed with the project ([project.scripts] in pyproject.toml).
DBT_LAUNCHER = "techflow-dbt"


class WorldResource(ConfigurableResource):
    """The synthetic world the raw assets generate.

    Seed and dirt are the generator's defaults unless set here; scale comes from
    TECHFLOW_WORLD_SCALE (tests use a small world). The start date and output directory always
    come from the code location's settings so partitions and files line up.
    """

    data_dir: str
    world_start: str  # ISO date, the first daily partition
    scale: float | None = None
    seed: int | None = None

    def world_config(self) -> WorldConfig:
        overrides: dict[str, object] = {
            "start": date.fromisoformat(self.world_start),
            "out_dir": Path(self.data_dir) / "raw",
        }
        if self.scale is not None:
            overrides["scale"] = self.scale
        if self.seed is not None:
            overrides["seed"] = self.seed
        return WorldConfig.from_env(**overrides)


class AlertsResource(ConfigurableResource):
    """Where alerts go: a JSON-lines file and, optionally, a webhook.

    `webhook_url` is bound to `EnvVar(TECHFLOW_ALERT_WEBHOOK)` by `alerts_resource`, so the UI's
    Resources page shows the variable's name, never its value (the URL is the secret).
    """

    alerts_file: str
    webhook_url: str | None = None

    def sink(self) -> AlertSink:
        return AlertSink(alerts_file=Path(self.alerts_file), webhook_url=self.webhook_url)


class TechflowDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource, starting dbt through `techflow-dbt` (dbt_child.py: dbt is
    killed with the process that started it, and holds the dbt lock while it lives), without two
    start-up costs it pays before each dbt command.

    - It builds a dbt adapter in the Dagster process (imports dbt-core and dbt-duckdb, loads the
      project, parses every macro) before each dbt step: seconds of a core's time, more on a
      loaded machine (docs/orchestration.md has the figures). The adapter serves only
      `fetch_column_metadata` / `fetch_row_counts`, which this project does not call.
    - It asks the dbt executable its version (`dbt --version`: a whole dbt start-up, once per run)
      to tell dbt Core from dbt Fusion. This project installs dbt-core, whose version is in the
      package metadata.
    tests/orchestration/test_definitions.py checks both hooks still exist in dagster-dbt, so a
    rename upstream cannot silently bring the costs back.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))


def dbt_launcher() -> str:
    """`techflow-dbt` beside this interpreter (the project's .venv/bin), else on PATH."""
    beside = Path(sys.executable).parent / DBT_LAUNCHER
    found = str(beside) if beside.exists() else shutil.which(DBT_LAUNCHER)
    if not found:
        raise FileNotFoundError(
            f"{DBT_LAUNCHER} is not installed in this environment: run `make setup`."
        )
    return found


def dbt_resource() -> DbtCliResource:
    return TechflowDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_launcher())


def warehouse_resource(settings: TechflowSettings) -> DuckDBResource:
    """The PUBLISHED warehouse for Python reads, bound under the resource key "warehouse".

    Read-only (DuckDB's access_mode). Nothing ever writes this file in place — an audited build
    is renamed over it (publish.py) — so a reader never waits for a writer, and never fails one.
    """
    return DuckDBResource(
        database=str(settings.warehouse), connection_config={"access_mode": "READ_ONLY"}
    )


class WarehouseWriterResource(ConfigurableResource):
    """The one way to write the warehouse: an exclusive session on the private build file,
    published over the readers' file when the writer says so (publish.DuckDBFilePublisher).

    Used by every asset that writes the warehouse — the dbt op and the churn model's scores —
    each also in the `duckdb` pool, which queues them in the UI; the session's lock is what makes
    them one-at-a-time whatever launched them.
    """

    published: str
    build: str

    def publisher(self) -> DuckDBFilePublisher:
        return DuckDBFilePublisher(published=Path(self.published), build=Path(self.build))

    @contextmanager
    def writing(self, holder: str, log: Callable[[str], None]) -> Iterator[DuckDBWrite]:
        with self.publisher().writing(holder, log) as write:
            yield write


def world_resource(settings: TechflowSettings) -> WorldResource:
    return WorldResource(
        data_dir=str(settings.data_dir),
        world_start=settings.world_start.isoformat(),
        scale=settings.world_scale,
    )


def alerts_resource(settings: TechflowSettings) -> AlertsResource:
    """The webhook is read through Dagster's EnvVar when it is set (settings validated it is an
    http(s) URL); unset, there is no webhook and nothing to resolve."""
    return AlertsResource(
        alerts_file=str(settings.alerts_file),
        webhook_url=EnvVar(WEBHOOK_ENV) if settings.alert_webhook else None,
    )


def warehouse_writer_resource(settings: TechflowSettings) -> WarehouseWriterResource:
    """Bound under "warehouse_writer": the build file and the published file of these settings."""
    return WarehouseWriterResource(
        published=str(settings.warehouse), build=str(settings.build_warehouse)
    )
