"""Defaults from the environment, the CLI's options and its summary."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from data_generation import InvalidInputError, WorldConfig, default_end_date, generate_day
from data_generation.cli import main


def test_from_env_reads_the_data_dir_and_world_start(monkeypatch, tmp_path):
    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TECHFLOW_WORLD_START", "2024-06-01")
    cfg = WorldConfig.from_env(scale=0.5)
    assert cfg.out_dir == tmp_path / "raw"
    assert cfg.start == dt.date(2024, 6, 1)
    assert cfg.scale == 0.5


def test_a_malformed_world_start_is_named(monkeypatch):
    monkeypatch.setenv("TECHFLOW_WORLD_START", "01/06/2024")
    with pytest.raises(InvalidInputError, match=r"TECHFLOW_WORLD_START.*YYYY-MM-DD"):
        WorldConfig.from_env()


def test_the_default_end_is_yesterday_utc():
    assert default_end_date() == dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def test_nothing_lands_in_the_future_and_yesterday_is_fresh(tmp_path):
    """With the default end (yesterday), every _loaded_at is in the past and the newest is
    less than 26 hours old, so source freshness passes right after a run."""
    end = default_end_date()
    cfg = WorldConfig(start=end - dt.timedelta(days=30), scale=0.2, out_dir=tmp_path)
    generate_day(cfg, end)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    files = f"{tmp_path}/*/*/*/*.parquet"
    with duckdb.connect() as con:
        query = f"select max(_loaded_at) from read_parquet('{files}', union_by_name=true)"
        newest = con.execute(query).fetchone()[0]
    assert now - dt.timedelta(hours=26) < newest < now


def test_cli_writes_the_chosen_tables_and_prints_a_summary(tmp_path, capsys):
    code = main(
        ["--start", "2025-03-01", "--end", "2025-03-03", "--scale", "0.1", "--seed", "4",
         "--out", str(tmp_path), "--tables", "users,marketing.ad_spend", "--no-dirt"]
    )  # fmt: skip
    assert code == 0
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet"))
    assert written == [
        f"{system}/{table}/date=2025-03-0{d}/part-0.parquet"
        for system, table in (("app_db", "users"), ("marketing", "ad_spend"))
        for d in (1, 2, 3)
    ]
    captured = capsys.readouterr()
    assert "app_db.users" in captured.out and "marketing.ad_spend" in captured.out
    assert "6 files" in captured.out
    assert captured.err == "", "no progress bar when stderr is not a terminal"


def test_cli_quiet_prints_nothing(tmp_path, capsys):
    argv = ["--start", "2025-03-01", "--end", "2025-03-01", "--scale", "0.1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
