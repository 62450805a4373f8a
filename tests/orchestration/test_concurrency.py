"""Two runs that both write the DuckDB warehouse, launched at the same moment, both succeed: the
`duckdb` pool (limit 1 in dagster.yaml) makes the second wait instead of hitting DuckDB's lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterRunStatus, RunsFilter

from techflow_orchestration.settings import REPO_ROOT

pytestmark = pytest.mark.slow


def _materialize(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    # Output goes to a file, not a pipe: a grandchild that outlives the CLI (Dagster's compute-log
    # `tail -F`) would hold a pipe open and hang the read until its timeout.
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "dagster", "asset", "materialize", "-m",
             "techflow_orchestration.definitions", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip


def _step_window(instance, run_id: str) -> tuple[float, float]:
    """When the run's (only) step started and finished."""
    starts, ends = [], []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event and event.event_type == DagsterEventType.STEP_START:
            starts.append(record.timestamp)
        if event and event.event_type in (
            DagsterEventType.STEP_SUCCESS,
            DagsterEventType.STEP_FAILURE,
        ):
            ends.append(record.timestamp)
    return min(starts), max(ends)


def test_two_concurrent_warehouse_writers_queue_on_the_pool_and_both_succeed(
    dagster_world, tmp_path: Path
):
    env = {**os.environ, **dagster_world.env}
    day = dagster_world.partition_keys[-2]
    before = {r.run_id for r in dagster_world.instance.get_runs()}

    logs = [tmp_path / "fct_mrr_daily.log", tmp_path / "dim_customers.log"]
    procs = [
        _materialize(env, logs[0], "--select", "fct_mrr_daily", "--partition", day),
        _materialize(env, logs[1], "--select", "dim_customers"),
    ]
    for proc in procs:
        proc.wait(timeout=900)
    outputs = [log.read_text() for log in logs]

    for proc, output in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, output[-3000:]
        assert "Could not set lock" not in output and "lock on file" not in output
    new_runs = [
        r
        for r in dagster_world.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
        if r.run_id not in before
    ]
    assert len(new_runs) == 2
    (start_a, end_a), (start_b, end_b) = (
        _step_window(dagster_world.instance, r.run_id) for r in new_runs
    )
    # The pool has one slot: one dbt step ran entirely before the other.
    assert end_a <= start_b or end_b <= start_a
