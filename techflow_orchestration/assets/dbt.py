"""The dbt project as asset definitions over one manifest, after dagster-open-platform's
defs/dbt/assets.py (unpartitioned models / partitioned incrementals / snapshots), with the
unpartitioned models cut in two around the incrementals:

- `dbt_upstream_models`: everything the incremental models are built from (seeds, staging views;
  ephemerals compile into their consumers), unpartitioned.
- `dbt_incremental_models`: int_subscription_versions + fct_mrr_daily, daily-partitioned. A run
  passes its partition window (inclusive dates) as the environment variables
  TECHFLOW_MRR_MIN_DATE / TECHFLOW_MRR_MAX_DATE, which the models read only while executing
  (macro mrr_window_bound), not as `--vars`: dbt keeps `--vars` in its parse state, so every new
  window would force a full re-parse. `BackfillPolicy.single_run()` makes a 30-day backfill one
  dbt invocation. The launchpad's `full_refresh: true` rebuilds them with `--full-refresh`.
- `dbt_downstream_models`: every other model (the marts, many built from fct_mrr_daily).
- `dbt_snapshots`: SCD2 snapshots, with a job of their own.

Why the cut: one unpartitioned op holding both staging and the marts sits before *and* after
fct_mrr_daily, and Dagster would split it into generated sub-steps at run time. Naming the three
stages makes the daily run three dbt invocations in a fixed order, readable in the UI.
Every op writes the DuckDB file, so all run in the single-slot `duckdb` pool. dbt tests become
asset checks on the models they test. Every dbt invocation of a run gets one as-of day
(TECHFLOW_AS_OF; see `run_as_of`), so a run that crosses midnight UTC keeps one clock, and a target
folder seeded with the prepared parse (techflow_orchestration.dbt_targets), so it parses partially.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    DailyPartitionsDefinition,
)
from dagster_dbt import DbtCliResource, dbt_assets

from data_generation.clock import AS_OF_ENV, parse_as_of, yesterday_utc
from techflow_orchestration.dbt_targets import new_invocation_target, save_parse
from techflow_orchestration.keys import DUCKDB_POOL
from techflow_orchestration.project import dbt_project, ensure_manifest_is_current, load_manifest
from techflow_orchestration.settings import TechflowSettings
from techflow_orchestration.translator import TechflowDbtTranslator

# dbt selector syntax: a space is a union; `+x` is x and everything upstream of it.
INCREMENTAL_SELECT = "config.materialized:incremental"
SNAPSHOT_SELECT = "resource_type:snapshot"
UPSTREAM_SELECT = f"+{INCREMENTAL_SELECT}"
UPSTREAM_EXCLUDE = f"{INCREMENTAL_SELECT} {SNAPSHOT_SELECT}"
DOWNSTREAM_EXCLUDE = f"{UPSTREAM_SELECT} {SNAPSHOT_SELECT}"

# dbt's indirect test selection for Dagster's dbt steps. "buildable": a test runs only when all its
# parents are built in this invocation or upstream of it. dbt's default ("eager") runs every test
# touching a selected node: fct_mrr_daily's step would run the tests that compare it with marts
# built after it, failing on a fresh warehouse. dagster-dbt reads this variable as the user's
# default and still overrides it ("empty") when it selects individual checks itself.
INDIRECT_SELECTION = "buildable"

# How a step logs where dbt writes dbt.log and run_results.json (the UI shows it; tests read it).
TARGET_FOLDER_LOG = "dbt target folder (dbt.log, run_results.json): "

# The partition window, as the environment variables macro mrr_window_bound reads while executing
# (techflow_dbt/macros/finance/mrr_daily_window.sql).
WINDOW_ENV = {"min_date": "TECHFLOW_MRR_MIN_DATE", "max_date": "TECHFLOW_MRR_MAX_DATE"}


class IncrementalBuildConfig(Config):
    """Launchpad options of the incremental models' step."""

    full_refresh: bool = False
    """Rebuild int_subscription_versions and fct_mrr_daily from all raw data (`dbt build
    --full-refresh`), from the world's first day through the as-of day, whatever partitions were
    selected; for after a model change. Off: build the selected partitions incrementally."""


@dataclass(frozen=True)
class DbtAssets:
    upstream: AssetsDefinition
    incremental: AssetsDefinition
    downstream: AssetsDefinition
    snapshots: AssetsDefinition

    def all(self) -> list[AssetsDefinition]:
        return [self.upstream, self.incremental, self.downstream, self.snapshots]


def run_as_of(environ: Mapping[str, str], run_created_at: datetime) -> date:
    """The as-of day every dbt invocation of a run uses: TECHFLOW_AS_OF when it is set (`make
    run` and the tests pin it), else the last day that had ended (UTC) when the run was created.

    Not "yesterday" at each step's start: a run created at 23:59 whose marts step starts after
    midnight would build its steps for two different days.
    """
    raw = (environ.get(AS_OF_ENV) or "").strip()
    return parse_as_of(raw) if raw else yesterday_utc(run_created_at)


@contextmanager
def _environment_var(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def dbt_build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    extra_args: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """`dbt build` for the selected assets and checks, streaming Dagster events.

    `env` is added to dbt's environment for this invocation only.
    """
    ensure_manifest_is_current()
    # dbt-duckdb creates the database file but not its directory.
    TechflowSettings.from_env().warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION)
    run_record = context.instance.get_run_record_by_id(context.run.run_id)
    as_of = run_as_of(os.environ, run_record.create_timestamp)
    target_path = new_invocation_target(context.op_execution_context.op.name, context.run.run_id)
    context.log.info(f"{TARGET_FOLDER_LOG}{target_path}")
    # dbt inherits os.environ when `cli` starts its process; set only around that call, so an
    # in-process run (tests) leaves the caller's environment as it was.
    with ExitStack() as stack:
        for name, value in {AS_OF_ENV: as_of.isoformat(), **(env or {})}.items():
            stack.enter_context(_environment_var(name, value))
        invocation = dbt.cli(
            ["build", *(extra_args or [])], context=context, target_path=target_path
        )
    try:
        yield from invocation.stream()
    finally:
        save_parse(target_path)  # the next step of this environment starts from it


def partition_window(context: AssetExecutionContext) -> dict[str, str]:
    """The run's partition range, inclusive first and last day, by bound name."""
    window = context.partition_time_window
    last_day = (window.end - timedelta(days=1)).date()
    return {"min_date": window.start.date().isoformat(), "max_date": last_day.isoformat()}


def window_env(window: Mapping[str, str]) -> dict[str, str]:
    """The window as the environment variables the models read while executing."""
    return {WINDOW_ENV[bound]: day for bound, day in window.items()}


def build_dbt_assets(partitions_def: DailyPartitionsDefinition) -> DbtAssets:
    manifest = load_manifest()
    translator = TechflowDbtTranslator()
    common: dict[str, Any] = {
        "manifest": manifest,
        "dagster_dbt_translator": translator,
        "project": dbt_project,
        "pool": DUCKDB_POOL,
    }

    @dbt_assets(
        name="dbt_upstream_models", select=UPSTREAM_SELECT, exclude=UPSTREAM_EXCLUDE, **common
    )
    def dbt_upstream_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt_build(context, dbt)

    @dbt_assets(
        name="dbt_incremental_models",
        select=INCREMENTAL_SELECT,
        partitions_def=partitions_def,
        backfill_policy=BackfillPolicy.single_run(),
        **common,
    )
    def dbt_incremental_models(
        context: AssetExecutionContext, dbt: DbtCliResource, config: IncrementalBuildConfig
    ) -> Iterator[Any]:
        window = partition_window(context)
        if config.full_refresh:
            context.log.info(
                "full_refresh: rebuilding from all raw data through the as-of day "
                f"(selected partitions {window['min_date']}..{window['max_date']})"
            )
            yield from dbt_build(context, dbt, ["--full-refresh"])
        else:
            context.log.info(f"partition window {window['min_date']}..{window['max_date']}")
            yield from dbt_build(context, dbt, env=window_env(window))

    @dbt_assets(name="dbt_downstream_models", exclude=DOWNSTREAM_EXCLUDE, **common)
    def dbt_downstream_models(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt_build(context, dbt)

    @dbt_assets(name="dbt_snapshots", select=SNAPSHOT_SELECT, **common)
    def dbt_snapshots(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        yield from dbt_build(context, dbt)

    return DbtAssets(
        upstream=dbt_upstream_models,
        incremental=dbt_incremental_models,
        downstream=dbt_downstream_models,
        snapshots=dbt_snapshots,
    )
