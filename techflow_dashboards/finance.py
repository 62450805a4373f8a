"""mrr_finance_dashboard: MRR and ARR by product, the last complete month's MRR bridge, monthly
movements, retention (NRR, GRR, logo churn; monthly, trailing twelve months and by product),
cohort retention, paying customers and ARPA, collected revenue — every figure a semantic-layer
metric, by the definitions of techflow_dbt/models/METRICS.md.

Months are complete months (ended by the as-of day): retention and cohort metrics return no other,
and the flows (movements, revenue) are cut at the last complete month so a partial month never
reads as a bad one. Point-in-time tiles (MRR, ARR, customers, ARPA) are the as-of day's.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import plotly.graph_objects as go
import polars as pl

from techflow_dashboards.page import Dashboard, Kpi, layout, month_label
from techflow_metrics import MetricStore

MONTH = "metric_time__month"
PRODUCT = "mrr_line__product"
RETENTION_PRODUCT = "product_month__product"
MONTHS_SINCE = "cohort_member_month__months_since_signup"
# Customer-level movements (a product switch is no churn, a cross-sell expansion), signed.
MOVEMENTS = ("new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr")
FLOWS = (*MOVEMENTS, "net_new_mrr", "collected_revenue")
POINT_IN_TIME = ("mrr", "paying_customers", "arpa")
RETENTION = ("nrr", "grr", "logo_churn_rate", "nrr_trailing_12m", "grr_trailing_12m")
TRIALS = ("trials_started", "trials_decided", "trial_to_paid_conversion")
NOW = ("mrr", "arr", "paying_customers", "arpa")
LABELS = {"mrr": "MRR", "arr": "ARR", "paying_customers": "Paying customers", "arpa": "ARPA"}
# Tiles for the last complete month: (metric, label, unit).
MONTH_TILES = (
    ("net_new_mrr", "Net new MRR", "usd"),
    ("nrr", "NRR", "ratio"),
    ("grr", "GRR", "ratio"),
    ("logo_churn_rate", "Logo churn", "ratio"),
    ("nrr_trailing_12m", "NRR, trailing 12 months", "ratio"),
)


def last_complete_month(as_of: date) -> date:
    """The first day of the last month that has ended by the as-of day."""
    next_day = as_of + timedelta(days=1)
    return (next_day.replace(day=1) - timedelta(days=1)).replace(day=1)


def _by_month(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(MONTH).dt.date()).sort(MONTH)


def build(store: MetricStore, as_of: date) -> Dashboard:
    complete = last_complete_month(as_of)
    now = store.query(list(NOW)).row(0, named=True)
    point = _by_month(store.query(list(POINT_IN_TIME), [MONTH]))
    flows = _by_month(store.query(list(FLOWS), [MONTH])).filter(pl.col(MONTH) <= complete)
    retention = _by_month(store.query(list(RETENTION), [MONTH]))
    by_product = _by_month(store.query(["mrr", "arr"], [MONTH, PRODUCT]))
    product_retention = _by_month(store.query(["product_nrr"], [MONTH, RETENTION_PRODUCT]))
    trials = _by_month(store.query(list(TRIALS), [MONTH]))
    cohorts = _by_month(store.query(["cohort_retention_rate"], [MONTH, MONTHS_SINCE]))

    month_values = {**_row(flows, complete), **_row(retention, complete)}
    cohort_month = _latest_decided_trial_cohort(trials)
    kpis = [
        Kpi(m, LABELS[m], now[m], "count" if m == "paying_customers" else "usd", f"on {as_of}")
        for m in NOW
    ]
    kpis += [
        Kpi(m, label, month_values.get(m), unit, month_label(complete), month=complete)
        for m, label, unit in MONTH_TILES
    ]
    kpis.append(
        Kpi(
            "trial_to_paid_conversion",
            "Trial → paid",
            _row(trials, cohort_month).get("trial_to_paid_conversion") if cohort_month else None,
            "ratio",
            f"trials started {month_label(cohort_month)}, all decided" if cohort_month else "",
            month=cohort_month,
        )
    )
    dashboard = Dashboard(
        slug="mrr_finance_dashboard",
        title="TechFlow — MRR & revenue",
        subtitle=f"As of {as_of} (TECHFLOW_AS_OF). Months are complete months, the last one "
        f"{month_label(complete)}; MRR, ARR, customers and ARPA are the as-of day's (the month in "
        "progress is shown to that day). Every figure is a metric of the dbt semantic layer "
        "(beside each mart in techflow_dbt/models/marts), defined in "
        "techflow_dbt/models/METRICS.md.",
        kpis=kpis,
    )
    dashboard.charts = [
        _by_product(
            by_product, "mrr", f"MRR by product (month end; {month_label(as_of)} to {as_of})"
        ),
        _by_product(
            by_product, "arr", f"ARR by product (month end; {month_label(as_of)} to {as_of})"
        ),
        _bridge(point, flows, complete),
        _movements(flows),
        _retention(retention),
        _logo_churn(retention),
        _product_retention(product_retention),
        _cohort_heatmap(cohorts),
        _paying_and_arpa(point),
        _revenue(flows),
    ]
    return dashboard


def _row(frame: pl.DataFrame, month: date | None) -> dict:
    rows = frame.filter(pl.col(MONTH) == month)
    return rows.row(0, named=True) if rows.height else {}


def _latest_decided_trial_cohort(trials: pl.DataFrame) -> date | None:
    """The newest trial start month whose every trial has converted or been canceled: a cohort's
    conversion is final only then (earlier, the early cancellations dominate)."""
    decided = trials.filter(
        (pl.col("trials_started") > 0) & (pl.col("trials_decided") == pl.col("trials_started"))
    )
    return decided[MONTH][-1] if decided.height else None


def _by_product(frame: pl.DataFrame, metric: str, title: str) -> go.Figure:
    fig = go.Figure()
    for product in sorted(frame[PRODUCT].unique().to_list()):
        part = frame.filter(pl.col(PRODUCT) == product)
        fig.add_bar(x=part[MONTH].to_list(), y=[float(v) for v in part[metric]], name=product)
    return layout(fig, title, barmode="stack", yaxis_tickprefix="$")


def _bridge(point: pl.DataFrame, flows: pl.DataFrame, month: date) -> go.Figure:
    """The month's MRR bridge, customer level: start MRR (the previous month's end), the
    movements, end MRR."""
    before = point.filter(pl.col(MONTH) < month)
    start = Decimal(before["mrr"][-1]) if before.height else Decimal(0)
    values = _row(flows, month) or dict.fromkeys(MOVEMENTS, Decimal(0))
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
        f"MRR bridge, {month_label(month)} (customer level)",
        yaxis_tickprefix="$",
        yaxis_range=[0.9 * low, high + 0.05 * (high - 0.9 * low) + 1],
    )


def _movements(flows: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for metric in MOVEMENTS:
        fig.add_bar(
            x=flows[MONTH].to_list(),
            y=[float(v or 0) for v in flows[metric]],
            name=metric.removesuffix("_mrr"),
        )
    fig.add_scatter(
        x=flows[MONTH].to_list(),
        y=[float(v or 0) for v in flows["net_new_mrr"]],
        name="net new",
        mode="lines+markers",
    )
    return layout(
        fig, "Monthly MRR movements (customer level)", barmode="relative", yaxis_tickprefix="$"
    )


def _retention(retention: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for metric, name in (
        ("nrr", "NRR"),
        ("grr", "GRR"),
        ("nrr_trailing_12m", "NRR, trailing 12 months"),
        ("grr_trailing_12m", "GRR, trailing 12 months"),
    ):
        part = retention.filter(pl.col(metric).is_not_null())
        fig.add_scatter(x=part[MONTH].to_list(), y=part[metric].to_list(), name=name)
    return layout(
        fig,
        "Net and gross revenue retention (customers paying at the start)",
        yaxis_tickformat=".0%",
    )


def _logo_churn(retention: pl.DataFrame) -> go.Figure:
    part = retention.filter(pl.col("logo_churn_rate").is_not_null())
    fig = go.Figure()
    fig.add_bar(x=part[MONTH].to_list(), y=part["logo_churn_rate"].to_list(), name="logo churn")
    return layout(
        fig, "Logo churn (share of customers paying at the start)", yaxis_tickformat=".1%"
    )


def _product_retention(frame: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    for product in sorted(frame[RETENTION_PRODUCT].unique().to_list()):
        part = frame.filter(
            (pl.col(RETENTION_PRODUCT) == product) & pl.col("product_nrr").is_not_null()
        )
        fig.add_scatter(x=part[MONTH].to_list(), y=part["product_nrr"].to_list(), name=product)
    return layout(
        fig,
        "NRR by product (customer x product; a switch away is churn here)",
        yaxis_tickformat=".0%",
    )


def _cohort_heatmap(cohorts: pl.DataFrame) -> go.Figure:
    grid = (
        cohorts.with_columns(pl.col(MONTH).dt.strftime("%Y-%m"))
        .pivot(on=MONTHS_SINCE, index=MONTH, values="cohort_retention_rate")
        .sort(MONTH)
    )
    months = sorted((c for c in grid.columns if c != MONTH), key=int)
    fig = go.Figure(
        go.Heatmap(
            z=[[row[m] for m in months] for row in grid.iter_rows(named=True)],
            x=[int(m) for m in months],
            y=grid[MONTH].to_list(),
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"tickformat": ".0%"},
        )
    )
    return layout(
        fig,
        "Cohort retention (active accounts / signups of the month)",
        xaxis_title="months since signup",
        yaxis_autorange="reversed",
    )


def _paying_and_arpa(point: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=point[MONTH].to_list(), y=point["paying_customers"].to_list(), name="paying")
    fig.add_scatter(
        x=point[MONTH].to_list(), y=point["arpa"].to_list(), name="ARPA ($)", yaxis="y2"
    )
    return layout(
        fig,
        "Paying customers and ARPA (month end)",
        yaxis2={"overlaying": "y", "side": "right", "tickprefix": "$"},
    )


def _revenue(flows: pl.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_bar(
        x=flows[MONTH].to_list(),
        y=[float(v or 0) for v in flows["collected_revenue"]],
        name="net collected",
    )
    return layout(fig, "Net collected revenue by invoice month", yaxis_tickprefix="$")
