"""One warehouse writer at a time, whatever launched it, while readers hold the published file.

Why the `duckdb` pool alone was not enough: on SQLite instance storage two processes claiming its
one slot in the same instant can both get it (a SELECT of the free slot row, then an UPDATE by
id: both read the same row) — `make test` once failed that way, both `dagster asset
materialize` runs starting dbt in the same second. Every writer therefore also holds the writer
lock of the build file for its whole write + publish (publish.py, write_lock.py): the kernel's
lock has no such window. Critical sections are proven disjoint from the writers' own records:
each logs when it acquired the lock (after taking it) and when it releases it (before letting it
go), so an overlap would show as an acquisition logged before another writer's release.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterRunStatus

from techflow_core.paths import REPO_ROOT
from techflow_core.warehouse import build_warehouse_for
from techflow_orchestration.lib.keys import DUCKDB_POOL
from techflow_orchestration.lib.publish import LOCK_ACQUIRED, LOCK_RELEASING, DuckDBFilePublisher
from techflow_orchestration.lib.write_lock import exclusive
from tests.orchestration.conftest import PrivateWorld
from tests.orchestration.processes import STAGE_SCRIPT, WAIT_S, finish, start, wait_for

WRITERS = 4
ROUNDS = 6
WAITING = "Waiting for writer.lock"

# One writer: a write session adding a row (its name) to table t, published; every log line of
# the session printed with the machine's monotonic clock (CLOCK_MONOTONIC: one clock for every
# process on the machine).
WRITER = """
import sys, time, duckdb
from pathlib import Path
from techflow_orchestration.lib.publish import DuckDBFilePublisher
name, published, build = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
log = lambda message: print(time.monotonic_ns(), message, flush=True)
with DuckDBFilePublisher(published=published, build=build).writing(name, log) as write:
    with duckdb.connect(str(write.build_path)) as con:
        con.execute("create table if not exists t (writer varchar)")
        con.execute("insert into t values (?)", [name])
    write.publish()
"""

# A reader holding the published file open (read-only) until told to finish.
HELD_READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
query = sys.argv[2]
print("open", con.execute(query).fetchone()[0], flush=True)
sys.stdin.readline()
print("still", con.execute(query).fetchone()[0], flush=True)
"""


def _held_reader(published: Path, query: str) -> tuple[subprocess.Popen, str]:
    reader = subprocess.Popen(
        [sys.executable, "-c", HELD_READER, str(published), query],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    first = reader.stdout.readline().split()
    assert first[:1] == ["open"], first
    return reader, first[1]


def _release_reader(reader: subprocess.Popen) -> str:
    out, _ = reader.communicate("done\n", timeout=WAIT_S)
    assert reader.returncode == 0
    return out.split()[1]


def _sections(output: str) -> list[tuple[int, int]]:
    """(acquired, releasing) monotonic times of each session in a writer's output."""
    acquired = [int(line.split()[0]) for line in output.splitlines() if LOCK_ACQUIRED in line]
    released = [int(line.split()[0]) for line in output.splitlines() if LOCK_RELEASING in line]
    assert len(acquired) == len(released) == 1, output
    return list(zip(acquired, released, strict=True))


def _assert_disjoint(sections: list[tuple[float, float]]) -> None:
    ordered = sorted(sections)
    for (_, end), (start_next, _) in itertools.pairwise(ordered):
        assert end < start_next, f"two writers inside the lock at once: {ordered}"


def test_writers_started_at_the_same_moment_take_turns_and_all_publish(tmp_path):
    """WRITERS processes, ROUNDS times: each round they all queue on a lock the test holds
    (certain contention, not hoped for), are let go at the same moment, and race; with a
    reader holding the published file open throughout."""
    published = tmp_path / "warehouse" / "techflow.duckdb"
    build = build_warehouse_for(published)
    lock = DuckDBFilePublisher(published=published, build=build).writer_lock
    reader = None
    sections: list[tuple[int, int]] = []
    for round_ in range(ROUNDS):
        logs = [tmp_path / f"writer-{round_}-{n}.log" for n in range(WRITERS)]
        with exclusive(lock, "the test, holding every writer back"):
            writers = [
                start(
                    dict(os.environ),
                    ["-c", WRITER, f"w{round_}.{n}", str(published), str(build)],
                    log,
                )
                for n, log in enumerate(logs)
            ]
            for proc, log in zip(writers, logs, strict=True):
                wait_for(lambda log=log: WAITING in log.read_text(), "writer waiting", proc, log)
        # All released at once: they race for the lock.
        outputs = [finish(proc, log) for proc, log in zip(writers, logs, strict=True)]
        for output in outputs:
            sections += _sections(output)
        if reader is None:  # from the first published build on, a reader holds the file open
            reader, held = _held_reader(published, "select count(*) from t")
            assert held == str(WRITERS)
    _assert_disjoint(sections)
    assert _release_reader(reader) == str(WRITERS)  # its snapshot, never disturbed
    with duckdb.connect(str(published), read_only=True) as con:
        written = sorted(row[0] for row in con.execute("select writer from t").fetchall())
    assert written == sorted(f"w{r}.{n}" for r in range(ROUNDS) for n in range(WRITERS))


def _materialize(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    return start(
        env,
        ["-m", "dagster", "asset", "materialize", "-m", "techflow_orchestration.definitions",
         *args],
        log,
    )  # fmt: skip


def _logged_sections(world: PrivateWorld, run_id: str) -> list[tuple[float, float]]:
    """When the run's writer session acquired and released the lock, as it logged them."""
    acquired, released = [], []
    for record in world.instance.all_logs(run_id):
        if LOCK_ACQUIRED in (record.user_message or ""):
            acquired.append(record.timestamp)
        if LOCK_RELEASING in (record.user_message or ""):
            released.append(record.timestamp)
    assert len(acquired) == len(released) >= 1, run_id
    return list(zip(acquired, released, strict=True))


@pytest.mark.slow
def test_every_launcher_writes_in_turn_even_when_the_pool_lets_them_all_in(
    private_world: PrivateWorld, tmp_path: Path
):
    """`dagster asset materialize` twice and `make run`'s build run, at the same moment, with
    the pool widened to three slots (what the SQLite race did by accident) and a reader holding
    the published warehouse open: all three queue on the writer lock, then write one after
    another, and all succeed; the reader is never disturbed."""
    world = private_world
    world.instance.event_log_storage.set_concurrency_slots(DUCKDB_POOL, 3)
    days = world.partition_keys
    rows_query = "select count(*) from finance.fct_mrr_daily"
    reader, rows = _held_reader(world.settings.warehouse, rows_query)
    before = {r.run_id for r in world.instance.get_runs()}
    lock = DuckDBFilePublisher.from_settings(world.settings).writer_lock
    logs = [tmp_path / name for name in ("fct_mrr_daily.log", "dim_customers.log", "stage.log")]
    with exclusive(lock, "the test, holding every writer back"):
        launches = [
            _materialize(world.env, logs[0], "--select", "fct_mrr_daily", "--partition", days[-2]),
            _materialize(world.env, logs[1], "--select", "dim_customers"),
            start(world.env, ["-c", STAGE_SCRIPT, days[-3]], logs[2]),
        ]
        for proc, log in zip(launches, logs, strict=True):
            wait_for(lambda log=log: WAITING in log.read_text(), "a waiting writer", proc, log)
    for proc, log in zip(launches, logs, strict=True):
        output = finish(proc, log)
        assert "Could not set lock" not in output and "Conflicting lock" not in output
    runs = [r for r in world.instance.get_runs() if r.run_id not in before]
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 3
    _assert_disjoint([s for run in runs for s in _logged_sections(world, run.run_id)])
    assert _release_reader(reader) == rows  # read throughout, from its own snapshot
    assert world.query(rows_query) == [(int(rows),)]  # the rebuilt days equal what they were


def test_the_lock_is_freed_by_the_kernel_when_its_holder_is_killed(tmp_path):
    """No stale lock after a kill -9: the next writer gets it without anyone cleaning up."""
    lock = tmp_path / "writer.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from techflow_orchestration.lib.write_lock import exclusive\n"
            "with exclusive(Path(sys.argv[1]), 'doomed'):\n"
            "    print('held', flush=True); time.sleep(3600)\n",
            str(lock),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        fd = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # held
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            holder.kill()
            holder.wait(timeout=WAIT_S)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free at once: no cleanup needed
        finally:
            os.close(fd)
    finally:
        holder.kill()
        holder.wait()
