"""What `make run` prints at the end: mart row counts, MRR/ARR by product on the as-of day, where
to look.

The MRR day is the as-of day (TECHFLOW_AS_OF, default yesterday UTC; `make run` pins it before
building), not whatever fct_mrr_daily's last row happens to be: a warehouse that stops short of
the as-of day is reported as such. Reads the published warehouse through the code location's
`warehouse` resource (dagster-duckdb's DuckDBResource, read-only); builds never write that file
in place (publish.py), so the summary neither waits for a run nor makes one fail. Called outside
any run, it uses the resource object directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from techflow_core.clock import AS_OF_ENV
from techflow_core.settings import TechflowSettings
from techflow_orchestration.lib.resources import warehouse_resource

MART_SCHEMAS = ("finance", "product", "marketing", "sales")


@dataclass(frozen=True)
class ProductMrr:
    product: str
    mrr: Decimal
    customers: int

    @property
    def arr(self) -> Decimal:
        return self.mrr * 12


@dataclass(frozen=True)
class WarehouseSummary:
    mart_rows: dict[str, int]  # "schema.table" -> rows
    mrr_day: date  # the as-of day
    mrr_by_product: list[ProductMrr]  # empty when fct_mrr_daily has no rows for mrr_day
    mrr_last_day: date | None  # fct_mrr_daily's last day (None: no rows at all)


def read_summary(settings: TechflowSettings) -> WarehouseSummary:
    if not settings.warehouse.exists():
        raise FileNotFoundError(
            f"No warehouse at {settings.warehouse}: run `make run` (or check TECHFLOW_WAREHOUSE)."
        )
    with warehouse_resource(settings).get_connection() as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) and table_type = 'BASE TABLE' "
            "order by table_schema, table_name",
            [list(MART_SCHEMAS)],
        ).fetchall()
        mart_rows = {
            f"{schema}.{table}": con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }
        mrr_day = settings.as_of
        mrr_last_day = con.execute("select max(date_day) from finance.fct_mrr_daily").fetchone()[0]
        rows = con.execute(
            """
            select product, sum(mrr) as mrr, count(distinct customer_id) filter (where mrr > 0)
            from finance.fct_mrr_daily
            where date_day = ?
            group by product
            order by product
            """,
            [mrr_day],
        ).fetchall()
    return WarehouseSummary(
        mart_rows=mart_rows,
        mrr_day=mrr_day,
        mrr_by_product=[ProductMrr(p, Decimal(str(m or 0)), c) for p, m, c in rows],
        mrr_last_day=mrr_last_day,
    )


def format_summary(summary: WarehouseSummary, settings: TechflowSettings) -> str:
    lines = [
        "",
        "TechFlow Analytics warehouse (published; open it read-only from a notebook or BI tool)",
        f"  {settings.warehouse}",
        "",
        "Mart tables (rows):",
    ]
    width = max((len(name) for name in summary.mart_rows), default=0)
    lines += [f"  {name:<{width}}  {rows:>12,}" for name, rows in summary.mart_rows.items()]
    lines += ["", *mrr_lines(summary)]
    lines += ["", *exposure_lines(settings)]
    lines += [
        "",
        f"Alerts (freshness, failed runs): {settings.alerts_file}",
        "Open the Dagster UI with the run history and lineage: make dev  ->  http://127.0.0.1:3000",
        "",
    ]
    return "\n".join(lines)


def exposure_lines(settings: TechflowSettings) -> list[str]:
    """Where the dashboards and the churn scores are (see assets/dashboards.py, assets/churn.py)."""
    from techflow_orchestration.defs.exposures.dashboards import dashboard_path
    from techflow_orchestration.lib.keys import CHURN_SCORES_TABLE, DASHBOARD_KEYS

    lines = ["Dashboards (static HTML, offline):"]
    for key in DASHBOARD_KEYS:
        path = dashboard_path(settings, key)
        lines.append(f"  {path}" + ("" if path.exists() else "  (not built yet)"))
    lines += [
        "  serve them on 127.0.0.1: make dashboards",
        f"Churn scores of today's paying customers: table {CHURN_SCORES_TABLE} in the warehouse",
    ]
    return lines


def mrr_lines(summary: WarehouseSummary) -> list[str]:
    heading = f"MRR and ARR by product on {summary.mrr_day} (the as-of day, {AS_OF_ENV}):"
    if not summary.mrr_by_product:
        last = (
            f"its last day is {summary.mrr_last_day}"
            if summary.mrr_last_day
            else "it has no rows at all"
        )
        return [
            heading,
            f"  fct_mrr_daily has no rows for {summary.mrr_day} ({last}): the warehouse is not "
            "built up to the as-of day. Run `make run` with the same "
            f"{AS_OF_ENV} to build it.",
        ]
    lines = [heading]
    total = Decimal(0)
    for row in summary.mrr_by_product:
        total += row.mrr
        lines.append(
            f"  {row.product:<14} MRR ${row.mrr:>14,.2f}   ARR ${row.arr:>16,.2f}"
            f"   ({row.customers:,} paying customers)"
        )
    lines.append(f"  {'total':<14} MRR ${total:>14,.2f}   ARR ${total * 12:>16,.2f}")
    return lines


def print_summary(settings: TechflowSettings) -> None:
    print(format_summary(read_summary(settings), settings))
