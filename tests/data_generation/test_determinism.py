"""Determinism, prefix consistency and atomic, idempotent rewrites of a day."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data_generation import RAW_TABLES, WorldConfig, generate_day, generate_range
from data_generation.extracts.frames import Day
from data_generation.generate import BLOCK_DAYS, BUILDERS
from data_generation.seeds import DEFAULT_SEEDS_DIR
from data_generation.simulation.world import build_world

START = dt.date(2025, 1, 1)


def _bytes_by_file(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_same_arguments_give_identical_bytes(tmp_path):
    for name in ("a", "b"):
        cfg = WorldConfig(start=START, scale=0.2, seed=5, out_dir=tmp_path / name)
        generate_range(cfg, START + dt.timedelta(days=40), START + dt.timedelta(days=44))
    first, second = _bytes_by_file(tmp_path / "a"), _bytes_by_file(tmp_path / "b")
    assert len(first) == 5 * len(RAW_TABLES)
    assert first == second


def test_worker_processes_write_the_same_bytes_as_one_process(tmp_path):
    """A parallel range (blocks of days on spawned workers) writes the files one process would,
    and reports them in day order."""
    last = START + dt.timedelta(days=2 * BLOCK_DAYS + 5)  # three blocks: every worker gets one
    results = {}
    for workers in (1, 2):
        cfg = WorldConfig(start=START, scale=0.1, seed=5, out_dir=tmp_path / str(workers))
        results[workers] = generate_range(cfg, START, last, workers=workers)
    assert _bytes_by_file(tmp_path / "1") == _bytes_by_file(tmp_path / "2")
    assert [(r.table, r.day, r.rows) for r in results[1]] == [
        (r.table, r.day, r.rows) for r in results[2]
    ]


def test_a_different_seed_gives_a_different_world(tmp_path):
    day = START + dt.timedelta(days=30)
    for seed in (1, 2):
        cfg = WorldConfig(start=START, scale=0.2, seed=seed, out_dir=tmp_path / str(seed))
        generate_day(cfg, day, tables=["users"])
    assert _bytes_by_file(tmp_path / "1") != _bytes_by_file(tmp_path / "2")


def test_a_day_alone_equals_the_same_day_inside_a_range(tmp_path):
    """Prefix consistency: a daily partition and a backfill write the same files for a day."""
    day = START + dt.timedelta(days=55)
    alone = WorldConfig(start=START, scale=0.3, seed=9, out_dir=tmp_path / "alone")
    ranged = dataclasses.replace(alone, out_dir=tmp_path / "ranged")
    generate_day(alone, day)
    # The range reaches further ahead, so it is simulated to a later horizon than the day alone.
    generate_range(ranged, day - dt.timedelta(days=3), day + dt.timedelta(days=12))
    alone_files = _bytes_by_file(tmp_path / "alone")
    ranged_files = _bytes_by_file(tmp_path / "ranged")
    assert len(alone_files) == len(RAW_TABLES)
    for name, content in alone_files.items():
        assert ranged_files[name] == content, name


def test_rewriting_a_day_is_idempotent(tmp_path):
    cfg = WorldConfig(start=START, scale=0.2, seed=3, out_dir=tmp_path)
    day = START + dt.timedelta(days=20)
    generate_day(cfg, day)
    before = _bytes_by_file(tmp_path)
    results = generate_day(cfg, day)
    assert _bytes_by_file(tmp_path) == before
    assert {r.table for r in results} == {p.split("/")[1] for p in before}
    assert all(r.path.stat().st_size == r.bytes for r in results)


def test_a_crash_while_writing_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    cfg = WorldConfig(start=START, scale=0.2, seed=3, out_dir=tmp_path)
    day = START + dt.timedelta(days=20)
    [result] = generate_day(cfg, day, tables=["usage_events"])
    before = result.path.read_bytes()

    def crash(self, file, *args, **kwargs):
        Path(file).write_bytes(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        generate_day(cfg, day, tables=["usage_events"])
    assert result.path.read_bytes() == before
    assert [p.name for p in result.path.parent.iterdir()] == ["part-0.parquet"], "temp file removed"


@pytest.mark.parametrize("table", sorted(BUILDERS))
def test_a_day_does_not_depend_on_how_far_ahead_the_world_was_simulated(table):
    """A world simulated a year further ahead writes exactly the same rows for an early day."""
    near = build_world(13, 0.5, START, True, DEFAULT_SEEDS_DIR, horizon=127)
    far = build_world(13, 0.5, START, True, DEFAULT_SEEDS_DIR, horizon=127 + 384)
    for offset in (30, 110):
        day = START + dt.timedelta(days=offset)
        expected = BUILDERS[table](near, Day.of(near, day))
        actual = BUILDERS[table](far, Day.of(far, day))
        assert_frame_equal(actual, expected)
