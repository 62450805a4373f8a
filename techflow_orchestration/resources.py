"""Resources: dbt, the warehouse (read-only), the synthetic world's generator settings, and alert
delivery.

Each is configured from TechflowSettings (environment variables with defaults), so a test can point
the whole code location at a temporary directory by building its own settings.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from datetime import date
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource, EnvVar
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from data_generation import WorldConfig
from techflow_orchestration.alerts import WEBHOOK_ENV, AlertSink
from techflow_orchestration.project import dbt_project
from techflow_orchestration.settings import TechflowSettings


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
    """dagster-dbt's dbt CLI resource without two start-up costs it pays before each dbt command.

    - It builds a dbt adapter in the Dagster process (imports dbt-core and dbt-duckdb, loads the
      project, parses every macro): 1.5-3 s per dbt step, 10 s on a loaded machine. The adapter
      serves only `fetch_column_metadata` / `fetch_row_counts`, which this project does not call.
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


def dbt_resource() -> DbtCliResource:
    return TechflowDbtCliResource(project_dir=dbt_project)


def warehouse_resource(settings: TechflowSettings) -> DuckDBResource:
    """The DuckDB warehouse for Python reads, bound under the resource key "warehouse".

    Read-only (DuckDB's access_mode): dbt is the warehouse's only writer, and a read-only
    connection never takes the single writer lock a dbt step needs. DuckDBResource retries a
    connection the lock refuses, with backoff.
    """
    return DuckDBResource(
        database=str(settings.warehouse), connection_config={"access_mode": "READ_ONLY"}
    )


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


def warehouse_writer_resource(settings: TechflowSettings) -> DuckDBResource:
    """The warehouse for the one Python asset that writes it (the churn model's scores table),
    bound under "warehouse_writer". Only assets in the single-slot `duckdb` pool may use it: a
    read-write connection takes DuckDB's one writer lock, as a dbt step does."""
    return DuckDBResource(database=str(settings.warehouse))
