"""mrr_finance_dashboard and marketing_roi_dashboard: static HTML under
$TECHFLOW_DATA_DIR/dashboards/, rebuilt by the daily job after the marts they read.

Numbers come from the semantic layer (techflow_metrics over the warehouse's DuckDBResource); each
materialization records the file, the as-of day and every KPI tile as metadata, with a Markdown
summary for the asset page.
"""

# No `from __future__ import annotations`: Dagster inspects the context/resource type hints.

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from techflow_core.durable import write_text_durably
from techflow_core.paths import dashboard_file, dashboards_dir
from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs.exposures.manifest import (
    exposure_deps,
    exposure_node,
    exposure_owners,
)
from techflow_orchestration.lib.keys import (
    EXPOSURES_GROUP,
    MARKETING_ROI_DASHBOARD,
    MRR_FINANCE_DASHBOARD,
)
from techflow_orchestration.lib.run_context import step_as_of


def dashboard_dir(settings: TechflowSettings) -> Path:
    return dashboards_dir(settings.data_dir)


def dashboard_path(settings: TechflowSettings, key: AssetKey) -> Path:
    return dashboard_file(settings.data_dir, key.path[-1])


def _builder(key: AssetKey) -> Callable[[Any, date], Any]:
    from techflow_dashboards import finance, marketing

    return {MRR_FINANCE_DASHBOARD: finance.build, MARKETING_ROI_DASHBOARD: marketing.build}[key]


def write_atomically(path: Path, text: str) -> None:
    """A reader (or `make dashboards`) never sees half a file, even after a crash: written to a
    temporary name, fsynced, renamed over the old page (techflow_core.durable)."""
    write_text_durably(path, text)


def summary_markdown(dashboard: Any, path: Path, as_of: date) -> str:
    rows = "\n".join(
        f"| {k.label} | `{k.metric}` | {k.shown()} | {k.note} |" for k in dashboard.kpis
    )
    return (
        f"**{dashboard.title}** as of {as_of}: `{path}` ({len(dashboard.charts)} charts; "
        "open with `make dashboards`).\n\n| KPI | metric | value | period |\n|---|---|---|---|\n"
        f"{rows}\n"
    )


def build_dashboard_asset(key: AssetKey) -> AssetsDefinition:
    name = key.path[-1]

    @asset(
        key=key,
        deps=exposure_deps(name),
        group_name=EXPOSURES_GROUP,
        owners=exposure_owners(name),
        description=exposure_node(name).get("description"),
        kinds={"plotly", "html"},
        # A reader of the published warehouse (the `warehouse` resource, read-only): no pool. It
        # never waits for a writer, nor makes one wait (publish.py).
    )
    def _dashboard(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
        from techflow_metrics import MetricStore

        settings = TechflowSettings.from_env()
        as_of = step_as_of(context)
        with warehouse.get_connection() as con:
            dashboard = _builder(key)(MetricStore(con), as_of)
        path = dashboard_path(settings, key)
        write_atomically(path, dashboard.render())
        context.log.info(f"{name}: {path}")
        metadata: dict[str, Any] = {
            "path": MetadataValue.path(str(path)),
            "as_of": MetadataValue.text(as_of.isoformat()),
            "charts": MetadataValue.int(len(dashboard.charts)),
            "summary": MetadataValue.md(summary_markdown(dashboard, path, as_of)),
        }
        for metric, value in dashboard.headline().items():
            metadata[f"kpi/{metric}"] = (
                MetadataValue.float(value) if value is not None else MetadataValue.text("n/a")
            )
        return MaterializeResult(metadata=metadata)

    return _dashboard


def build_dashboard_assets() -> list[AssetsDefinition]:
    return [
        build_dashboard_asset(MRR_FINANCE_DASHBOARD),
        build_dashboard_asset(MARKETING_ROI_DASHBOARD),
    ]
