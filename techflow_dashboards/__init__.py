"""The two dashboard exposures as self-contained static HTML (plotly.js embedded, no CDN).

Every number on them is a metric of the semantic layer (techflow_metrics.MetricStore), asked by
name: the dashboards hold no SQL of their own. `finance.build` and `marketing.build` return the
page and its headline figures; the Dagster assets
(techflow_orchestration/defs/exposures/dashboards.py) write the file and record the figures as
metadata.
"""
