"""Jobs and the selections they run, as named constants.

- `techflow_daily`: one day (or, as a single-run backfill, a range of days) of the whole world:
  the raw tables for the partition, then one `dbt build` of every model (fct_mrr_daily for the
  partition window) and test, then the dashboards. Everything but the snapshots, the churn
  model and the weekly marts (cadence.py: `techflow_weekly`). A failed run is retried once
  from its failure (run retries: the daemon of `make dev` re-executes it through the default
  launcher; `run_retries` is enabled in .dagster_home/dagster.yaml). `make run` executes in
  process and stops on a failure instead; its next invocation resumes from what is missing.
- `churn_model_weekly` (defs/exposures/jobs.py): churn_prediction_model, weekly like the
  exposure it is (it needs months of labelled weeks; a young world cannot fail the daily job).
- `techflow_snapshots`: the SCD2 snapshots, separate from the model job as in
  dagster-open-platform, started once per daily partition after the daily job built it
  (defs/warehouse/sensors.py: snapshots_after_daily).
- `techflow_build`: `make run`'s build, after its raw run: everything downstream of the raw
  tables (every dbt model, seed, test and snapshot in one `dbt build`; the dashboards; the churn
  model), over the range of days the raw run landed. It holds no raw asset on purpose: Dagster
  1.13 (RunDomain.create_run) takes a run's partitions definition from the asset outputs of its
  execution plan — in effect the last one, and steps sort by name, so raw_world comes last in
  the daily job — and when that one is partitioned it stores the range as the run's
  partitions_subset, which then plans events for every (asset, day) pair, unpartitioned assets
  included: 50 unpartitioned assets x 698 days for a fresh world. In this job the last output is
  unpartitioned, so each unpartitioned asset gets one planned event and only the incrementals one
  per day (tests/orchestration: test_definitions and test_materialize pin it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster import AssetsDefinition, AssetSelection, define_asset_job
from dagster_dbt import build_dbt_asset_selection

from techflow_orchestration.defs.warehouse.cadence import weekly_marts
from techflow_orchestration.lib.keys import CHURN_PREDICTION_MODEL, RAW_ASSET_KEYS
from techflow_orchestration.lib.tags import MAX_RETRIES_TAG, RETRY_STRATEGY_TAG

DAILY_JOB_NAME = "techflow_daily"
SNAPSHOT_JOB_NAME = "techflow_snapshots"
BUILD_JOB_NAME = "techflow_build"
# dbt's selector for the snapshots (the snapshot job's part of the dbt op).
SNAPSHOT_SELECT = "resource_type:snapshot"
# Run retries: one, from the failed step on.
DAILY_JOB_RETRY_TAGS = {MAX_RETRIES_TAG: "1", RETRY_STRATEGY_TAG: "FROM_FAILURE"}


@dataclass(frozen=True)
class TechflowJobs:
    daily: Any  # dagster's UnresolvedAssetJobDefinition, which it does not export
    snapshots: Any
    build: Any


def build_jobs(dbt_assets: AssetsDefinition) -> TechflowJobs:
    snapshots = build_dbt_asset_selection([dbt_assets], dbt_select=SNAPSHOT_SELECT)
    churn = AssetSelection.assets(CHURN_PREDICTION_MODEL)
    daily_job = define_asset_job(
        name=DAILY_JOB_NAME,
        # Partitioned by the daily partitions of its raw assets and fct_mrr_daily (inferred).
        # The weekly marts have their own job (cadence.py).
        selection=AssetSelection.all() - snapshots - churn - weekly_marts(dbt_assets),
        description="Raw world + fct_mrr_daily for a day (or a range), then the marts.",
        tags=DAILY_JOB_RETRY_TAGS,
    )
    snapshot_job = define_asset_job(
        name=SNAPSHOT_JOB_NAME,
        selection=snapshots,
        description="dbt snapshots (SCD2) of the mutable entities, after the daily run.",
    )
    build_job = define_asset_job(
        name=BUILD_JOB_NAME,
        selection=AssetSelection.all() - AssetSelection.assets(*RAW_ASSET_KEYS),
        description=(
            "`make run`'s build after its raw run: every dbt model, test and snapshot in one "
            "dbt build, the dashboards and the churn model, for a range of days."
        ),
    )
    return TechflowJobs(daily=daily_job, snapshots=snapshot_job, build=build_job)
