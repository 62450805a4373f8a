"""One clock for the code location: TECHFLOW_AS_OF decides the settings' as-of day, where the
daily partitions end, the day every dbt step of a run uses, what `make run` builds up to and
which day the summary reports. Every date here is fixed; nothing reads the wall clock (the
default "yesterday" is replaced by a fixed day where a test needs it)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import techflow_core.clock
from techflow_core.clock import AS_OF_ENV
from techflow_core.settings import TechflowSettings
from techflow_ops.run_all import check_partitions_reach
from techflow_ops.summary import (
    ProductMrr,
    WarehouseSummary,
    format_summary,
    read_summary,
)
from techflow_orchestration.lib.partitions import daily_partitions
from techflow_orchestration.lib.run_context import run_as_of
from tests.support import AS_OF

WORLD_START = date(2026, 6, 1)
# What "yesterday" is in the tests that need the default: a fixed day, not the wall clock.
DEFAULT_DAY = date(2026, 7, 1)


def at(day: date, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=UTC)


@pytest.fixture
def fixed_yesterday(monkeypatch: pytest.MonkeyPatch) -> date:
    """The clock's default (yesterday, UTC) pinned to DEFAULT_DAY for this test."""
    monkeypatch.setattr(techflow_core.clock, "yesterday_utc", lambda now=None: DEFAULT_DAY)
    return DEFAULT_DAY


def env(**extra: str) -> dict[str, str]:
    """A settings environment as a plain dict (never os.environ)."""
    return {"TECHFLOW_DATA_DIR": "/srv/techflow", "TECHFLOW_WORLD_START": "2026-06-01", **extra}


# --- settings ---------------------------------------------------------------------------------


def test_settings_take_the_as_of_day_from_techflow_as_of():
    settings = TechflowSettings.from_env(env(TECHFLOW_AS_OF="2026-06-14"))
    assert settings.as_of == AS_OF
    assert settings.as_of_pinned
    assert settings.last_partition_day == AS_OF


def test_settings_without_techflow_as_of_default_to_yesterday_and_stay_open_ended(
    fixed_yesterday,
):
    settings = TechflowSettings.from_env(env())
    assert settings.as_of == fixed_yesterday
    assert not settings.as_of_pinned
    assert settings.last_partition_day is None  # Dagster's own clock decides


def test_a_malformed_as_of_names_the_variable_and_the_format():
    with pytest.raises(ValueError, match=r"TECHFLOW_AS_OF='14/06/2026' is not a date.*YYYY-MM-DD"):
        TechflowSettings.from_env(env(TECHFLOW_AS_OF="14/06/2026"))


def test_an_as_of_day_before_the_world_start_is_refused():
    with pytest.raises(ValueError, match=r"2026-05-31 .*before the world's first day 2026-06-01"):
        TechflowSettings.from_env(env(TECHFLOW_AS_OF="2026-05-31"))


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables export_to_environment writes, unset; restored after the test."""
    for name in ("TECHFLOW_DATA_DIR", "TECHFLOW_WAREHOUSE", "TECHFLOW_WORLD_START", AS_OF_ENV):
        # Set first, so monkeypatch records the variable and removes what the test exports even
        # when it was unset before (delenv of an absent variable records nothing: it leaked).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_export_pins_a_pinned_as_of_day_and_keeps_what_the_user_chose(clean_environment):
    settings = TechflowSettings.from_env(env(TECHFLOW_AS_OF="2026-06-14"))
    settings.export_to_environment()
    assert os.environ[AS_OF_ENV] == "2026-06-14"
    assert os.environ["TECHFLOW_WORLD_START"] == "2026-06-01"

    os.environ[AS_OF_ENV] = "2026-06-10"
    settings.export_to_environment()  # setdefault: an existing value wins
    assert os.environ[AS_OF_ENV] == "2026-06-10"


def test_export_never_freezes_the_default_yesterday(clean_environment, fixed_yesterday):
    """A long-lived code server (`make dev`) would otherwise keep one "yesterday" for days."""
    TechflowSettings.from_env(env()).export_to_environment()
    assert AS_OF_ENV not in os.environ
    assert os.environ["TECHFLOW_DATA_DIR"] == "/srv/techflow"


# --- partitions -------------------------------------------------------------------------------


def test_pinned_partitions_end_on_the_as_of_day_whenever_dagster_looks():
    partitions = daily_partitions(WORLD_START, AS_OF)
    for now in (at(AS_OF + timedelta(days=1), 0, 0, 1), at(AS_OF + timedelta(days=400))):
        keys = partitions.get_partition_keys(current_time=now)
        assert keys[0] == "2026-06-01"
        assert keys[-1] == "2026-06-14"
        assert len(keys) == 14


def test_pinned_partitions_still_wait_for_the_as_of_day_to_end():
    """Dagster caps an end date by its own clock: at 23:59:30 on the as-of day it is not there."""
    partitions = daily_partitions(WORLD_START, AS_OF)
    keys = partitions.get_partition_keys(current_time=at(AS_OF, 23, 59, 30))
    assert keys[-1] == "2026-06-13"


def test_open_ended_partitions_end_yesterday_by_dagsters_clock_and_move_at_midnight():
    partitions = daily_partitions(WORLD_START)
    assert partitions.end is None
    sunday_night = at(AS_OF, 23, 59, 30)
    monday = at(AS_OF + timedelta(days=1), 0, 0, 30)
    assert partitions.get_partition_keys(current_time=sunday_night)[-1] == "2026-06-13"
    assert partitions.get_partition_keys(current_time=monday)[-1] == "2026-06-14"


def test_the_code_location_uses_the_settings_as_of_day_for_its_partitions():
    pinned = TechflowSettings.from_env(env(TECHFLOW_AS_OF="2026-06-14"))
    assert daily_partitions(pinned.world_start, pinned.last_partition_day).end == at(
        AS_OF + timedelta(days=1)
    )


# --- make run: the partitions must reach the as-of day ----------------------------------------


class _Job:
    def __init__(self, partitions_def):
        self.partitions_def = partitions_def


class _Defs:
    """Just what check_partitions_reach reads from Definitions."""

    def __init__(self, partitions_def):
        self._job = _Job(partitions_def)

    def resolve_job_def(self, name: str) -> _Job:
        return self._job


def test_make_run_accepts_partitions_that_end_on_the_as_of_day():
    defs = _Defs(daily_partitions(WORLD_START, AS_OF))
    check_partitions_reach(defs, AS_OF, current_time=at(AS_OF + timedelta(days=3)))


def test_make_run_refuses_an_as_of_day_that_has_not_ended_and_says_why():
    defs = _Defs(daily_partitions(WORLD_START, AS_OF))
    with pytest.raises(SystemExit, match="TECHFLOW_AS_OF=2026-06-14 has not ended yet") as exc:
        check_partitions_reach(defs, AS_OF, current_time=at(AS_OF, 23, 59, 30))
    assert "its last one is 2026-06-13" in str(exc.value)


# --- the as-of day of a Dagster run's dbt steps -----------------------------------------------


def test_a_run_uses_techflow_as_of_when_it_is_set():
    created = at(AS_OF + timedelta(days=30), 12)
    assert run_as_of({AS_OF_ENV: "2026-06-14"}, created) == AS_OF


def test_a_run_without_techflow_as_of_keeps_the_day_before_it_was_created():
    """Every step of a run created at 23:59:59 uses the same day, after midnight too."""
    assert run_as_of({}, at(AS_OF + timedelta(days=1), 23, 59, 59)) == AS_OF
    assert run_as_of({}, at(AS_OF + timedelta(days=1), 0, 0, 0)) == AS_OF
    assert run_as_of({AS_OF_ENV: " "}, at(AS_OF + timedelta(days=1), 0, 30)) == AS_OF


# --- the summary ------------------------------------------------------------------------------


def _settings(tmp_path: Path) -> TechflowSettings:
    return TechflowSettings(
        data_dir=tmp_path,
        warehouse=tmp_path / "warehouse.duckdb",
        world_start=WORLD_START,
        as_of=AS_OF,
    )


def _warehouse(path: Path, days: list[date]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema finance")
        con.execute(
            "create table finance.fct_mrr_daily "
            "(date_day date, customer_id bigint, product varchar, mrr decimal(18, 2))"
        )
        for day in days:
            con.execute(
                "insert into finance.fct_mrr_daily values (?, 1, 'CloudSync', 100), "
                "(?, 2, 'CloudSync', 0), (?, 3, 'DataHub', 49.5)",
                [day, day, day],
            )


def test_the_summary_reports_mrr_on_the_as_of_day_not_the_tables_last_day(tmp_path):
    settings = _settings(tmp_path)
    # Rows after the as-of day (a warehouse built further) must not be what is reported.
    _warehouse(settings.warehouse, [AS_OF - timedelta(days=1), AS_OF, AS_OF + timedelta(days=1)])
    summary = read_summary(settings)
    assert summary.mrr_day == AS_OF
    assert summary.mrr_by_product == [
        ProductMrr("CloudSync", Decimal("100.00"), 1),
        ProductMrr("DataHub", Decimal("49.50"), 1),
    ]
    text = format_summary(summary, settings)
    assert "MRR and ARR by product on 2026-06-14 (the as-of day, TECHFLOW_AS_OF):" in text
    assert "MRR $        149.50   ARR $        1,794.00" in text


def test_the_summary_says_so_when_the_as_of_day_has_no_mrr_rows(tmp_path):
    settings = _settings(tmp_path)
    _warehouse(settings.warehouse, [AS_OF - timedelta(days=2)])
    summary = read_summary(settings)
    assert summary.mrr_by_product == []
    text = format_summary(summary, settings)
    assert "fct_mrr_daily has no rows for 2026-06-14 (its last day is 2026-06-12)" in text
    assert "total" not in text


def test_the_summary_of_an_empty_fct_mrr_daily_says_it_is_empty(tmp_path):
    settings = _settings(tmp_path)
    summary = WarehouseSummary(mart_rows={}, mrr_day=AS_OF, mrr_by_product=[], mrr_last_day=None)
    text = format_summary(summary, settings)
    assert "fct_mrr_daily has no rows for 2026-06-14 (it has no rows at all)" in text
