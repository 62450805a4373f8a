"""mrr_finance_dashboard: MRR and ARR by product, the MRR movement waterfall, NRR/GRR, cohort
retention, paying customers and ARPA, collected revenue — every figure a semantic-layer metric.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from techflow_dashboards.page import Dashboard, Kpi, layout, month_label
from techflow_metrics import MetricStore

MONTH = "metric_time__month"
PRODUCT = "mrr_line__product"
COHORT_MONTH = "cohort__cohort_month__month"
MONTHS_SINCE = "cohort__months_since_signup"
# Signed movements, in the order fct_mrr_daily classifies them.
MOVEMENTS = ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")
MONTHLY = (
    "mrr", *MOVEMENTS, "net_new_mrr", "grr", "nrr", "logo_churn_rate", "paying_customers",
    "arpa", "collected_revenue", "trial_to_paid_conversion",
)  # fmt: skip
NOW = ("mrr", "arr", "paying_customers", "arpa")
# Tiles for the as-of month (month to date); the rest are on the as-of day.
MONTH_TILES = (
    ("net_new_mrr", "Net new MRR", "usd"),
    ("nrr", "NRR", "ratio"),
    ("grr", "GRR", "ratio"),
    ("logo_churn_rate", "Logo churn", "ratio"),
    ("trial_to_paid_conversion", "Trial → paid", "ratio"),
)
LABELS = {"mrr": "MRR", "arr": "ARR", "paying_customers": "Paying customers", "arpa": "ARPA"}


def build(store: MetricStore, as_of: date) -> Dashboard:
    now = store.query(list(NOW)).row(0, named=True)
    monthly = store.query(list(MONTHLY), [MONTH]).with_columns(pl.col(MONTH).dt.date())
    by_product = store.query(["mrr", "arr"], [MONTH, PRODUCT]).with_columns(pl.col(MONTH).dt.date())
    cohorts = store.query(["cohort_retention_rate"], [COHORT_MONTH, MONTHS_SINCE])
    this_month = as_of.replace(day=1)
    current = monthly.filter(pl.col(MONTH) == this_month)
    month_row = current.row(0, named=True) if current.height else {}

    kpis = [
        Kpi(m, LABELS[m], now[m], "count" if m == "paying_customers" else "usd", f"on {as_of}")
        for m in NOW
    ]
    kpis += [
        Kpi(m, label, month_row.get(m), unit, f"{month_label(this_month)} to {as_of}")
        for m, label, unit in MONTH_TILES
    ]
    dashboard = Dashboard(
        slug="mrr_finance_dashboard",
        title="TechFlow — MRR & revenue",
        subtitle=f"As of {as_of} (TECHFLOW_AS_OF). Every figure is a metric of the dbt "
        "semantic layer (techflow_dbt/models/semantic).",
        kpis=kpis,
    )
    dashboard.charts = [
        _by_product(by_product, "mrr", "MRR by product (month end)"),
        _by_product(by_product, "arr", "ARR by product (month end)"),
        _waterfall(monthly, this_month),
        _movements(monthly),
        _retention(monthly),
        _cohort_heatmap(cohorts),
        _paying_and_arpa(monthly),
        _revenue(monthly),
    ]
    return dashboard


def _by_product(frame: pl.DataFrame, metric: str, title: str) -> go.Figure:
    fig = go.Figure()
    for product in sorted(frame[PRODUCT].unique().to_list()):
        part = frame.filter(pl.col(PRODUCT) == product).sort(MONTH)
        fig.add_bar(x=part[MONTH].to_list(), y=[float(v) for v in part[metric]], name=product)
    return layout(fig, title, barmode="stack", yaxis_tickprefix="$")


def _waterfall(monthly: pl.DataFrame, month: date) -> go.Figure:
    ordered = monthly.sort(MONTH)
    row = ordered.filter(pl.col(MONTH) == month)
    before = ordered.filter(pl.col(MONTH) < month)
    start = Decimal(before["mrr"][-1]) if before.height else Decimal(0)
    values = row.row(0, named=True) if row.height else dict.fromkeys(MOVEMENTS, Decimal(0))
    labels = ["Start MRR", "New", "Reactivation", "Expansion", "Contraction", "Churned", "End MRR"]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            measure=["absolute", *["relative"] * len(MOVEMENTS), "total"],
            y=[float(start), *(float(values[m] or 0) for m in MOVEMENTS), 0],
        )
    )
    # Zoom on the movements: from 90 % of the lowest running total, not from zero.
    running = [float(start)]
    for metric in MOVEMENTS:
        running.append(running[-1] + float(values[metric] or 0))
    low, high = min(running), max(running)
    return layout(
        fig,
        f"MRR movement waterfall, {month_label(month)}",
        yaxis_tickprefix="$",
        yaxis_range=[0.9 * low, high + 0.05 * (high - 0.9 * low) + 1],
    )


def _movements(monthly: pl.DataFrame) -> go.Figure:
    ordered = monthly.sort(MONTH)
    fig = go.Figure()
    for metric in MOVEMENTS:
        fig.add_bar(
            x=ordered[MONTH].to_list(),
            y=[float(v or 0) for v in ordered[metric]],
            name=metric.removesuffix("_mrr"),
        )
    fig.add_scatter(
        x=ordered[MONTH].to_list(),
        y=[float(v or 0) for v in ordered["net_new_mrr"]],
        name="net new",
        mode="lines+markers",
    )
    return layout(fig, "Monthly MRR movements", barmode="relative", yaxis_tickprefix="$")


def _retention(monthly: pl.DataFrame) -> go.Figure:
    ordered = monthly.sort(MONTH).filter(pl.col("nrr").is_not_null())
    fig = go.Figure()
    for metric, name in (("nrr", "NRR"), ("grr", "GRR")):
        fig.add_scatter(x=ordered[MONTH].to_list(), y=ordered[metric].to_list(), name=name)
    return layout(fig, "Net and gross revenue retention (monthly)", yaxis_tickformat=".0%")


def _cohort_heatmap(cohorts: pl.DataFrame) -> go.Figure:
    grid = (
        cohorts.with_columns(pl.col(COHORT_MONTH).dt.strftime("%Y-%m"))
        .pivot(on=MONTHS_SINCE, index=COHORT_MONTH, values="cohort_retention_rate")
        .sort(COHORT_MONTH)
    )
    months = sorted((c for c in grid.columns if c != COHORT_MONTH), key=int)
    fig = go.Figure(
        go.Heatmap(
            z=[[row[m] for m in months] for row in grid.iter_rows(named=True)],
            x=[int(m) for m in months],
            y=grid[COHORT_MONTH].to_list(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%"},
        )
    )
    return layout(
        fig,
        "Cohort retention (active users / cohort size)",
        xaxis_title="months since signup",
        yaxis_autorange="reversed",
    )


def _paying_and_arpa(monthly: pl.DataFrame) -> go.Figure:
    ordered = monthly.sort(MONTH)
    fig = go.Figure()
    fig.add_bar(x=ordered[MONTH].to_list(), y=ordered["paying_customers"].to_list(), name="paying")
    fig.add_scatter(
        x=ordered[MONTH].to_list(), y=ordered["arpa"].to_list(), name="ARPA ($)", yaxis="y2"
    )
    return layout(
        fig,
        "Paying customers and ARPA (month end)",
        yaxis2={"overlaying": "y", "side": "right", "tickprefix": "$"},
    )


def _revenue(monthly: pl.DataFrame) -> go.Figure:
    ordered = monthly.sort(MONTH)
    fig = go.Figure()
    fig.add_bar(
        x=ordered[MONTH].to_list(),
        y=[float(v or 0) for v in ordered["collected_revenue"]],
        name="net collected",
    )
    return layout(fig, "Net collected revenue by invoice month", yaxis_tickprefix="$")
