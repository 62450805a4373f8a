"""Real processes for the concurrency and kill tests: start them, find their dbt, wait on them.

Every wait is bounded (WAIT_S) and polls a condition the processes themselves make true; none
depends on how fast the machine is.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from techflow_core.paths import REPO_ROOT

WAIT_S = 300  # upper bound for any one phase; each normally takes seconds

# make run's build run, as `make run` runs it (run_all.run_stage: in-process execute_job, a
# failure alerted through the alert sink), narrowed to int_subscription_versions + fct_mrr_daily
# for one day (a few seconds of dbt).
STAGE_SCRIPT = """
import sys
from datetime import date
from dagster import DagsterInstance
from techflow_ops import run_all
from techflow_orchestration.alerts import AlertSink
from techflow_core.settings import TechflowSettings
from techflow_orchestration.lib.keys import MRR_PARTITIONED_KEYS

day = date.fromisoformat(sys.argv[1])
stage = run_all.Stage("build", list(MRR_PARTITIONED_KEYS), run_all.build_job, day, day)
sink = AlertSink(TechflowSettings.from_env().alerts_file)
with DagsterInstance.get() as instance:
    run_all.run_stage(stage, instance, sink)
print("stage succeeded")
"""
# A run of the daily job for one partition, as the daemon's run worker executes what the daily
# schedule requests (execute_job in the worker process, tagged with the partition).
SCHEDULED_RUN_SCRIPT = """
import sys
from dagster import DagsterInstance, execute_job, reconstructable
from techflow_ops import run_all

with DagsterInstance.get() as instance:
    result = execute_job(
        reconstructable(run_all.daily_job), instance=instance,
        tags={"dagster/partition": sys.argv[1]}, run_config=run_all.RUN_CONFIG,
    )
print("scheduled run", "succeeded" if result.success else "failed", result.run_id)
sys.exit(0 if result.success else 1)
"""
MAKE_RUN = ["-m", "techflow_ops.run_all"]


def start(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen:
    """A Python process in its own process group, output to `log` (a file, not a pipe: a
    grandchild outliving it, Dagster's compute-log tail, would hold a pipe open)."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def dbt_under(pid: int) -> psutil.Process | None:
    """The dbt process among `pid`'s descendants (after techflow-dbt exec'd into dbt)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return None
    for child in children:
        try:
            cmdline = child.cmdline()
        except psutil.Error:
            continue
        if any(Path(part).name == "dbt" for part in cmdline[:2]):
            return child
    return None


def has_open(process: psutil.Process, path: Path) -> bool:
    try:
        return any(Path(f.path) == path for f in process.open_files())
    except psutil.Error:
        return False


def wait_for(
    condition: Callable[[], object], what: str, proc: subprocess.Popen | None = None, log=None
) -> object:
    """Poll `condition` until it returns something truthy (returned); fail naming `what` after
    WAIT_S, or as soon as `proc` exits."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log is not None else ""
            raise AssertionError(f"process exited ({proc.returncode}) before {what}:\n{tail}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def finish(proc: subprocess.Popen, log: Path) -> str:
    """Wait for `proc` (bounded) and return its output; fail with the output if it failed."""
    code = proc.wait(timeout=WAIT_S)
    output = log.read_text()
    assert code == 0, output[-4000:]
    return output
