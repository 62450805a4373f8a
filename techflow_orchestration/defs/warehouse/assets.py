"""The dbt project as ONE subsettable multi-asset over the prepared manifest: every model, seed,
snapshot and test, so a run builds whatever it selects in a single `dbt build` — one dbt process,
one partial parse, dbt's own DAG and threads — as plain dbt would.

- Partitions: int_subscription_versions + fct_mrr_daily are daily-partitioned
  (TechflowDbtTranslator.get_partitions_def), every other dbt asset is unpartitioned; Dagster
  allows mixed partitions in one subsettable op. A run that selects the incrementals passes its
  partition window (inclusive dates) as the environment variables TECHFLOW_MRR_MIN_DATE /
  TECHFLOW_MRR_MAX_DATE, which the models read only while executing (macro mrr_window_bound), not
  as `--vars`: dbt keeps `--vars` in its parse state, so every new window would force a full
  re-parse. `BackfillPolicy.single_run()` makes a 30-day backfill one dbt invocation. The
  launchpad's `full_refresh: true` builds the selection with `--full-refresh`.
- Jobs select from it (jobs.py): the daily job everything but the snapshots, the snapshot job
  the snapshots, `make run`'s build job all of it. dagster-dbt turns a selection into dbt's
  `--select`; tests run by dbt's indirect selection "buildable" (below).
- dbt tests become asset checks on the models they test; all of them, since one op holds
  every model a test can read.

Write-audit-publish (publish.py): every run builds and tests in the private build file inside
an exclusive write session of the `warehouse_writer` resource, and only a `dbt build` that
succeeded — every error-severity test passed — is published over the file readers open. The
step's materializations and check results are held back until then: a failed build yields
none, raises, and so leaves its partitions failed in the UI (the next run, or the daily job's
retry, builds them again) while readers keep the last audited warehouse. The op is also in the
single-slot `duckdb` pool, which queues runs in the UI. Every dbt invocation of a run gets one
as-of day (TECHFLOW_AS_OF; see lib/run_context.py), so a run that crosses midnight UTC keeps one
clock, and a target folder seeded with the prepared parse (dbt_targets.py), so it parses partially.
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    Config,
    DailyPartitionsDefinition,
    Failure,
    MetadataValue,
)
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation

from techflow_core.clock import AS_OF_ENV
from techflow_orchestration.dbt_child import PARENT_PID_ENV
from techflow_orchestration.defs.warehouse.dbt_targets import new_invocation_target, save_parse
from techflow_orchestration.lib.keys import DUCKDB_POOL
from techflow_orchestration.lib.partitions import partition_days
from techflow_orchestration.lib.resources import WarehouseWriterResource
from techflow_orchestration.lib.run_context import step_as_of
from techflow_orchestration.lib.translator import TechflowDbtTranslator
from techflow_orchestration.project import dbt_project, ensure_manifest_is_current, load_manifest

DBT_OP_NAME = "dbt_warehouse"

# dbt's indirect test selection for a subset of the op. "buildable": a test runs only when all its
# parents are built in this invocation or upstream of it. dbt's default ("eager") runs every test
# touching a selected node: a run of fct_mrr_daily alone would run the tests that compare it with
# marts built from it, failing on a fresh warehouse. dagster-dbt reads this variable as the
# user's default and still overrides it ("empty") when it selects individual checks itself.
INDIRECT_SELECTION = "buildable"

# How a step logs where dbt writes dbt.log and run_results.json (the UI shows it; tests read it).
TARGET_FOLDER_LOG = "dbt target folder (dbt.log, run_results.json): "

# The partition window, as the environment variables macro mrr_window_bound reads while executing
# (techflow_dbt/macros/finance/mrr_daily_window.sql).
WINDOW_ENV = {"min_date": "TECHFLOW_MRR_MIN_DATE", "max_date": "TECHFLOW_MRR_MAX_DATE"}
# dbt node statuses (run_results.json) that fail a build; "warn" does not.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})


class DbtBuildConfig(Config):
    """Launchpad options of the dbt step."""

    full_refresh: bool = False
    """Build the selection with `dbt build --full-refresh`: int_subscription_versions and
    fct_mrr_daily are rebuilt from all raw data, from the world's first day through the as-of day,
    whatever partitions were selected (seeds are reloaded); for after a model change. Off: the
    incrementals build the selected partitions incrementally."""


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


def failed_nodes(invocation: DbtCliInvocation) -> list[str]:
    """The nodes that failed the build (errors and error-severity test failures), from
    run_results.json; empty when dbt wrote none (it was killed, or failed before running)."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except (OSError, KeyError, ValueError):
        return []
    return [r["unique_id"] for r in results if str(r.get("status")) in FAILED_STATUSES]


def unpublished_build_failure(invocation: DbtCliInvocation, published: str) -> Failure:
    failed = failed_nodes(invocation)
    shown = ", ".join(failed[:8]) + (f" and {len(failed) - 8} more" if len(failed) > 8 else "")
    what = f"{len(failed)} node(s) failed: {shown}" if failed else "dbt did not finish"
    return Failure(
        description=(
            f"dbt build failed ({what}), so nothing was published: {published} is as it was "
            "(the last audited build, if any), the build file was reset to it, and this run's "
            "partitions stay failed until a run builds them again. Cause, and dbt's log:\n"
            f"{invocation.get_error()}"
        ),
        metadata={"failed_nodes": MetadataValue.json(failed), "published": published},
    )


def dbt_build(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse_writer: WarehouseWriterResource,
    extra_args: list[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """`dbt build` for the selected assets and checks into the build file; published, and its
    Dagster events yielded, only when it succeeded (see the module docstring).

    `env` is added to dbt's environment for this invocation only.
    """
    ensure_manifest_is_current()
    os.environ.setdefault("DBT_INDIRECT_SELECTION", INDIRECT_SELECTION)
    as_of = step_as_of(context)
    target_path = new_invocation_target(context.op_execution_context.op.name, context.run.run_id)
    context.log.info(f"{TARGET_FOLDER_LOG}{target_path}")
    holder = f"run {context.run.run_id}, step {context.op_execution_context.op.name}"
    with warehouse_writer.writing(holder, context.log.info) as write:
        dbt_env = {
            AS_OF_ENV: as_of.isoformat(),
            **write.dbt_env,  # build into the build file; the dbt lock dbt holds while it lives
            PARENT_PID_ENV: str(os.getpid()),  # dbt dies with this process (dbt_child.py)
            **(env or {}),
        }
        # dbt inherits os.environ when `cli` starts its process; set only around that call, so
        # an in-process run (tests) leaves the caller's environment as it was.
        with ExitStack() as stack:
            for name, value in dbt_env.items():
                stack.enter_context(_environment_var(name, value))
            invocation = dbt.cli(
                ["build", *(extra_args or [])],
                context=context,
                target_path=target_path,
                raise_on_error=False,
            )
        try:
            # Held back: yielded only once the build is published (a check result or a
            # materialization of an unpublished build would describe data no reader sees).
            events = list(invocation.stream())
        finally:
            save_parse(target_path)  # the next step of this environment starts from it
        if invocation.is_successful():
            write.publish()
        else:
            write.discard()
            raise unpublished_build_failure(invocation, warehouse_writer.published)
    yield from events


def partition_window(context: AssetExecutionContext) -> dict[str, str] | None:
    """The run's partition range, inclusive first and last day, by bound name; None when the run
    builds no partitioned asset (then the window is not the models' business)."""
    specs = context.assets_def.specs_by_key
    partitioned = any(specs[key].partitions_def is not None for key in context.selected_asset_keys)
    if not partitioned or not (context.has_partition_key or context.has_partition_key_range):
        return None
    first_day, last_day = partition_days(context)
    return {"min_date": first_day.isoformat(), "max_date": last_day.isoformat()}


def window_env(window: Mapping[str, str]) -> dict[str, str]:
    """The window as the environment variables the models read while executing."""
    return {WINDOW_ENV[bound]: day for bound, day in window.items()}


def build_dbt_assets(partitions_def: DailyPartitionsDefinition) -> AssetsDefinition:
    @dbt_assets(
        name=DBT_OP_NAME,
        manifest=load_manifest(),
        dagster_dbt_translator=TechflowDbtTranslator(partitions_def),
        project=dbt_project,
        pool=DUCKDB_POOL,
        backfill_policy=BackfillPolicy.single_run(),
    )
    def dbt_warehouse(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse_writer: WarehouseWriterResource,
        config: DbtBuildConfig,
    ) -> Iterator[Any]:
        window = partition_window(context)
        if window:
            context.log.info(f"partition window {window['min_date']}..{window['max_date']}")
        if config.full_refresh:
            context.log.info(
                "full_refresh: incremental models rebuilt from all raw data through the as-of day"
            )
            yield from dbt_build(context, dbt, warehouse_writer, ["--full-refresh"])
        else:
            env = window_env(window) if window else None
            yield from dbt_build(context, dbt, warehouse_writer, env=env)

    return dbt_warehouse
