"""Write-audit-publish on DuckDB files (techflow_orchestration.lib.publish), with real processes.

Readers open the published file read-only; writers build in a private file and publish it by an
atomic rename. So a reader holding the published file open never blocks or fails a writer, and
keeps its snapshot until it reconnects; an unaudited or unfinished build never reaches readers;
and every build starts from the last audited state, even after its writer was killed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_common.context import set_invocation_context

from techflow_core.paths import REPO_ROOT
from techflow_core.settings import TechflowSettings
from techflow_core.warehouse import build_warehouse_for
from techflow_orchestration.lib.publish import (
    LOCK_ACQUIRED,
    DuckDBFilePublisher,
    PublishReport,
    copy_file,
)
from tests.support import AS_OF, environment

WAIT_S = 60  # bound on any one process step; each takes well under a second


def _publisher(tmp_path: Path) -> DuckDBFilePublisher:
    published = tmp_path / "warehouse" / "techflow.duckdb"
    return DuckDBFilePublisher(published=published, build=build_warehouse_for(published))


def _count(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*) from t").fetchone()[0]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_rows(publisher: DuckDBFilePublisher, rows: int, *, publish: bool = True) -> list[str]:
    """One writer session adding `rows` rows to table t; its log lines."""
    lines: list[str] = []
    with publisher.writing("test writer", lines.append) as write:
        with duckdb.connect(str(write.build_path)) as con:
            con.execute("create table if not exists t (v integer)")
            con.execute("insert into t select range from range(?)", [rows])
        if publish:
            report = write.publish()
            assert isinstance(report, PublishReport) and report.bytes > 0
    return lines


# A reader in its own process: opens the published file read-only, reports the row count, waits
# for a line on stdin (the test's signal), reports again on the same connection, reconnects and
# reports a third time.
READER = """
import sys, duckdb
path = sys.argv[1]
con = duckdb.connect(path, read_only=True)
count = lambda c: c.execute("select count(*) from t").fetchone()[0]
print(count(con), flush=True)
sys.stdin.readline()
print(count(con), flush=True)
con.close()
print(count(duckdb.connect(path, read_only=True)), flush=True)
"""


def test_a_reader_holding_the_published_file_never_blocks_a_build_and_keeps_its_snapshot(
    tmp_path,
):
    publisher = _publisher(tmp_path)
    _write_rows(publisher, 3)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(publisher.published)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "3"  # it holds the file open now
        _write_rows(publisher, 5)  # build + publish with the reader's connection open
        assert _count(publisher.published) == 8  # a new reader sees the new build
        out, _ = reader.communicate("go\n", timeout=WAIT_S)
    finally:
        reader.kill()
        reader.wait()
    # The held connection kept reading the file it opened, unharmed; reopened, the new one.
    assert out.split() == ["3", "8"]
    assert reader.returncode == 0


def test_a_build_in_progress_never_fails_a_reader(tmp_path):
    publisher = _publisher(tmp_path)
    _write_rows(publisher, 2)
    with publisher.writing("a long build", print) as write:
        with duckdb.connect(str(write.build_path)) as con:  # the writer holds the build file
            con.execute("insert into t values (42)")
            reader = subprocess.run(
                [sys.executable, "-c", READER, str(publisher.published)],
                input="go\n",
                capture_output=True,
                text=True,
                timeout=WAIT_S,
            )
        write.discard()
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["2", "2", "2"]  # the last audited build, unchanged


def test_a_discarded_build_publishes_nothing_and_the_build_file_is_reset(tmp_path):
    publisher = _publisher(tmp_path)
    _write_rows(publisher, 4)
    before = _sha256(publisher.published)

    lines = _write_rows(publisher, 100, publish=False)  # the session ends undecided: discarded

    assert _sha256(publisher.published) == before
    assert _sha256(publisher.build) == before  # the next build starts from the audited state
    assert not publisher.unpublished_mark.exists()
    assert not publisher.build.with_name(publisher.build.name + ".wal").exists()
    assert any("Not published" in line for line in lines)


def test_an_exception_while_building_publishes_nothing(tmp_path):
    publisher = _publisher(tmp_path)
    _write_rows(publisher, 4)
    with pytest.raises(RuntimeError, match="dbt exploded"), publisher.writing("w", print) as write:
        with duckdb.connect(str(write.build_path)) as con:
            con.execute("insert into t values (1)")
        raise RuntimeError("dbt exploded")
    assert _count(publisher.published) == 4
    assert _count(publisher.build) == 4


# A writer killed (SIGKILL, by itself) after committing unaudited rows to the build file.
KILLED_WRITER = """
import os, signal, sys, duckdb
from pathlib import Path
from techflow_orchestration.lib.publish import DuckDBFilePublisher
publisher = DuckDBFilePublisher(published=Path(sys.argv[1]), build=Path(sys.argv[2]))
with publisher.writing("doomed writer", print) as write:
    con = duckdb.connect(str(write.build_path))
    con.execute("insert into t select range from range(1000)")  # committed, maybe in the WAL
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_build_left_by_a_killed_writer_is_reset_before_the_next_build(tmp_path):
    publisher = _publisher(tmp_path)
    _write_rows(publisher, 4)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(publisher.published), str(publisher.build)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert publisher.unpublished_mark.exists()  # the session never finished
    assert _count(publisher.published) == 4  # and published nothing

    lines = _write_rows(publisher, 1)

    assert any("never finished" in line and "doomed writer" in line for line in lines), lines
    assert _count(publisher.published) == 5  # the 4 audited rows + this build's 1, not 1,005


def test_the_first_build_starts_from_an_existing_published_warehouse(tmp_path):
    """A warehouse from before write-audit-publish (or a copied one) is where building resumes."""
    publisher = _publisher(tmp_path)
    publisher.published.parent.mkdir(parents=True)
    with duckdb.connect(str(publisher.published)) as con:
        con.execute("create table t as select 7 as v")
    _write_rows(publisher, 2)
    assert _count(publisher.published) == 3


def test_a_session_logs_its_critical_section_and_the_lock_it_waited_for(tmp_path):
    from techflow_orchestration.lib.write_lock import exclusive

    publisher = _publisher(tmp_path)
    waiter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path\n"
            "from techflow_orchestration.lib.publish import DuckDBFilePublisher\n"
            "p = DuckDBFilePublisher(published=Path(sys.argv[1]), build=Path(sys.argv[2]))\n"
            "with p.writing('second writer', lambda m: print(m, flush=True)) as w:\n"
            "    w.discard()\n",
            str(publisher.published),
            str(publisher.build),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        with exclusive(publisher.writer_lock, "first writer (the test)"):
            first = waiter.stdout.readline()  # blocks until the waiter reports it waits
            assert "Waiting for writer.lock" in first and "first writer (the test)" in first
        rest, _ = waiter.communicate(timeout=WAIT_S)
    finally:
        waiter.kill()
        waiter.wait()
    assert waiter.returncode == 0
    assert LOCK_ACQUIRED in rest and "second writer" in rest


def test_copy_file_copies_every_byte(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 << 20) + b"tail")
    assert copy_file(source, tmp_path / "copy.bin") == source.stat().st_size
    assert _sha256(tmp_path / "copy.bin") == _sha256(source)


def _rendered_profile_paths() -> dict[str, str]:
    """techflow_dbt/profiles.yml's DuckDB paths, rendered by dbt from this process's env."""
    from dbt.config.profile import read_profile
    from dbt.config.renderer import ProfileRenderer

    set_invocation_context(os.environ)
    outputs = read_profile(str(REPO_ROOT / "techflow_dbt"))["techflow"]["outputs"]
    rendered = ProfileRenderer({}).render_data(outputs)
    return {name: target["path"] for name, target in rendered.items() if "path" in target}


def test_dbt_builds_where_the_publisher_builds_and_readers_read_the_published_file(
    tmp_path, monkeypatch
):
    """The profile (plain dbt) and the settings (Python) derive the same build file, also from
    a relative TECHFLOW_DATA_DIR: exported as an absolute path, dbt (which runs from
    techflow_dbt/) cannot land on another file."""
    monkeypatch.chdir(tmp_path)
    overrides = {"TECHFLOW_DATA_DIR": "relative_data", "TECHFLOW_AS_OF": AS_OF.isoformat()}
    with environment(overrides):
        os.environ.pop("TECHFLOW_WAREHOUSE", None)
        os.environ.pop("TECHFLOW_BUILD_WAREHOUSE", None)
        settings = TechflowSettings.from_env()
        settings.export_to_environment()
        assert os.environ["TECHFLOW_DATA_DIR"] == str(tmp_path / "relative_data")
        paths = _rendered_profile_paths()
    assert settings.warehouse == tmp_path / "relative_data" / "warehouse" / "techflow.duckdb"
    assert paths["prod"] == str(settings.build_warehouse)
    assert paths["published"] == str(settings.warehouse)
    assert paths["dev"] == str(settings.warehouse.with_name("dev_techflow.duckdb"))
    assert settings.build_warehouse.name == settings.warehouse.name  # same DuckDB catalog


def test_the_build_file_cannot_be_the_published_one(tmp_path):
    published = tmp_path / "techflow.duckdb"
    with pytest.raises(ValueError, match="TECHFLOW_BUILD_WAREHOUSE and TECHFLOW_WAREHOUSE name"):
        TechflowSettings.from_env(
            {
                "TECHFLOW_WAREHOUSE": str(published),
                "TECHFLOW_BUILD_WAREHOUSE": str(published),
                "TECHFLOW_AS_OF": AS_OF.isoformat(),
            }
        )


# --- a failed audit, end to end through Dagster -----------------------------------------------

UNKNOWN_PLAN = "bogus_plan_monthly"


def _land_a_subscription_on_an_unknown_plan(raw_dir: Path, day: str, keep: Path) -> Path:
    """A real row of the subscriptions extract, landed in the day's file as a new subscription
    on a plan the catalog does not have; the original file is copied to `keep` first."""
    import polars as pl

    path = raw_dir / "app_db" / "subscriptions" / f"date={day}" / "part-0.parquet"
    shutil.copy(path, keep)
    any_row = pl.read_parquet(sorted(raw_dir.glob("app_db/subscriptions/*/part-0.parquet"))[0])
    bogus = any_row.head(1).with_columns(
        pl.lit(UNKNOWN_PLAN).alias("plan_id"),
        (pl.col("subscription_id") + 10_000_000).alias("subscription_id"),
    )
    pl.concat([pl.read_parquet(path), bogus]).write_parquet(path)
    return path


@pytest.mark.slow
def test_a_build_failing_its_audit_is_not_published_and_its_partitions_show_failed(
    private_world, tmp_path
):
    """int_subscription_versions merges the day's rows, then its plan test fails: dbt has
    committed unaudited rows to the build file. Nothing reaches the published file, the build
    file is reset to it, both incrementals' partitions show failed; once the raw data is fixed,
    the next run of the partition builds it to exactly the rows it had."""
    from dagster import AssetKey, AssetPartitionStatus

    from techflow_orchestration.defs.warehouse.assets import TARGET_FOLDER_LOG
    from techflow_orchestration.lib.keys import MRR_PARTITIONED_KEYS

    world = private_world
    publisher = DuckDBFilePublisher.from_settings(world.settings)
    day = world.partition_keys[-1]
    mrr_rows = f"select * from finance.fct_mrr_daily where date_day = '{day}' order by all"
    rows_before = world.query(mrr_rows)
    published_before = _sha256(world.settings.warehouse)
    original = tmp_path / "original.parquet"
    raw_file = _land_a_subscription_on_an_unknown_plan(world.settings.raw_dir, day, original)

    # The staging view is rebuilt too: the copied warehouse's views still read the session
    # world's raw files (their paths are absolute), this world's corrupted file only once rebuilt.
    selection = [AssetKey("stg_app_db__subscription_versions"), *MRR_PARTITIONED_KEYS]
    failed = world.run_partition(day, selection)

    assert not failed.success
    # dbt did merge the day's rows into the build file before the test failed them...
    [target] = [
        Path(r.user_message.split(TARGET_FOLDER_LOG)[1])
        for r in world.instance.all_logs(failed.run_id)
        if TARGET_FOLDER_LOG in (r.user_message or "")
    ]
    statuses = {
        r["unique_id"]: r["status"]
        for r in json.loads((target / "run_results.json").read_text())["results"]
    }
    assert statuses["model.techflow.int_subscription_versions"] == "success"
    failing = [node for node, status in statuses.items() if status == "fail"]
    assert any("relationships_int_subscription_versions_plan_id" in n for n in failing)
    # ...and none of it was published; the build file is back to the audited state.
    assert _sha256(world.settings.warehouse) == published_before
    assert _sha256(publisher.build) == published_before
    assert not publisher.unpublished_mark.exists()
    failure = "\n".join(
        r.dagster_event.step_failure_data.error.message
        for r in world.instance.all_logs(failed.run_id)
        if r.dagster_event is not None and r.dagster_event.is_step_failure
    )
    assert "nothing was published" in failure and "int_subscription_versions_plan_id" in failure
    partitions_def = world_partitions(world)
    for key in MRR_PARTITIONED_KEYS:
        status = world.instance.get_status_by_partition(key, [day], partitions_def)
        assert status[day] == AssetPartitionStatus.FAILED, key

    # Fixed at the source, the next run of the day converges to what was there.
    shutil.copy(original, raw_file)
    assert world.run_partition(day, selection).success
    assert world.query(mrr_rows) == rows_before
    bogus = "select count(*) from intermediate.int_subscription_versions where plan_id = ?"
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as con:
        assert con.execute(bogus, [UNKNOWN_PLAN]).fetchone() == (0,)
    for key in MRR_PARTITIONED_KEYS:
        status = world.instance.get_status_by_partition(key, [day], partitions_def)
        assert status[day] == AssetPartitionStatus.MATERIALIZED, key


def world_partitions(world):
    from techflow_orchestration.lib.partitions import daily_partitions

    return daily_partitions(world.settings.world_start, world.settings.last_partition_day)
