"""`make run`: materialize the whole graph for the default world through Dagster, then summarize.

Runs go into the instance at $DAGSTER_HOME — the same one `make dev` opens — so the UI shows their
history. The plan is incremental, which makes a second `make run` quick and idempotent:
- the daily job runs once, as a single-run backfill over the range from the first day whose raw
  data or fct_mrr_daily partition is missing up to yesterday (the whole world on a fresh machine,
  nothing on a re-run the same day, one day the next morning); the staging views and marts it
  contains are rebuilt after fct_mrr_daily in that same run;
- the snapshot job runs after it (or if it has never run).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date

from dagster import (
    AssetKey,
    DagsterInstance,
    JobDefinition,
    execute_job,
    reconstructable,
)

from techflow_orchestration.jobs import DAILY_JOB_NAME, SNAPSHOT_JOB_NAME
from techflow_orchestration.keys import FCT_MRR_DAILY, RAW_ASSET_KEYS
from techflow_orchestration.settings import TechflowSettings
from techflow_orchestration.summary import print_summary

# The run tags Dagster itself puts on a single-run backfill of a partition range.
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def daily_job() -> JobDefinition:
    from techflow_orchestration.definitions import defs

    return defs.resolve_job_def(DAILY_JOB_NAME)


def snapshot_job() -> JobDefinition:
    from techflow_orchestration.definitions import defs

    return defs.resolve_job_def(SNAPSHOT_JOB_NAME)


@dataclass(frozen=True)
class Plan:
    first_day: date | None  # None: every partition is already materialized
    last_day: date
    snapshots_needed: bool

    @property
    def days(self) -> int:
        return 0 if self.first_day is None else (self.last_day - self.first_day).days + 1


def plan_runs(
    instance: DagsterInstance, partition_keys: list[str], snapshot_keys: list[AssetKey]
) -> Plan:
    """The smallest range that completes every partitioned asset, and whether to snapshot."""
    partitioned = [*RAW_ASSET_KEYS, FCT_MRR_DAILY]
    missing: set[str] = set()
    for key in partitioned:
        missing |= set(partition_keys) - instance.get_materialized_partitions(key)
    first = min(missing) if missing else None  # ISO dates sort chronologically
    never_snapshotted = any(
        instance.get_latest_materialization_event(key) is None for key in snapshot_keys
    )
    return Plan(
        first_day=date.fromisoformat(first) if first else None,
        last_day=date.fromisoformat(partition_keys[-1]),
        snapshots_needed=first is not None or never_snapshotted,
    )


def run_job(job_fn, instance: DagsterInstance, tags: dict[str, str] | None = None) -> None:
    result = execute_job(reconstructable(job_fn), instance=instance, tags=tags or {})
    if not result.success:
        raise SystemExit(
            f"Dagster run {result.run_id} of {result.job_def.name} failed; open `make dev` -> Runs "
            f"-> {result.run_id} for the failing step's logs."
        )


def main() -> int:
    settings = TechflowSettings.from_env()
    settings.export_to_environment()
    # Imported after the environment is pinned: the definitions read it.
    from techflow_orchestration.definitions import defs

    instance = DagsterInstance.get()
    job = defs.resolve_job_def(DAILY_JOB_NAME)
    partition_keys = job.partitions_def.get_partition_keys()
    snapshot_keys = list(defs.resolve_job_def(SNAPSHOT_JOB_NAME).asset_layer.executable_asset_keys)
    plan = plan_runs(instance, partition_keys, snapshot_keys)

    if plan.first_day is None:
        print(f"Raw world and fct_mrr_daily are complete up to {plan.last_day}; nothing to build.")
    else:
        print(
            f"Materializing {plan.first_day}..{plan.last_day} ({plan.days} day(s)) "
            f"through Dagster into {instance.root_directory} ..."
        )
        run_job(
            daily_job,
            instance,
            tags={
                ASSET_PARTITION_RANGE_START_TAG: plan.first_day.isoformat(),
                ASSET_PARTITION_RANGE_END_TAG: plan.last_day.isoformat(),
            },
        )
    if plan.snapshots_needed:
        print("Running the snapshot job ...")
        run_job(snapshot_job, instance)

    print_summary(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
