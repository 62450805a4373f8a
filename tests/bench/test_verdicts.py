"""`make bench`'s arithmetic, on synthetic numbers: the verdicts, the ratios it prints, and the
helpers that decide what is measured. No timing here (speed lives in `make bench`)."""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pytest

from benchmarks import bench_generator, bench_orchestration
from benchmarks.bench_orchestration import DailyRun, daily_verdicts
from benchmarks.harness import Sandbox, link_prefix, node_seconds, raw_rows_on
from benchmarks.verdict import (
    FAIL,
    PASS,
    Result,
    Target,
    busy_seconds,
    overhead_share,
    per_row_ratio,
    ratio,
    table,
)


def test_every_bench_module_imports_and_its_entry_point_exists() -> None:
    for name in (
        "benchmarks.__main__",
        "benchmarks.bench_generator",
        "benchmarks.bench_orchestration",
        "benchmarks.daily_cost_profile",
    ):
        assert callable(importlib.import_module(name).main)


def test_the_targets_are_the_documented_ones() -> None:
    limits = {
        (t.key, t.limit, t.at_most)
        for t in (
            bench_orchestration.FULL_BUILD,
            bench_orchestration.PARTITION,
            bench_orchestration.HISTORY,
            bench_orchestration.OVERHEAD,
            bench_orchestration.DAILY_HISTORY,
            bench_orchestration.DAILY_SHARE,
            bench_generator.VS_LOOP,
            bench_generator.VS_COPY,
            bench_generator.PEAK_RSS,
        )
    }
    assert limits == {
        ("a", 1.15, True),
        ("b", 2.0, True),
        ("c", 1.2, True),
        ("d", 0.25, True),
        ("f", 1.3, True),
        ("g", 0.25, True),
        ("e", 10.0, False),
        ("e", 0.5, False),
        ("e", 4096.0, True),
    }


def test_at_most_target_passes_on_its_limit_and_fails_just_above() -> None:
    target = Target("a", "x", 1.15)
    assert Result(target, 1.15).mark == PASS
    assert Result(target, 1.16).mark == FAIL


def test_at_least_target_passes_on_its_limit_and_fails_just_below() -> None:
    target = Target("e", "x", 0.5, at_most=False, unit="%")
    assert Result(target, 0.5).passed
    assert not Result(target, 0.49).passed
    assert target.describe() == "≥ 50%"


def test_cost_per_row_is_flat_when_time_grows_with_the_days_rows() -> None:
    # 3x the rows in 3x the time: the same cost per row.
    assert per_row_ratio(3.0, 300, 1.0, 100) == pytest.approx(1.0)
    # The same rows but twice the time: the history shows.
    assert per_row_ratio(2.0, 100, 1.0, 100) == pytest.approx(2.0)


def test_overhead_is_what_neither_the_generator_nor_dbt_nodes_account_for() -> None:
    assert overhead_share(wall=400.0, generator=30.0, dbt_nodes=270.0) == pytest.approx(0.25)
    assert Result(bench_orchestration.OVERHEAD, 0.25).passed


def test_work_longer_than_the_run_is_a_broken_measurement() -> None:
    with pytest.raises(ValueError, match="exceed the run's wall time"):
        overhead_share(wall=100.0, generator=60.0, dbt_nodes=60.0)


def test_a_zero_denominator_is_refused() -> None:
    with pytest.raises(ValueError, match="measurement is broken"):
        ratio(1.0, 0.0)


def test_busy_time_counts_overlapping_nodes_once() -> None:
    # Two threads: [0, 4) and [2, 6) overlap; [10, 11) is alone: 6 + 1 seconds.
    assert busy_seconds([(2.0, 6.0), (0.0, 4.0), (10.0, 11.0)]) == pytest.approx(7.0)
    assert busy_seconds([]) == 0.0


def test_node_seconds_sums_the_named_models_and_names_a_missing_one() -> None:
    results = [
        {"unique_id": "model.techflow.fct_mrr_daily", "execution_time": 1.5},
        {"unique_id": "model.techflow.int_subscription_versions", "execution_time": 0.25},
        {"unique_id": "test.techflow.not_null_x.abc", "execution_time": 9.0},
    ]
    assert node_seconds(results, ("int_subscription_versions", "fct_mrr_daily")) == 1.75
    with pytest.raises(RuntimeError, match="dim_customers"):
        node_seconds(results, ("dim_customers",))


def test_the_table_shows_target_measured_and_verdict() -> None:
    rows = table([Result(Target("b", "partition", 2.0), 2.5, "5.0 s vs 2.0 s")])
    assert "| (b) partition | ≤ 2.00x | 2.50x | ✘ | 5.0 s vs 2.0 s |" in rows


def test_the_prefix_world_holds_exactly_the_days_up_to_its_as_of_day(tmp_path: Path) -> None:
    source = tmp_path / "long" / "raw"
    for day in ("2025-01-01", "2025-01-02", "2025-01-03"):
        part = source / "app_db" / "users" / f"date={day}"
        part.mkdir(parents=True)
        (part / "part-0.parquet").write_text(day)
    prefix = Sandbox(tmp_path / "prefix", date(2025, 1, 2), 1.0)
    link_prefix(source, prefix)
    days = sorted(p.name for p in (prefix.raw_dir / "app_db" / "users").iterdir())
    assert days == ["date=2025-01-01", "date=2025-01-02"]
    linked = prefix.raw_dir / "app_db" / "users" / "date=2025-01-02" / "part-0.parquet"
    assert linked.read_text() == "2025-01-02"
    assert prefix.days == 2


def test_a_daily_run_in_proportion_to_its_day_passes_and_one_growing_with_history_fails() -> None:
    early = DailyRun(seconds=20.0, rows=10_000, days=235)
    # 3x the days, 1.5x the day's rows in 1.5x the time: flat per row, 10 % of a 300 s build.
    flat = daily_verdicts(early, DailyRun(30.0, 15_000, 705), full_build_seconds=300.0)
    assert [(r.target.key, r.measured, r.mark) for r in flat] == [
        ("f", pytest.approx(1.0), PASS),
        ("g", pytest.approx(0.1), PASS),
    ]
    # The same day's rows but 3x the time (a rebuild of the history): both targets missed.
    rebuild = daily_verdicts(early, DailyRun(60.0, 10_000, 705), full_build_seconds=200.0)
    assert [(r.target.key, r.measured, r.mark) for r in rebuild] == [
        ("f", pytest.approx(3.0), FAIL),
        ("g", pytest.approx(0.3), FAIL),
    ]
    assert "705 days: 60.0 s for 10,000 raw rows" in rebuild[0].detail
    assert "vs fresh make run 200.0 s" in rebuild[1].detail


def test_the_daily_share_is_on_its_limit_at_a_quarter_of_the_full_build() -> None:
    early = DailyRun(10.0, 100, 20)
    (_, share) = daily_verdicts(early, DailyRun(25.0, 100, 60), full_build_seconds=100.0)
    assert share.passed and share.target.show(share.measured) == "25%"


def test_a_daily_run_of_a_day_without_rows_is_a_broken_measurement() -> None:
    with pytest.raises(ValueError, match="measurement is broken"):
        daily_verdicts(DailyRun(10.0, 0, 20), DailyRun(30.0, 100, 60), full_build_seconds=100.0)


def test_the_days_raw_rows_sum_every_table_of_that_day_only(tmp_path: Path) -> None:
    import polars as pl

    raw = tmp_path / "raw"
    tables = {("app_db", "users"): 3, ("stripe", "invoices"): 2}
    for (system, table_name), rows in tables.items():
        for day, extra in (("2025-01-01", 5), ("2025-01-02", 0)):
            part = raw / system / table_name / f"date={day}"
            part.mkdir(parents=True)
            frame = pl.DataFrame({f"{table_name}_id": list(range(rows + extra))})
            frame.write_parquet(part / "part-0.parquet")
    assert raw_rows_on(raw, date(2025, 1, 2)) == 5
    assert raw_rows_on(raw, date(2025, 1, 1)) == 15
    with pytest.raises(RuntimeError, match="no raw partition for 2025-01-03"):
        raw_rows_on(raw, date(2025, 1, 3))
