"""The code location as a whole: it loads; assets are keyed, grouped and policed as designed."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from dagster import (
    BackfillPolicy,
    DagsterInstance,
    build_schedule_context,
)
from dagster._core.execution.api import create_execution_plan

from data_generation.schema import RAW_TABLES
from techflow_orchestration.defs.warehouse.assets import DBT_OP_NAME
from techflow_orchestration.defs.warehouse.jobs import BUILD_JOB_NAME
from techflow_orchestration.lib.keys import (
    DUCKDB_POOL,
    FCT_MRR_DAILY,
    MRR_PARTITIONED_KEYS,
    RAW_ASSET_KEYS,
    raw_asset_key,
)
from techflow_orchestration.lib.tags import RANGE_END_TAG, RANGE_START_TAG
from techflow_orchestration.project import ManifestNotFoundError, dbt_project, load_manifest


@pytest.fixture
def graph(defs_and_settings):
    defs, _ = defs_and_settings
    return defs.resolve_asset_graph()


def test_definitions_load_and_validate(defs_and_settings):
    defs, _ = defs_and_settings
    defs.resolve_all_job_defs()  # resolves every job against the asset graph
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"techflow_daily", "techflow_snapshots"}
    assert defs.resolve_schedule_def("techflow_daily_schedule")
    for name in (
        "freshness_alerts",
        "run_failure_alerts",
        "run_recovery_alerts",
        "release_dead_runs",
        "relanded_raw_partitions",
    ):
        assert defs.resolve_sensor_def(name)


def test_every_raw_table_is_a_daily_partitioned_asset_in_the_raw_group(graph):
    for table in RAW_TABLES:
        node = graph.get(raw_asset_key(table.system, table.name))
        assert node.group_name == "raw"
        assert node.partitions_def is not None
        assert node.backfill_policy == BackfillPolicy.single_run()


def test_every_dbt_source_is_a_raw_asset_and_every_raw_asset_feeds_dbt(graph):
    manifest = load_manifest()
    source_keys = {raw_asset_key(s["source_name"], s["name"]) for s in manifest["sources"].values()}
    raw_keys = {raw_asset_key(t.system, t.name) for t in RAW_TABLES}
    assert source_keys <= raw_keys, "dbt sources without a raw asset"
    orphans = {k for k in raw_keys if not graph.get(k).child_keys}
    assert not orphans, f"raw assets no dbt model reads: {orphans}"


def test_fct_mrr_daily_is_partitioned_single_run_and_fails_after_26h(graph):
    node = graph.get(FCT_MRR_DAILY)
    assert node.group_name == "finance"
    assert node.partitions_def is not None
    assert node.backfill_policy == BackfillPolicy.single_run()
    assert node.freshness_policy.fail_window.to_timedelta() == timedelta(hours=26)


def test_marts_carry_freshness_policies_and_staging_does_not(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.group_name in {"finance", "product", "marketing", "sales"}:
            assert node.freshness_policy is not None, key
        if node.group_name in {"staging", "raw", "seeds"}:
            assert node.freshness_policy is None, key


def test_only_the_mrr_incrementals_and_raw_are_partitioned(graph):
    partitioned = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def}
    raw = {raw_asset_key(t.system, t.name) for t in RAW_TABLES}
    assert partitioned == set(MRR_PARTITIONED_KEYS) | raw


def test_every_warehouse_writer_is_in_the_duckdb_pool_and_writes_through_the_writer(
    defs_and_settings,
):
    """The writers (dbt, the churn scores) queue in the pool and take the writer's session; the
    Parquet writers and the readers of the published warehouse (the dashboards) do neither."""
    defs, _ = defs_and_settings
    writers = {DBT_OP_NAME, "churn_prediction_model"}
    for assets_def in defs.assets:
        name = assets_def.node_def.name
        resources = assets_def.node_def.required_resource_keys
        assert (assets_def.node_def.pool == DUCKDB_POOL) == (name in writers), name
        assert ("warehouse_writer" in resources) == (name in writers), name


def test_dbt_tests_become_asset_checks_on_fct_mrr_daily(graph):
    checks = [c for c in graph.asset_check_keys if c.asset_key == FCT_MRR_DAILY]
    assert checks, "expected the dbt tests on fct_mrr_daily as asset checks"


def test_snapshots_are_assets_in_their_own_group_and_job(defs_and_settings):
    defs, _ = defs_and_settings
    job = defs.resolve_job_def("techflow_snapshots")
    keys = job.asset_layer.executable_asset_keys
    assert keys, "the snapshot job selects no assets"
    graph = defs.resolve_asset_graph()
    assert {graph.get(k).group_name for k in keys} == {"snapshots"}
    daily = defs.resolve_job_def("techflow_daily").asset_layer.executable_asset_keys
    assert not keys & daily


def test_a_missing_manifest_names_the_command_that_builds_it(tmp_path):
    with pytest.raises(ManifestNotFoundError, match="make manifest"):
        load_manifest(tmp_path / "manifest.json")


def _schedule_tick(defs, tick: datetime):
    schedule = defs.resolve_schedule_def("techflow_daily_schedule")
    assert schedule.job_name == "techflow_daily"
    with DagsterInstance.ephemeral() as instance:
        context = build_schedule_context(
            instance=instance,
            scheduled_execution_time=tick,
            repository_def=defs.get_repository_def(),
        )
        return schedule.evaluate_tick(context)


def test_the_daily_schedule_requests_the_day_that_just_ended(defs_and_settings):
    defs, settings = defs_and_settings
    day = settings.world_start + timedelta(days=5)
    tick = datetime.combine(day + timedelta(days=1), time(0, 30), tzinfo=UTC)
    result = _schedule_tick(defs, tick)
    assert [r.partition_key for r in result.run_requests] == [day.isoformat()]


def test_a_schedule_tick_raises_no_deprecation_warning(defs_and_settings):
    defs, settings = defs_and_settings
    tick = datetime.combine(settings.world_start + timedelta(days=3), time(0, 30), tzinfo=UTC)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _schedule_tick(defs, tick)
    assert result.run_requests
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert deprecations == [], [str(w.message) for w in deprecations]


def test_the_daily_schedule_stops_at_a_pinned_as_of_day(defs_and_settings):
    """Partitions that end on the as-of day (TECHFLOW_AS_OF set) keep a working schedule: a tick
    after it requests the as-of day, under its own run key, so it runs once."""
    defs, settings = defs_and_settings
    assert settings.as_of_pinned
    tick = datetime.combine(settings.as_of + timedelta(days=8), time(0, 30), tzinfo=UTC)
    result = _schedule_tick(defs, tick)
    assert [(r.partition_key, r.run_key) for r in result.run_requests] == [
        (settings.as_of.isoformat(), settings.as_of.isoformat())
    ]


def test_the_daily_partitions_end_on_the_pinned_as_of_day(defs_and_settings):
    defs, settings = defs_and_settings
    partitions = defs.resolve_job_def("techflow_daily").partitions_def
    keys = partitions.get_partition_keys(
        current_time=datetime.combine(settings.as_of + timedelta(days=30), time(), tzinfo=UTC)
    )
    assert keys[0] == settings.world_start.isoformat()
    assert keys[-1] == settings.as_of.isoformat()


def test_the_dbt_project_is_one_op_holding_every_model_seed_snapshot_and_test(defs_and_settings):
    """One op: a run builds whatever it selects in one `dbt build`, and every dbt test on a model,
    seed or snapshot is an asset check, whatever else it reads (no op boundary to cut)."""
    import json

    defs, _ = defs_and_settings
    [dbt_op] = [a for a in defs.assets if a.node_def.name == DBT_OP_NAME]
    manifest = json.loads(dbt_project.manifest_path.read_text())
    # A versioned model's asset is named like its relation (rpt_marketing_roi, ..._v1).
    buildable = {
        uid: node["alias"] if node.get("version") else node["name"]
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
        and node["config"].get("materialized") != "ephemeral"
    }
    assert {key.to_user_string() for key in dbt_op.keys} == set(buildable.values())
    generic_tests_on_buildable = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("attached_node") in buildable
    }
    assert {spec.name for spec in dbt_op.check_specs} >= generic_tests_on_buildable


def test_the_build_job_plans_one_event_per_unpartitioned_asset(defs_and_settings, tmp_path):
    """make run's build job holds no raw op, so a range run of it is planned per asset (and per
    day only for the partitioned incrementals), not per (asset, day): see jobs.py."""
    defs, settings = defs_and_settings
    job = defs.resolve_job_def(BUILD_JOB_NAME)
    assert not any(key in RAW_ASSET_KEYS for key in job.asset_layer.executable_asset_keys)
    first, last = settings.world_start.isoformat(), settings.as_of.isoformat()
    tags = {RANGE_START_TAG: first, RANGE_END_TAG: last}
    with DagsterInstance.ephemeral() as instance:
        plan = create_execution_plan(job, tags=tags)
        run = instance.create_run_for_job(job, tags=tags, execution_plan=plan)
    assert run.partitions_subset is None


def test_a_dbt_project_edited_after_the_manifest_is_reported_file_by_file(tmp_path):
    import json

    from techflow_orchestration.project import changed_since_manifest, project_fingerprint

    record = tmp_path / "manifest.sources.json"
    current = project_fingerprint()
    record.write_text(json.dumps(current))
    assert changed_since_manifest(record) == []

    edited = {**current, "dbt_project.yml": "0" * 64, "models/gone.sql": "1" * 64}
    record.write_text(json.dumps(edited))
    assert changed_since_manifest(record) == ["dbt_project.yml", "models/gone.sql"]


def test_the_daily_job_retries_a_failed_run_once_and_the_snapshot_job_does_not(
    defs_and_settings, tmp_path
):
    """Run retries, as the daemon of `make dev` decides them over the repo's dagster.yaml."""
    from dagster import DagsterRun, DagsterRunStatus
    from dagster._core.execution.retries import auto_reexecution_should_retry_run

    from tests.orchestration.conftest import make_dagster_home

    defs, _ = defs_and_settings
    daily = defs.resolve_job_def("techflow_daily")
    snapshots = defs.resolve_job_def("techflow_snapshots")
    assert daily.tags["dagster/max_retries"] == "1"
    with DagsterInstance.from_config(str(make_dagster_home(tmp_path / "home"))) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 0

        def failed(job, run_id: str, **extra_tags: str) -> DagsterRun:
            return instance.add_run(
                DagsterRun(
                    job_name=job.name,
                    run_id=run_id,
                    tags={**job.tags, **extra_tags},
                    status=DagsterRunStatus.FAILURE,
                    root_run_id=extra_tags.get("dagster/root_run_id"),
                    parent_run_id=extra_tags.get("dagster/parent_run_id"),
                )
            )

        first = failed(daily, "daily-1")
        assert auto_reexecution_should_retry_run(instance, first, None)
        retry = failed(
            daily,
            "daily-1-retry",
            **{"dagster/root_run_id": "daily-1", "dagster/parent_run_id": "daily-1"},
        )
        assert not auto_reexecution_should_retry_run(instance, retry, None)  # once only
        assert not auto_reexecution_should_retry_run(instance, failed(snapshots, "snap-1"), None)


def test_the_warehouse_is_read_through_a_read_only_duckdb_resource(defs_and_settings):
    from dagster_duckdb import DuckDBResource

    defs, settings = defs_and_settings
    warehouse = defs.resources["warehouse"]
    assert isinstance(warehouse, DuckDBResource)
    assert warehouse.database == str(settings.warehouse)  # the published file
    writer = defs.resources["warehouse_writer"]
    assert (writer.published, writer.build) == (
        str(settings.warehouse),
        str(settings.build_warehouse),
    )
    # Read-only: a reader never takes DuckDB's writer lock.
    import duckdb

    settings.warehouse.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse)).close()
    with warehouse.get_connection() as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("create table not_allowed (x int)")


def test_the_launchpad_offers_a_full_refresh_of_the_incremental_models(defs_and_settings):
    defs, _ = defs_and_settings
    job = defs.resolve_job_def("techflow_daily")
    op = job.graph.node_named(DBT_OP_NAME).definition
    fields = op.config_schema.as_field().config_type.fields
    assert "full_refresh" in fields
    assert fields["full_refresh"].default_value is False


def test_every_job_runs_its_steps_in_the_run_process(defs_and_settings):
    """No step subprocess importing the code location again: the steps are one serial chain.
    Dagster's in-process executor, which also records the process on the run."""
    from dagster import in_process_executor

    from techflow_orchestration.lib.run_process import identified_in_process_executor

    defs, _ = defs_and_settings
    for name in ("techflow_daily", "techflow_snapshots", "churn_model_weekly", BUILD_JOB_NAME):
        executor = defs.resolve_job_def(name).executor_def
        assert executor is identified_in_process_executor, name
    assert executor.name == in_process_executor.name  # same name and config in the launchpad


def test_dbt_steps_skip_the_in_process_dbt_adapter_and_the_dbt_version_probe(defs_and_settings):
    from dagster_dbt import DbtCliResource

    defs, _ = defs_and_settings
    dbt = defs.resources["dbt"]
    # The hooks we override must still exist upstream, or the overrides would be silently dead.
    assert callable(getattr(DbtCliResource, "_initialize_dbt_core_adapter", None))
    assert "_cli_version" in vars(DbtCliResource)
    assert isinstance(dbt, DbtCliResource)
    assert dbt._initialize_dbt_core_adapter(["build"]) is None
    # The version dagster-dbt would have asked `dbt --version` for, read without starting dbt.
    from dbt.version import __version__ as dbt_version

    assert str(dbt._cli_version) == dbt_version
    # dbt starts through the launcher that binds it to its parent's life (dbt_child.py).
    assert Path(dbt.dbt_executable).name == "techflow-dbt"
