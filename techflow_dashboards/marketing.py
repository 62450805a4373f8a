"""marketing_roi_dashboard: spend, signups, CAC and ROAS by channel and acquisition month, and
the funnel from visit (a site session) to signup to paying — every figure a semantic-layer metric.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl

from techflow_dashboards.page import Dashboard, Kpi, layout
from techflow_metrics import MetricStore

MONTH = "metric_time__month"
CHANNEL = "campaign_month__channel"
BY_CHANNEL = ("ad_spend", "signups", "acquired_paying_customers", "cac", "roas")
TILES = (
    ("ad_spend", "Ad spend", "usd"),
    ("signups", "Signups", "count"),
    ("acquired_paying_customers", "Paying customers acquired", "count"),
    ("cac", "CAC", "usd"),
    ("roas", "ROAS", "multiple"),
    ("visit_to_signup_rate", "Visit → signup", "ratio"),
    ("signup_to_paid_rate", "Signup → paid", "ratio"),
)


def build(store: MetricStore, as_of: date) -> Dashboard:
    totals = store.query([m for m, _, _ in TILES] + ["visits"]).row(0, named=True)
    monthly = store.query(list(BY_CHANNEL), [MONTH, CHANNEL]).with_columns(pl.col(MONTH).dt.date())
    dashboard = Dashboard(
        slug="marketing_roi_dashboard",
        title="TechFlow — Marketing ROI",
        subtitle=f"Acquisition cohorts through {as_of} (TECHFLOW_AS_OF), all channels. Every "
        "figure is a metric of the dbt semantic layer (beside each mart in "
        "techflow_dbt/models/marts).",
        kpis=[Kpi(m, label, totals[m], unit, "all months") for m, label, unit in TILES],
    )
    dashboard.charts = [
        _by_channel(monthly, "ad_spend", "Ad spend by channel", "bar", "$"),
        _by_channel(monthly, "signups", "Signups by channel (first touch)", "bar", ""),
        _by_channel(monthly, "cac", "CAC by channel and acquisition month", "line", "$"),
        _by_channel(monthly, "roas", "ROAS by channel and acquisition month", "line", ""),
        _funnel(totals),
    ]
    return dashboard


def _by_channel(frame: pl.DataFrame, metric: str, title: str, kind: str, prefix: str):
    fig = go.Figure()
    for channel in sorted(frame[CHANNEL].unique().to_list()):
        part = frame.filter(pl.col(CHANNEL) == channel).sort(MONTH)
        values = [None if v is None else float(v) for v in part[metric]]
        if kind == "bar":
            fig.add_bar(x=part[MONTH].to_list(), y=values, name=channel)
        elif any(v is not None for v in values):
            fig.add_scatter(x=part[MONTH].to_list(), y=values, name=channel, mode="lines+markers")
    return layout(fig, title, barmode="stack", yaxis_tickprefix=prefix)


def _funnel(totals: dict) -> go.Figure:
    steps = ("visits", "signups", "acquired_paying_customers")
    fig = go.Figure(
        go.Funnel(
            y=["Visits (sessions)", "Signups", "Paying customers"],
            x=[float(totals[s] or 0) for s in steps],
            textinfo="value+percent initial",
        )
    )
    return layout(fig, "Funnel: visit → signup → paid (all months)")
