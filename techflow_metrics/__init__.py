"""The semantic layer from Python: MetricFlow over the warehouse, read-only.

`MetricStore.query(["mrr"], ["metric_time__month", "mrr_line__product"])` compiles the request
with MetricFlow against the semantic manifest dbt wrote (from the semantic models in each mart's
YAML, techflow_dbt/models/marts/<domain>/<mart>.yml) and runs the SQL on a DuckDB connection.
Dashboards, `make metrics` and the metric tests all ask this one place, so every number comes
from the one definition of its metric.
"""

from techflow_metrics.semantic import MetricStore, UnknownMetricError, load_semantic_manifest

__all__ = ["MetricStore", "UnknownMetricError", "load_semantic_manifest"]
