"""Defaults from the environment, the CLI's options and its summary."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from data_generation import (
    AS_OF_ENV,
    WorldConfig,
    as_of_date,
    default_end_date,
    generate_day,
)
from data_generation.cli import main
from techflow_core.clock import yesterday_utc
from techflow_core.errors import SettingsError


def test_from_env_reads_the_data_dir_and_world_start(monkeypatch, tmp_path):
    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TECHFLOW_WORLD_START", "2024-06-01")
    cfg = WorldConfig.from_env(scale=0.5)
    assert cfg.out_dir == tmp_path / "raw"
    assert cfg.start == dt.date(2024, 6, 1)
    assert cfg.scale == 0.5


def test_a_malformed_world_start_is_named(monkeypatch):
    monkeypatch.setenv("TECHFLOW_WORLD_START", "01/06/2024")
    with pytest.raises(SettingsError, match=r"TECHFLOW_WORLD_START.*YYYY-MM-DD"):
        WorldConfig.from_env()


AS_OF = dt.date(2026, 6, 14)  # a fixed as-of day: no test here reads the wall clock


def test_the_default_end_is_the_as_of_day(monkeypatch):
    monkeypatch.setenv(AS_OF_ENV, AS_OF.isoformat())
    assert AS_OF_ENV == "TECHFLOW_AS_OF"
    assert default_end_date() == AS_OF
    assert as_of_date({AS_OF_ENV: "2025-02-28"}) == dt.date(2025, 2, 28)


@pytest.mark.parametrize(
    ("now", "yesterday"),
    [
        (dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC), dt.date(2026, 6, 14)),
        (dt.datetime(2026, 6, 15, 23, 59, 59, 999999, tzinfo=dt.UTC), dt.date(2026, 6, 14)),
        (dt.datetime(2026, 6, 15, 0, 0, 0, tzinfo=dt.UTC), dt.date(2026, 6, 14)),
        (dt.datetime(2026, 3, 1, 0, 0, 0, tzinfo=dt.UTC), dt.date(2026, 2, 28)),
        (dt.datetime(2025, 1, 1, 0, 0, 0, tzinfo=dt.UTC), dt.date(2024, 12, 31)),
        # 01:30 in UTC+2 is still the day before in UTC
        (dt.datetime(2026, 6, 15, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
         dt.date(2026, 6, 13)),
    ],
)  # fmt: skip
def test_unset_the_as_of_day_is_yesterday_utc(now, yesterday):
    assert yesterday_utc(now=now) == yesterday


@pytest.mark.parametrize("raw", ["14/06/2026", "2026-13-01", "yesterday"])
def test_an_invalid_as_of_day_is_named(monkeypatch, raw):
    monkeypatch.setenv(AS_OF_ENV, raw)
    with pytest.raises(SettingsError, match=r"TECHFLOW_AS_OF.*YYYY-MM-DD"):
        default_end_date()


def test_the_cli_rejects_an_invalid_as_of_day_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(AS_OF_ENV, "14/06/2026")
    out = tmp_path / "raw"
    assert main(["--start", "2026-06-01", "--scale", "0.1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "TECHFLOW_AS_OF" in err
    assert not out.exists()


def test_the_cli_ends_on_the_as_of_day(monkeypatch, tmp_path):
    monkeypatch.setenv(AS_OF_ENV, AS_OF.isoformat())
    start = AS_OF - dt.timedelta(days=1)
    argv = ["--start", str(start), "--scale", "0.05", "--tables", "ad_spend", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    days = sorted(p.name for p in (tmp_path / "marketing" / "ad_spend").iterdir())
    assert days == [f"date={start}", f"date={AS_OF}"]


def test_nothing_lands_after_the_as_of_day_and_it_is_fresh(monkeypatch, tmp_path):
    """With the default end (the as-of day), every _loaded_at is before the end of that day and
    the newest is less than 26 hours older than it, so source freshness passes right after a
    run."""
    monkeypatch.setenv(AS_OF_ENV, AS_OF.isoformat())
    end = default_end_date()
    cfg = WorldConfig(start=end - dt.timedelta(days=30), scale=0.2, out_dir=tmp_path)
    generate_day(cfg, end)
    clock = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())  # end of the as-of day
    files = f"{tmp_path}/*/*/*/*.parquet"
    with duckdb.connect() as con:
        query = f"select max(_loaded_at) from read_parquet('{files}', union_by_name=true)"
        newest = con.execute(query).fetchone()[0]
    assert clock - dt.timedelta(hours=26) < newest < clock


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
