"""Asset keys, groups and pool names: the one place the code location spells them.

Raw tables are keyed ["raw", system, table] (the dbt sources resolve to the same keys, so the UI
draws one lineage graph from the generator to the exposures). dbt models, seeds and snapshots keep
their dbt name as the key; their group says which layer or domain they belong to.
"""

from __future__ import annotations

from dagster import AssetKey

from data_generation.schema import RAW_TABLES, RawTable
from techflow_core import paths

RAW_KEY_PREFIX = "raw"
RAW_GROUP = "raw"

# Every asset that writes the DuckDB warehouse runs in this pool; the instance limits it to one
# slot (.dagster_home/dagster.yaml) because DuckDB allows a single writer process per file. The
# pool queues them in the UI; the writer lock (write_lock.py, publish.py) is what guarantees it.
DUCKDB_POOL = "duckdb"

FCT_MRR_DAILY = AssetKey("fct_mrr_daily")
# The warehouse copy of every landed subscription version fct_mrr_daily compares late changes
# with; incremental and daily-partitioned like it, built in the same dbt step.
INT_SUBSCRIPTION_VERSIONS = AssetKey("int_subscription_versions")
# The daily-partitioned dbt assets, in build order: a partition run builds them together.
MRR_PARTITIONED_KEYS = (INT_SUBSCRIPTION_VERSIONS, FCT_MRR_DAILY)


def raw_asset_key(system: str, table: str) -> AssetKey:
    return AssetKey([RAW_KEY_PREFIX, system, table])


RAW_ASSET_KEYS: dict[AssetKey, RawTable] = {raw_asset_key(t.system, t.name): t for t in RAW_TABLES}

# The exposures as assets, named as in techflow_dbt/models/exposures.yml; each depends on exactly
# the models its exposure lists (read from the manifest, one place).
EXPOSURES_GROUP = "exposures"
# The dashboards' names (and file names) live in the core: `make dashboards` serves them without
# importing the code location.
MRR_FINANCE_DASHBOARD = AssetKey(paths.MRR_FINANCE_DASHBOARD)
MARKETING_ROI_DASHBOARD = AssetKey(paths.MARKETING_ROI_DASHBOARD)
CHURN_PREDICTION_MODEL = AssetKey("churn_prediction_model")
DASHBOARD_KEYS = tuple(AssetKey(name) for name in paths.DASHBOARDS)
EXPOSURE_KEYS = (*DASHBOARD_KEYS, CHURN_PREDICTION_MODEL)
# Written by churn_prediction_model (Dagster-owned, not a dbt model): today's scores.
CHURN_SCORES_SCHEMA = "ml"
CHURN_SCORES_TABLE = f"{CHURN_SCORES_SCHEMA}.churn_scores"
