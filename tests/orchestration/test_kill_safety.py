"""kill -9 safe: a run killed while its dbt step holds the `duckdb` pool slot blocks nothing.

A real `make run` build run (run_all.run_stage: in-process execute_job, as `make run` runs it)
builds one fct_mrr_daily partition in a subprocess over a copy of the session's small world; the
test kills the whole process group with SIGKILL once dbt is running with the slot claimed. Then:
the run is still STARTED and holds the slot (the problem); `make run` (python -m
techflow_orchestration.run_all) marks it failed and frees the slot, logging one line, then runs
the build again by itself (its newest build run failed) and succeeds; the warehouse is intact
(same fct_mrr_daily rows).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from techflow_orchestration.dead_runs import process_alive
from techflow_orchestration.run_all import RUN_ALL_TAG
from techflow_orchestration.settings import REPO_ROOT
from tests.orchestration.conftest import make_dagster_home, settings_env

pytestmark = pytest.mark.slow

POOL = "duckdb"
WAIT_S = 180  # upper bound for any one phase; each normally takes seconds

# make run's build run, as `make run` runs it, narrowed to fct_mrr_daily + int_subscription_versions
# for one day (a few seconds of dbt).
STAGE_SCRIPT = """
import sys
from datetime import date
from dagster import DagsterInstance
from techflow_orchestration import run_all
from techflow_orchestration.keys import MRR_PARTITIONED_KEYS

day = date.fromisoformat(sys.argv[1])
stage = run_all.Stage("build", list(MRR_PARTITIONED_KEYS), run_all.build_job, day, day)
with DagsterInstance.get() as instance:
    run_all.run_stage(stage, instance)
print("stage succeeded")
"""


def _start(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes dbt down with it
        )


def _running_dbt(pid: int) -> bool:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    for child in children:
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if any(Path(part).name == "dbt" for part in cmdline[:2]):
            return True
    return False


def _fct_rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from finance.fct_mrr_daily order by all").fetchall()


@pytest.fixture
def killable_world(dagster_world, tmp_path):
    """An independent copy of the session world (raw, warehouse, instance): nothing the kill does
    reaches the shared one."""
    data_dir = tmp_path / "data"
    shutil.copytree(dagster_world.settings.data_dir, data_dir)
    home = tmp_path / "dagster_home"
    shutil.copytree(dagster_world.dagster_home, home)
    settings = dataclasses.replace(
        dagster_world.settings,
        data_dir=data_dir,
        warehouse=data_dir / "warehouse" / "techflow.duckdb",
    )
    env = {**os.environ, **settings_env(settings, home)}
    with DagsterInstance.from_config(str(home)) as instance:
        yield settings, env, instance, dagster_world.partition_keys[-1]


def test_a_run_killed_mid_dbt_step_is_failed_its_slot_freed_and_the_next_run_succeeds(
    killable_world, tmp_path
):
    settings, env, instance, day = killable_world
    rows_before = _fct_rows(settings.warehouse)
    mrr_runs = RunsFilter(tags={RUN_ALL_TAG: "build"})
    before = {r.run_id for r in instance.get_runs(mrr_runs)}

    # 1. A make-run stage, killed (SIGKILL, whole process group) while dbt runs with the slot.
    proc = _start(env, ["-c", STAGE_SCRIPT, day], tmp_path / "killed.log")
    deadline = time.monotonic() + WAIT_S
    run_id = None
    try:
        while True:
            assert proc.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dbt never started with the slot claimed"
            new = [r for r in instance.get_runs(mrr_runs) if r.run_id not in before]
            claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
            if new and any(s.run_id == new[0].run_id for s in claimed) and _running_dbt(proc.pid):
                run_id = new[0].run_id
                break
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert not process_alive(proc.pid)

    # The problem: the run still looks alive and holds the pool's only slot.
    assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
    info = instance.event_log_storage.get_concurrency_info(POOL)
    assert [s.run_id for s in info.claimed_slots] == [run_id]
    assert info.limit == 1
    # The warehouse is readable and unchanged after the kill.
    assert _fct_rows(settings.warehouse) == rows_before

    # 2. `make run` releases it first, then rebuilds by itself: nothing is missing, but the
    #    newest build run failed (the killed one), so it runs the build again and succeeds.
    make_run = _start(env, ["-m", "techflow_orchestration.run_all"], tmp_path / "make_run.log")
    assert make_run.wait(timeout=WAIT_S) == 0, (tmp_path / "make_run.log").read_text()[-3000:]
    output = (tmp_path / "make_run.log").read_text()
    assert output.count(f"Released dead run {run_id}") == 1, output[-3000:]
    assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
    reruns = [
        r for r in instance.get_runs(mrr_runs) if r.run_id not in before and r.run_id != run_id
    ]
    assert [r.status for r in reruns] == [DagsterRunStatus.SUCCESS], output[-3000:]
    info = instance.event_log_storage.get_concurrency_info(POOL)
    assert info.claimed_slots == [] and info.pending_steps == []
    # The warehouse holds the same rows.
    assert _fct_rows(settings.warehouse) == rows_before


def test_process_alive_tells_running_from_gone_and_zombie(tmp_path):
    assert process_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not process_alive(child.pid)  # exited, not yet reaped
    child.wait()
    assert not process_alive(child.pid)
    # A pid that started after the run began is a reused pid: the run's process is gone.
    assert not process_alive(os.getpid(), started_by=time.time() - 10 * 365 * 86400)


def test_the_instance_monitors_runs_with_a_runtime_limit(tmp_path):
    """`make dev`'s daemon fails dead runs: the default run launcher cannot check a worker's
    health, so the runtime limit is what ends a dead STARTED run there; slots of finished runs
    are freed."""
    home = make_dagster_home(tmp_path / "home")  # the repo's dagster.yaml, fresh storage
    with DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_monitoring_enabled
        assert 0 < instance.run_monitoring_max_runtime_seconds <= 4 * 3600
        assert instance.run_monitoring_start_timeout_seconds > 0
        assert instance.run_monitoring_cancel_timeout_seconds > 0
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert not instance.run_launcher.supports_check_run_worker_health


def _started_run(instance: DagsterInstance, run_id: str, pid: int) -> None:
    """A run of the daily job that started in process `pid` and holds the duckdb slot."""
    from dagster import DagsterEvent, DagsterEventType, DagsterRun

    instance.add_run(
        DagsterRun(job_name="techflow_daily", run_id=run_id, status=DagsterRunStatus.NOT_STARTED)
    )
    instance.report_dagster_event(
        DagsterEvent(
            event_type_value=DagsterEventType.RUN_START.value,
            job_name="techflow_daily",
            pid=pid,
        ),
        run_id=run_id,
    )
    storage = instance.event_log_storage
    storage.initialize_concurrency_limit_to_default(POOL)  # as a run's first claim does
    claim = storage.claim_concurrency_slot(POOL, run_id, "dbt_step")
    assert claim.is_claimed


def test_the_make_dev_sensor_fails_dead_runs_and_frees_their_slots(tmp_path):
    """Under `make dev` a dead run is released within a minute, not after the runtime limit;
    a live run is left alone."""
    from dagster import build_sensor_context

    from techflow_orchestration.sensors import release_dead_runs_sensor

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    home = make_dagster_home(tmp_path / "home")
    with DagsterInstance.from_config(str(home)) as instance:
        _started_run(instance, "dead-run", dead.pid)
        assert instance.get_run_by_id("dead-run").status == DagsterRunStatus.STARTED
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        assert [s.run_id for s in claimed] == ["dead-run"]

        with build_sensor_context(instance=instance) as context:
            result = release_dead_runs_sensor(context)
        assert "1 dead run(s)" in str(result.skip_message)
        assert instance.get_run_by_id("dead-run").status == DagsterRunStatus.FAILURE
        assert instance.event_log_storage.get_concurrency_info(POOL).claimed_slots == []

        _started_run(instance, "live-run", os.getpid())  # this very process: alive
        with build_sensor_context(instance=instance) as context:
            result = release_dead_runs_sensor(context)
        assert result.skip_message == "no dead runs"
        assert instance.get_run_by_id("live-run").status == DagsterRunStatus.STARTED
        claimed = instance.event_log_storage.get_concurrency_info(POOL).claimed_slots
        assert [s.run_id for s in claimed] == ["live-run"]
