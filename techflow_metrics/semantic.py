"""MetricFlow's engine over a DuckDB connection.

dbt-metricflow's own client (`mf`) goes through a dbt adapter, which opens the warehouse for
writing and runs `dbt debug` first. Here MetricFlow only compiles (its `explain`), and the SQL
runs on a connection the caller owns — read-only on the published warehouse for `make metrics`,
the dashboards (Dagster's DuckDBResource) and the tests — returning polars frames with exact
decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import duckdb
import polars as pl
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.model.dbt_manifest_parser import (
    parse_manifest_from_dbt_generated_manifest,
)
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

# Written by `make manifest` (dbt parse for the prod target) next to the manifest Dagster reads;
# the path comes from the core, so asking for a metric does not import dagster-dbt.
from techflow_core.paths import SEMANTIC_MANIFEST_PATH

PREPARE_HINT = "`make manifest`"


class UnknownMetricError(ValueError):
    """A metric name the semantic layer does not define."""


class _DuckDbClient:
    """MetricFlow's SqlClient protocol over one DuckDB connection (used for rendering; queries
    go through MetricStore.query so results keep DuckDB's exact types)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._renderer = DuckDbSqlPlanRenderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet | None = None
    ) -> MetricFlowDataTable:
        with self._con.cursor() as cursor:
            cursor.execute(stmt)
            columns = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        return MetricFlowDataTable.create_from_rows(column_names=columns, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet | None = None) -> None:
        self._con.execute(stmt)

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet | None = None) -> None:
        self._con.execute(f"explain {stmt}")

    def close(self) -> None:  # the caller owns the connection
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


@cache
def load_semantic_manifest(path: Path = SEMANTIC_MANIFEST_PATH) -> SemanticManifestLookup:
    if not path.exists():
        raise FileNotFoundError(
            f"MetricFlow's semantic manifest is missing at {path}. Build it with {PREPARE_HINT}."
        )
    return SemanticManifestLookup(parse_manifest_from_dbt_generated_manifest(path.read_text()))


class MetricStore:
    """Ask for metrics by name; get a polars frame with one column per group-by and metric."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, manifest_path: Path = SEMANTIC_MANIFEST_PATH
    ) -> None:
        self._con = con
        self._lookup = load_semantic_manifest(manifest_path)
        self._engine = MetricFlowEngine(self._lookup, _DuckDbClient(con))

    @property
    def metric_names(self) -> list[str]:
        return sorted(m.name for m in self._lookup.semantic_manifest.metrics)

    def metric_description(self, name: str) -> str:
        for metric in self._lookup.semantic_manifest.metrics:
            if metric.name == name:
                return metric.description or ""
        raise UnknownMetricError(name)

    def sql(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] | None = None,
    ) -> str:
        unknown = sorted(set(metrics) - set(self.metric_names))
        if unknown:
            raise UnknownMetricError(
                f"Unknown metric(s) {', '.join(unknown)}; defined in "
                f"techflow_dbt/models/marts/<domain>/<mart>.yml: {', '.join(self.metric_names)}"
            )
        request = MetricFlowQueryRequest.create(
            metric_names=list(metrics),
            group_by_names=list(group_by) or None,
            where_constraints=list(where) or None,
            order_by_names=list(order_by if order_by is not None else group_by) or None,
        )
        return self._engine.explain(request).sql_statement.sql

    def query(
        self,
        metrics: Sequence[str],
        group_by: Sequence[str] = (),
        where: Sequence[str] = (),
        order_by: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        sql = self.sql(metrics, group_by, where, order_by)
        # A cursor of its own: the caller's connection may hold an unfinished result.
        with self._con.cursor() as cursor:
            return cursor.sql(sql).pl()
