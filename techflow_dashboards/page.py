"""One dashboard page: a title, KPI tiles and plotly charts, in a single offline HTML file.

plotly.js is inlined once (most of the file's size) and every chart is a div drawn by it, so the
file opens from disk or any static server with no network. KPI tiles carry their metric name and
exact value as data attributes (`data-metric`, `data-value`, and `data-month` for a tile of one
month) so a browser test can compare them with the metric.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1f2430; }
header { padding: 18px 28px; background: #1f2430; color: #fff; }
header h1 { margin: 0; font-size: 22px; } header p { margin: 4px 0 0; color: #c4c8d2; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; padding: 18px 28px 0; }
.kpi { background: #fff; border-radius: 8px; padding: 12px 16px; min-width: 150px;
       box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.kpi .label { font-size: 12px; color: #5b6272; text-transform: uppercase; }
.kpi .shown { font-size: 24px; font-weight: 600; margin-top: 4px; }
.kpi .note { font-size: 11px; color: #8a90a0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
          gap: 16px; padding: 18px 28px 28px; }
.chart { background: #fff; border-radius: 8px; padding: 8px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
"""


@dataclass(frozen=True)
class Kpi:
    metric: str  # the semantic layer's metric name
    label: str
    value: Decimal | float | int | None
    unit: str  # "usd", "count", "ratio" (shown as %), "multiple" (shown as 1.23x)
    note: str = ""
    month: date | None = None  # the month a monthly tile shows (its first day); None otherwise

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if self.unit == "usd":
            return f"${self.value:,.2f}"
        if self.unit == "ratio":
            return f"{float(self.value):.1%}"
        if self.unit == "multiple":
            return f"{float(self.value):,.2f}x"
        return f"{self.value:,}"

    def raw(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass
class Dashboard:
    slug: str  # file name without .html
    title: str
    subtitle: str
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[go.Figure] = field(default_factory=list)

    def headline(self) -> dict[str, float | None]:
        return {k.metric: None if k.value is None else float(k.value) for k in self.kpis}

    def render(self) -> str:
        tiles = "\n".join(
            f'<div class="kpi" data-metric="{html.escape(k.metric)}" '
            f'data-value="{html.escape(k.raw())}" '
            f'data-month="{k.month.isoformat() if k.month else ""}">'
            f'<div class="label">{html.escape(k.label)}</div>'
            f'<div class="shown">{html.escape(k.shown())}</div>'
            f'<div class="note">{html.escape(k.note)}</div></div>'
            for k in self.kpis
        )
        charts = "\n".join(
            '<div class="chart">'
            + fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{n}")
            + "</div>"
            for n, fig in enumerate(self.charts, start=1)
        )
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style>"
            f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
            f"<header><h1>{html.escape(self.title)}</h1><p>{html.escape(self.subtitle)}</p>"
            f"</header><section class='tiles'>{tiles}</section>"
            f"<section class='charts'>{charts}</section></body></html>\n"
        )


def layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=380,
        margin={"t": 50, "l": 50, "r": 20},
        legend={"orientation": "h", "y": -0.15},
        **kwargs,
    )
    return fig


def month_label(day: date) -> str:
    return day.strftime("%Y-%m")
