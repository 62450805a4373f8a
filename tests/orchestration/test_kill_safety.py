"""kill -9 safe: whichever process is killed mid-build — the whole process group, the Python
process alone (what the OOM killer picks), or dbt alone — the next `make run` or scheduled run
finishes by itself and the published warehouse is intact.

Each case starts a real `make run` build run (run_all.run_stage, one fct_mrr_daily partition) in
its own process group over a private copy of the session's small world, waits until its dbt has
the build file open, freezes dbt (SIGSTOP: from then on it can only die of a signal, so the test
cannot pass by dbt finishing early), and kills. Then:

- dbt is gone: killed with its parent by the kernel (PR_SET_PDEATHSIG, dbt_child.py), or killed;
- the published warehouse is byte for byte what it was, and nothing unaudited reached it;
- what comes next recovers by itself, resetting the build file first: `make run` (after a kill of
  the group or of dbt: it releases the dead run — one line — or finds it failed, rebuilds, and
  succeeds), or the scheduled path (after a kill of Python alone: `make dev`'s release sensor,
  then the daily job's run for the day, as its run worker executes it); fct_mrr_daily holds the
  same rows, and the failure was alerted exactly once.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter, build_sensor_context

from techflow_orchestration.alerts import read_alerts
from techflow_orchestration.lib.keys import DUCKDB_POOL
from techflow_orchestration.lib.publish import DuckDBFilePublisher
from techflow_orchestration.lib.resources import AlertsResource
from techflow_orchestration.lib.run_process import ProcessIdentity
from techflow_orchestration.lib.tags import PROCESS_TAG, RUN_ALL_TAG
from tests.orchestration.conftest import PrivateWorld, make_dagster_home
from tests.orchestration.processes import (
    MAKE_RUN,
    SCHEDULED_RUN_SCRIPT,
    STAGE_SCRIPT,
    WAIT_S,
    dbt_under,
    finish,
    has_open,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow

MRR_ROWS = "select * from finance.fct_mrr_daily order by all"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _kill_group(stage: subprocess.Popen, dbt: psutil.Process) -> None:
    os.killpg(stage.pid, signal.SIGKILL)


def _kill_python(stage: subprocess.Popen, dbt: psutil.Process) -> None:
    os.kill(stage.pid, signal.SIGKILL)  # not its group: dbt is left to its fate


def _kill_dbt(stage: subprocess.Popen, dbt: psutil.Process) -> None:
    dbt.send_signal(signal.SIGKILL)


# Each kill, and the path that has to recover from it by itself.
KILLS = {
    "process group": (_kill_group, "make run"),
    "python alone": (_kill_python, "scheduled run"),
    "dbt alone": (_kill_dbt, "make run"),
}


@pytest.mark.parametrize("kill", KILLS)
def test_any_kill_mid_build_recovers_by_itself_with_the_warehouse_intact(
    private_world: PrivateWorld, tmp_path: Path, kill: str
):
    world = private_world
    publisher = DuckDBFilePublisher.from_settings(world.settings)
    published_before = _sha256(world.settings.warehouse)
    rows_before = world.query(MRR_ROWS)
    build_runs = RunsFilter(tags={RUN_ALL_TAG: "build"})
    before = {r.run_id for r in world.instance.get_runs(build_runs)}
    day = world.partition_keys[-1]

    # 1. A make-run build run, its dbt mid-build on the build file, frozen, then killed.
    stage_log = tmp_path / "stage.log"
    stage = start(world.env, ["-c", STAGE_SCRIPT, day], stage_log)
    try:
        dbt = wait_for(
            lambda: (p := dbt_under(stage.pid)) and has_open(p, publisher.build) and p,
            "dbt with the build file open",
            stage,
            stage_log,
        )
        [run] = [r for r in world.instance.get_runs(build_runs) if r.run_id not in before]
        dbt.send_signal(signal.SIGSTOP)
        kill_it, recovery = KILLS[kill]
        kill_it(stage, dbt)
        stage.wait(timeout=WAIT_S)
        wait_for(lambda: not dbt.is_running() or dbt.status() == psutil.STATUS_ZOMBIE, "dbt gone")
    finally:
        if stage.poll() is None:
            os.killpg(stage.pid, signal.SIGKILL)
            stage.wait()
    run = world.instance.get_run_by_id(run.run_id)
    # The executor recorded the process that executed the run (how dead runs are told).
    assert ProcessIdentity.from_tag(run.tags[PROCESS_TAG]).pid == stage.pid
    # Nothing unaudited was published.
    assert _sha256(world.settings.warehouse) == published_before
    if kill == "dbt alone":
        # The stage saw dbt die, discarded the build (reset to the published file) and failed.
        assert stage.returncode == 1
        assert "nothing was published" in stage_log.read_text()
        assert run.status == DagsterRunStatus.FAILURE
        assert not publisher.unpublished_mark.exists()
        assert _sha256(publisher.build) == published_before
    else:
        # The problem a kill leaves: the run looks alive and holds the pool's only slot; its
        # build file holds unpublished writes.
        assert run.status == DagsterRunStatus.STARTED
        claimed = world.instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).claimed_slots
        assert [s.run_id for s in claimed] == [run.run_id]
        assert publisher.unpublished_mark.exists()

    if recovery == "make run":
        # 2. `make run`: releases the dead run, rebuilds (its newest build run failed), succeeds.
        make_run_log = tmp_path / "make_run.log"
        output = finish(start(world.env, MAKE_RUN, make_run_log), make_run_log)
        released = output.count(f"Released dead run {run.run_id}")
        assert released == (0 if kill == "dbt alone" else 1), output[-3000:]
        reruns = [
            r
            for r in world.instance.get_runs(build_runs)
            if r.run_id not in before and r.run_id != run.run_id
        ]
        assert [r.status for r in reruns] == [DagsterRunStatus.SUCCESS], output[-3000:]
    else:
        # 2. The scheduled path: `make dev`'s sensor releases the run within its minute, then the
        #    daily job's run for the day (as its run worker executes it) succeeds.
        alerts = AlertsResource(alerts_file=str(world.settings.alerts_file))
        assert _sensor_tick(world.instance, alerts).skip_message.startswith("1 dead run(s)")
        scheduled_log = tmp_path / "scheduled.log"
        finish(start(world.env, ["-c", SCHEDULED_RUN_SCRIPT, day], scheduled_log), scheduled_log)
    assert world.instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    info = world.instance.event_log_storage.get_concurrency_info(DUCKDB_POOL)
    assert info.claimed_slots == [] and info.pending_steps == []
    assert not publisher.unpublished_mark.exists()
    assert world.query(MRR_ROWS) == rows_before

    # Told once, by whoever noticed first (the stage, or make run's releaser).
    failures = [
        a
        for a in read_alerts(world.settings.alerts_file)
        if a["kind"] == "run_failure" and a["details"]["run_id"] == run.run_id
    ]
    assert len(failures) == 1, failures


# --- the releaser: which runs are dead, and what it does about them ----------------------------


def _started_run(
    instance: DagsterInstance,
    run_id: str,
    pid: int | None,
    tags: dict[str, str] | None = None,
    claim: bool = True,
) -> None:
    """A run of the daily job that started in process `pid`, holding the duckdb slot if `claim`
    (the pool has one)."""
    from dagster import DagsterEvent, DagsterEventType, DagsterRun

    instance.add_run(
        DagsterRun(
            job_name="techflow_daily",
            run_id=run_id,
            status=DagsterRunStatus.NOT_STARTED,
            tags=tags or {},
        )
    )
    instance.report_dagster_event(
        DagsterEvent(
            event_type_value=DagsterEventType.RUN_START.value, job_name="techflow_daily", pid=pid
        ),
        run_id=run_id,
    )
    if claim:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(DUCKDB_POOL)  # as a first claim does
        assert storage.claim_concurrency_slot(DUCKDB_POOL, run_id, "dbt_step").is_claimed


def _identity_tag(pid: int) -> dict[str, str]:
    identity = ProcessIdentity.of(pid)
    assert identity is not None
    return {PROCESS_TAG: identity.tag()}


def _exited_pid() -> int:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


@pytest.fixture
def instance(tmp_path) -> DagsterInstance:
    home = make_dagster_home(tmp_path / "home")  # the repo's dagster.yaml, fresh storage
    with DagsterInstance.from_config(str(home)) as instance:
        yield instance


@pytest.fixture
def alerts(tmp_path) -> AlertsResource:
    return AlertsResource(alerts_file=str(tmp_path / "alerts.jsonl"))


def _sensor_tick(instance: DagsterInstance, alerts: AlertsResource):
    from techflow_orchestration.defs.housekeeping.sensors import release_dead_runs_sensor

    with build_sensor_context(instance=instance, resources={"alerts": alerts}) as context:
        return release_dead_runs_sensor(context)


def test_the_make_dev_sensor_fails_dead_runs_frees_their_slots_and_alerts_once(instance, alerts):
    """Under `make dev` a dead run is released within a minute, not after the runtime limit;
    a live run is left alone."""
    _started_run(instance, "dead-run", _exited_pid())
    assert _sensor_tick(instance, alerts).skip_message.startswith("1 dead run(s)")
    assert instance.get_run_by_id("dead-run").status == DagsterRunStatus.FAILURE
    assert instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).claimed_slots == []

    _started_run(instance, "live-run", os.getpid(), _identity_tag(os.getpid()))
    assert _sensor_tick(instance, alerts).skip_message == "no dead runs"
    assert instance.get_run_by_id("live-run").status == DagsterRunStatus.STARTED
    claimed = instance.event_log_storage.get_concurrency_info(DUCKDB_POOL).claimed_slots
    assert [s.run_id for s in claimed] == ["live-run"]

    # The run-failure sensor then sees the failure too, and does not tell it again.
    from dagster import DagsterEventType

    from tests.orchestration.test_sensors import tell_run_failure

    [failure] = instance.all_logs("dead-run", of_type=DagsterEventType.RUN_FAILURE)
    dead = instance.get_run_by_id("dead-run")
    tell_run_failure(instance, dead, failure.dagster_event, alerts)
    records = [r for r in read_alerts(alerts.sink().alerts_file) if r["kind"] == "run_failure"]
    assert [r["details"]["run_id"] for r in records] == ["dead-run"]


def test_a_forward_clock_step_does_not_make_a_live_run_look_dead(instance, alerts, monkeypatch):
    _started_run(instance, "live-run", os.getpid(), _identity_tag(os.getpid()))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 30 * 86400)  # 30 days ahead
    assert _sensor_tick(instance, alerts).skip_message == "no dead runs"
    assert instance.get_run_by_id("live-run").status == DagsterRunStatus.STARTED


def test_a_reused_pid_or_a_reboot_means_the_run_is_dead(instance, alerts):
    identity = ProcessIdentity.of(os.getpid())
    reused = identity.tag().replace(f" {identity.start_ticks}", f" {identity.start_ticks - 1}")
    rebooted = identity.tag().replace(identity.boot_id, "another-boot")
    _started_run(instance, "reused", os.getpid(), {PROCESS_TAG: reused})
    _started_run(instance, "rebooted", os.getpid(), {PROCESS_TAG: rebooted}, claim=False)
    _sensor_tick(instance, alerts)
    assert instance.get_run_by_id("reused").status == DagsterRunStatus.FAILURE
    assert instance.get_run_by_id("rebooted").status == DagsterRunStatus.FAILURE


def test_a_run_from_another_host_is_named_with_what_to_do_never_failed(instance, alerts):
    identity = ProcessIdentity.of(os.getpid())
    elsewhere = identity.tag().replace(identity.host, "rebuilt-container", 1)
    _started_run(instance, "foreign-run", 12345, {PROCESS_TAG: elsewhere})
    for _ in range(2):
        message = _sensor_tick(instance, alerts).skip_message
        assert "foreign-run" in message
    assert instance.get_run_by_id("foreign-run").status == DagsterRunStatus.STARTED
    [stuck] = [r for r in read_alerts(alerts.sink().alerts_file) if r["kind"] == "stuck_run"]
    assert "rebuilt-container" in stuck["message"]
    assert "dead_runs --release foreign-run" in stuck["message"]


def test_make_run_refuses_to_wait_on_a_run_it_cannot_check(private_world, tmp_path):
    """Without a pid (or from another host) the run holding the slot cannot be judged: `make
    run` stops at once and says what to do, instead of waiting for ever; the release command it
    names frees the slot."""
    _started_run(private_world.instance, "no-pid-run", None)
    log = tmp_path / "make_run.log"
    proc = start(private_world.env, MAKE_RUN, log)
    assert proc.wait(timeout=WAIT_S) == 1
    output = log.read_text()
    assert "cannot check" in output and "no process has recorded itself" in output, output
    assert "python -m techflow_ops.dead_runs --release no-pid-run" in output
    release = subprocess.run(
        [sys.executable, "-m", "techflow_ops.dead_runs", "--release", "no-pid-run"],
        env=private_world.env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert release.returncode == 0, release.stderr
    assert private_world.instance.get_run_by_id("no-pid-run").status == DagsterRunStatus.FAILURE
    info = private_world.instance.event_log_storage.get_concurrency_info(DUCKDB_POOL)
    assert info.claimed_slots == []


def test_the_releaser_rereads_a_run_before_failing_it(instance, alerts, monkeypatch):
    """A run that succeeds between the releaser's listing and its verdict keeps its success."""
    from dagster import DagsterEvent, DagsterEventType

    from techflow_orchestration.defs.housekeeping import dead_runs

    _started_run(instance, "finishing-run", _exited_pid())
    real_judge = dead_runs.judge

    def judge_while_the_run_succeeds(tags, pid):
        instance.report_dagster_event(
            DagsterEvent(
                event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name="techflow_daily"
            ),
            run_id="finishing-run",
        )
        return real_judge(tags, pid)

    monkeypatch.setattr(dead_runs, "judge", judge_while_the_run_succeeds)
    report = dead_runs.release_dead_runs(instance, sink=alerts.sink())
    assert report.released == []
    assert instance.get_run_by_id("finishing-run").status == DagsterRunStatus.SUCCESS
    assert read_alerts(alerts.sink().alerts_file) == []


RELEASER = """
import sys
from dagster import DagsterInstance
from techflow_orchestration.alerts import AlertSink
from techflow_orchestration.defs.housekeeping.dead_runs import release_dead_runs
with DagsterInstance.get() as instance:
    release_dead_runs(instance, sink=AlertSink(__import__("pathlib").Path(sys.argv[1])))
"""


def test_two_releasers_at_once_fail_a_dead_run_once_and_alert_once(instance, tmp_path):
    from dagster import DagsterEventType

    for number in range(3):
        _started_run(instance, f"dead-{number}", _exited_pid(), claim=number == 0)
    alerts_file = tmp_path / "alerts.jsonl"
    env = {**os.environ, "DAGSTER_HOME": str(instance.root_directory)}
    releasers = [
        subprocess.Popen([sys.executable, "-c", RELEASER, str(alerts_file)], env=env)
        for _ in range(2)
    ]
    assert [p.wait(timeout=WAIT_S) for p in releasers] == [0, 0]
    for number in range(3):
        failures = instance.all_logs(f"dead-{number}", of_type=DagsterEventType.RUN_FAILURE)
        assert len(failures) == 1
    told = sorted(a["details"]["run_id"] for a in read_alerts(alerts_file))
    assert told == ["dead-0", "dead-1", "dead-2"]


def test_the_instance_monitors_runs_with_a_runtime_limit(instance):
    """`make dev`'s daemon fails dead runs: the default run launcher cannot check a worker's
    health, so the runtime limit is what ends a dead STARTED run there; slots of finished runs
    are freed."""
    assert instance.run_monitoring_enabled
    assert 0 < instance.run_monitoring_max_runtime_seconds <= 4 * 3600
    assert instance.run_monitoring_start_timeout_seconds > 0
    assert instance.run_monitoring_cancel_timeout_seconds > 0
    assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
    assert not instance.run_launcher.supports_check_run_worker_health
