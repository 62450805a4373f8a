"""What the benches share: sandboxes (a data dir, a warehouse, a Dagster home, one as-of day),
processes timed from start to finish, dbt's run_results and the dbt node time a Dagster instance
recorded. Every side of every comparison runs as a subprocess through a public entry point
(`dbt`, `dg launch`, `python -m techflow_ops.run_all`), so the benches
keep measuring the product as users run it when its internals change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.verdict import busy_seconds
from techflow_core.clock import AS_OF_ENV
from techflow_core.settings import DEFAULT_WORLD_START
from techflow_core.warehouse import build_warehouse_for

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = REPO_ROOT / "techflow_dbt"
BIN = Path(sys.executable).parent
INSTANCE_YAML = REPO_ROOT / ".dagster_home" / "dagster.yaml"
WORLD_START = DEFAULT_WORLD_START


def quick() -> bool:
    """BENCH_QUICK=1: small worlds, a fraction of the time; figures not comparable to targets."""
    return os.environ.get("BENCH_QUICK", "").strip() not in ("", "0")


@dataclass(frozen=True)
class Sandbox:
    """One data dir (raw Parquet under raw/), warehouse file and Dagster home, pinned to a day."""

    root: Path
    as_of: date
    scale: float
    name: str = "main"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def warehouse(self) -> Path:
        """The published warehouse (TECHFLOW_WAREHOUSE): a folder per sandbox, the file named as
        the default one, because DuckDB names a file's catalog after it and the manifest `make
        manifest` prepares (which the dashboards query through) qualifies every relation with the
        default catalog, `techflow`."""
        return self.data_dir / "warehouse" / self.name / "techflow.duckdb"

    @property
    def build_warehouse(self) -> Path:
        """The file dbt builds in (plain dbt and Dagster alike); Dagster then publishes it."""
        return build_warehouse_for(self.warehouse)

    @property
    def dagster_home(self) -> Path:
        return self.root / f"dagster_home_{self.name}"

    @property
    def days(self) -> int:
        return (self.as_of - WORLD_START).days + 1

    def sibling(self, name: str) -> Sandbox:
        """Same data dir and day, its own warehouse and Dagster home."""
        return Sandbox(self.root, self.as_of, self.scale, name)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TECHFLOW_DATA_DIR": str(self.data_dir),
            "TECHFLOW_WAREHOUSE": str(self.warehouse),
            "TECHFLOW_WORLD_START": WORLD_START.isoformat(),
            "TECHFLOW_WORLD_SCALE": str(self.scale),
            AS_OF_ENV: self.as_of.isoformat(),
            "DAGSTER_HOME": str(self.dagster_home),
            "PYTHONUNBUFFERED": "1",
        }

    def fresh(self) -> Sandbox:
        """No warehouse, an empty Dagster instance configured as the repository's."""
        self.warehouse.unlink(missing_ok=True)
        self.warehouse.with_suffix(".duckdb.wal").unlink(missing_ok=True)
        self.build_warehouse.unlink(missing_ok=True)
        self.build_warehouse.with_suffix(".duckdb.wal").unlink(missing_ok=True)
        self.build_warehouse.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.dagster_home, ignore_errors=True)
        self.dagster_home.mkdir(parents=True)
        shutil.copy(INSTANCE_YAML, self.dagster_home)
        return self


def run_timed(cmd: list[str], env: dict[str, str], cwd: Path = REPO_ROOT) -> float:
    """Wall seconds of a process from start to exit; its output goes to a log file that is shown
    (the tail) only when it fails."""
    log = Path(env.get("TECHFLOW_DATA_DIR", "/tmp")).parent / "bench_last_command.log"
    with log.open("w") as out:
        began = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        seconds = time.perf_counter() - began
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{tail}")
    return seconds


def generate_world(sandbox: Sandbox) -> tuple[float, int]:
    """The world from WORLD_START to the as-of day, all tables, in a child process; returns the
    seconds of the generate_range call itself (no interpreter start, as the raw Dagster asset calls
    it in-process) and the rows written."""
    code = (
        "import sys, time, datetime as d; from pathlib import Path;"
        "from data_generation import WorldConfig, generate_range;"
        "a = sys.argv[1:]; s = d.date.fromisoformat(a[0]); e = d.date.fromisoformat(a[1]);"
        "cfg = WorldConfig(start=s, scale=float(a[2]), out_dir=Path(a[3]));"
        "t = time.perf_counter(); r = generate_range(cfg, s, e);"
        "print(time.perf_counter() - t, sum(x.rows for x in r))"
    )
    args = [WORLD_START.isoformat(), sandbox.as_of.isoformat(), str(sandbox.scale)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args, str(sandbox.raw_dir)],
        env=sandbox.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, rows = proc.stdout.split()
    return float(seconds), int(rows)


def link_prefix(source_raw: Path, sandbox: Sandbox) -> None:
    """The world's first days as a world of their own, without generating it again: the
    generator is prefix-consistent (day D's files are the same whatever range produced them), so
    hard links to the partitions up to the as-of day ARE the shorter world."""
    last = sandbox.as_of.isoformat()
    for part in sorted(source_raw.glob("*/*/date=*")):
        if part.name.removeprefix("date=") > last:
            continue
        target = sandbox.raw_dir / part.relative_to(source_raw)
        target.mkdir(parents=True, exist_ok=True)
        for file in part.iterdir():
            os.link(file, target / file.name)


def window_vars(day: date) -> str:
    return json.dumps({"min_date": day.isoformat(), "max_date": day.isoformat()})


@dataclass
class DbtCli:
    """The `dbt` CLI on one sandbox, with its own target dir (so partial parsing works as for a
    user who runs dbt again in the same project)."""

    sandbox: Sandbox
    target: Path

    def __call__(self, *args: str) -> tuple[float, list[dict[str, Any]]]:
        """Wall seconds from process start to exit, and run_results.json's results."""
        cmd = [str(BIN / "dbt"), *args, "--target", "prod"]
        cmd += ["--target-path", str(self.target), "--log-path", str(self.target)]
        (self.target / "run_results.json").unlink(missing_ok=True)
        seconds = run_timed(cmd, self.sandbox.env(), cwd=DBT_DIR)
        results_file = self.target / "run_results.json"
        results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
        return seconds, results


def node_seconds(results: list[dict[str, Any]], names: tuple[str, ...]) -> float:
    """Summed execution time of the named nodes (models by name) in run_results."""
    found = {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}
    missing = [n for n in names if n not in found]
    if missing:
        raise RuntimeError(f"run_results.json has no result for {missing}")
    return sum(found[n] for n in names)


def dagster(sandbox: Sandbox, *args: str) -> float:
    """`dg launch --assets … [--partition …]` in the project (it loads the code location that
    pyproject's [tool.dg] names and executes the run in-process), wall seconds. `dg launch`, not
    `dagster asset materialize`, which Dagster 1.13 marks superseded."""
    return run_timed([str(BIN / "dg"), "launch", *args], sandbox.env())


def prepare_dagster_parse(sandbox: Sandbox, target: Path) -> None:
    """What `make manifest` gives `make run` in its own environment, for a sandbox: a saved dbt
    parse for the sandbox's warehouse (dbt keeps the profile's connection values in its parse
    state, so the repository's prepared parse, made for the default warehouse, would cost the
    first dbt step a full parse). `dbt parse` into `target`, then kept as the sandbox
    environment's parse seed (techflow_orchestration.defs.warehouse.dbt_targets.save_parse).
    Untimed."""
    DbtCli(sandbox, target)("parse")
    code = (
        "import sys; from pathlib import Path;"
        "from techflow_orchestration.defs.warehouse.dbt_targets import save_parse;"
        "save_parse(Path(sys.argv[1]))"
    )
    subprocess.run([sys.executable, "-c", code, str(target)], env=sandbox.env(), check=True)


def make_run(sandbox: Sandbox) -> float:
    """What `make run` runs once the environment and the manifest are ready, wall seconds.

    Without the exposure stages (dashboards, churn model): (a) compares Dagster's dbt work with
    `dbt build`, and (d) counts only generator and dbt time as work."""
    cmd = [sys.executable, "-m", "techflow_ops.run_all", "--skip-exposures"]
    return run_timed(cmd, sandbox.env())


def node_intervals(run_results: dict[str, Any]) -> list[tuple[float, float]]:
    """Each node's execution interval (epoch seconds) from a dbt run_results.json: dbt's own
    clock readings, whenever Dagster happens to record the events."""
    intervals = []
    for result in run_results.get("results", []):
        for phase in result.get("timing", []):
            if phase.get("name") == "execute" and phase.get("started_at"):
                started = datetime.fromisoformat(phase["started_at"]).timestamp()
                completed = datetime.fromisoformat(phase["completed_at"]).timestamp()
                intervals.append((started, completed))
    return intervals


def dbt_time_in_instance(dagster_home: Path) -> tuple[float, float, int]:
    """dbt node time of every dbt step a Dagster instance's runs ran, from each step's own
    run_results.json (the step logs its target folder, assets/dbt.py TARGET_FOLDER_LOG). Not the
    events' timestamps: the dbt step yields its events together, once the build is published.

    Returns (busy seconds: the union of node intervals on the wall clock; summed node seconds,
    which double-counts the threads; nodes)."""
    from dagster import DagsterInstance

    from techflow_orchestration.defs.warehouse.assets import TARGET_FOLDER_LOG

    intervals: list[tuple[float, float]] = []
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id):
                message = entry.user_message or ""
                if TARGET_FOLDER_LOG in message:
                    target = Path(message.split(TARGET_FOLDER_LOG, 1)[1].strip())
                    results = json.loads((target / "run_results.json").read_text())
                    intervals += node_intervals(results)
    return busy_seconds(intervals), sum(e - s for s, e in intervals), len(intervals)


def warehouse_rows_on(warehouse: Path, model: str, day: date) -> int:
    """Rows of a daily model on one day (its `date_day` column), read-only."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        schema = con.execute(
            "select table_schema from information_schema.tables where table_name = ?", [model]
        ).fetchone()
        if schema is None:
            raise RuntimeError(f"{warehouse} has no table {model}")
        query = f'select count(*) from "{schema[0]}"."{model}" where date_day = ?'
        return int(con.execute(query, [day]).fetchone()[0])


def raw_rows_on(raw_dir: Path, day: date) -> int:
    """Rows of every raw table's partition for one day: the data a daily run lands, read from
    the Parquet footers."""
    import polars as pl

    files = sorted(raw_dir.glob(f"*/*/date={day.isoformat()}/*.parquet"))
    if not files:
        raise RuntimeError(f"{raw_dir} holds no raw partition for {day}")
    # One scan per file: the tables' schemas differ.
    return sum(int(pl.scan_parquet(f).select(pl.len()).collect().item()) for f in files)


def day_before(day: date, days: int = 1) -> date:
    return day - timedelta(days=days)
