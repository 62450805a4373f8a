"""What Dagster costs on top of dbt, and what the nightly schedule costs, measured side by side in
one run: `make bench` (a)-(d), (f) and (g).

Every side is a process timed from its start to its exit, on the same raw data and a fresh or
identically built warehouse:

(a) full warehouse build through Dagster vs plain `dbt build` — target ≤ 1.15x.
    Plain: `dbt build --target prod` on an empty warehouse, its target dir holding a partial parse
    from an untimed `dbt parse` (as a user who has run dbt before in the project). Dagster's side
    gets the same untimed `dbt parse` for its warehouse, kept as its environment's parse seed —
    what `make manifest` prepares for `make run` (harness.prepare_dagster_parse). Dagster:
    `python -m techflow_ops.run_all` (what `make run` runs) on an empty warehouse,
    with the raw tables already materialized in its instance by an untimed `dg launch` of the
    same days — so it builds exactly what plain dbt builds (models, seeds, snapshots, tests),
    in one build run, plus the summary `make run` prints.
    World: the first third of the default world (see (c)).
(b) one fct_mrr_daily partition: `dg launch --assets fct_mrr_daily --partition D` (the project's
    code location, techflow_orchestration.definitions, executed in-process) vs `dbt build
    --select fct_mrr_daily --vars '{min_date: D, max_date: D}' --indirect-selection buildable`
    (the tests Dagster's step runs), alternated on the same built warehouse, D its last day —
    target ≤ 2x. Best of REPEATS each, after one untimed warm-up each (dbt's partial parse of
    those vars, Python's bytecode cache).
(c) one partition's cost per output row, flat in history — target ≤ 1.2x at 3x the days.
    ONE world: the default one (scale 1). Its first third (the same files, hard-linked: the
    generator is prefix-consistent, so that prefix is exactly the world as it stood on that day)
    against the whole of it. Comparing two separately generated worlds of different sizes would
    mix volume with history; here the customer base on each day is the one business history gave
    it, and the cost is divided by the day's output rows to take out what growth adds. Cost:
    dbt's execution time of the nodes a daily partition builds (`int_subscription_versions`,
    `fct_mrr_daily`), re-building the last day of a warehouse built through it; best of REPEATS.
(d) a fresh `make run` on the default world (its own empty data dir and instance): wall time
    minus the generator's time (the same generate_range call, timed in a child of its own) minus
    dbt's node time (the union on the wall clock of every node's execution, as the run_results.json
    of each dbt step of the run's instance records it) — target ≤ 25 % of the wall time.
(f) the run the daily schedule launches, `techflow_daily` for the newest day (`dg launch --job
    techflow_daily --partition D`: the day's raw tables, then one `dbt build` of the project with
    D as the partition window, then the dashboards), on a warehouse fully built through D, timed
    from process start: at 3x the days vs 1x, each side's seconds divided by the raw rows of its
    day (every raw table's partition for D) — target ≤ 1.3x. The same two worlds as (c): the
    default one, built by (d)'s fresh `make run`, and its first third, built through Dagster by
    (a). D is the as-of day, already built: the run re-lands and rebuilds it, which costs what
    the first run of a new day costs (the incremental marts' window starts at the earlier of the
    requested day and the day after the newest built, less the lookback: the same days either
    way; the raw day is generated again whole).
(g) that run on the default world as a share of (d)'s fresh `make run` of it (wall time from
    process start: generating the history and building everything, without the exposures that
    the daily run does build) — target ≤ 25 %.

The machine is shared with other sessions while this runs: absolute seconds swing with the
load; the ratios, both sides measured minutes apart in one run, are what to read.
BENCH_QUICK=1 runs the same on a 60-day world at scale 0.25 (minutes; figures only show the
bench works).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from benchmarks.harness import (
    WORLD_START,
    DbtCli,
    Sandbox,
    dagster,
    dbt_time_in_instance,
    generate_world,
    link_prefix,
    make_run,
    node_seconds,
    prepare_dagster_parse,
    quick,
    raw_rows_on,
    warehouse_rows_on,
    window_vars,
)
from benchmarks.verdict import Result, Target, overhead_share, per_row_ratio, ratio
from techflow_core.clock import pin_as_of
from techflow_orchestration.defs.warehouse.jobs import DAILY_JOB_NAME
from techflow_orchestration.lib.keys import RAW_ASSET_KEYS

FULL_BUILD = Target("a", "full build through Dagster / plain `dbt build`", 1.15)
PARTITION = Target("b", "one fct_mrr_daily partition: Dagster run / `dbt build --select`", 2.0)
HISTORY = Target("c", "one partition's cost per output row at 3x the days / 1x", 1.2)
OVERHEAD = Target("d", "orchestration share of a fresh `make run`", 0.25, unit="%")
DAILY_HISTORY = Target("f", "scheduled daily run per raw row of its day at 3x the days / 1x", 1.3)
DAILY_SHARE = Target("g", "scheduled daily run / fresh `make run`, default history", 0.25, unit="%")

REPEATS = 3  # (c): a few seconds each
PARTITION_REPEATS = 2  # (b): each Dagster run is up to a minute on a loaded machine
PARTITION_NODES = ("int_subscription_versions", "fct_mrr_daily")


def say(text: str) -> None:
    print(text, flush=True)


@dataclass(frozen=True)
class PartitionCost:
    seconds: float
    rows: int
    days: int


@dataclass(frozen=True)
class DailyRun:
    """One `techflow_daily` run of a world's newest day: wall seconds, raw rows of the day."""

    seconds: float
    rows: int
    days: int


def world_day() -> tuple[float, object]:
    """(scale, as-of day): the default world, or BENCH_QUICK's small one."""
    if quick():
        return 0.25, WORLD_START + timedelta(days=59)
    return 1.0, pin_as_of()


def overhead_of_make_run(
    root: Path, world: Sandbox, generator_seconds: float
) -> tuple[Result, float]:
    """(d), and the fresh `make run`'s wall seconds ((g)'s denominator)."""
    run = Sandbox(root / "make_run", world.as_of, world.scale, "make_run").fresh()
    say(f"(d) fresh make run: {run.days} days, scale {run.scale:g} …")
    wall = make_run(run)
    busy, summed, nodes = dbt_time_in_instance(run.dagster_home)
    share = overhead_share(wall, generator_seconds, busy)
    detail = (
        f"make run {wall:.0f} s = generator {generator_seconds:.0f} s + dbt nodes {busy:.0f} s "
        f"({nodes} nodes; {summed:.0f} s summed over 2 threads) + orchestration "
        f"{wall - generator_seconds - busy:.0f} s; {run.days} days, scale {run.scale:g}"
    )
    say(f"    {detail}")
    return Result(OVERHEAD, share, detail), wall


def full_build(prefix: Sandbox, root: Path) -> tuple[Result, Sandbox, Sandbox]:
    plain = prefix.sibling("plain").fresh()
    dbt_plain = DbtCli(plain, root / "target_plain")
    dbt_plain("parse")  # untimed: the partial parse a returning user has
    plain.fresh()
    say(f"(a) plain dbt build: {plain.days} days …")
    plain_seconds, _ = dbt_plain("build")

    through = prefix.sibling("dagster").fresh()
    raw_keys = ",".join(key.to_user_string() for key in RAW_ASSET_KEYS)
    say("(a) raw tables into the Dagster instance (untimed) …")
    dagster(through, "--assets", raw_keys, "--partition-range",
            f"{WORLD_START.isoformat()}...{through.as_of.isoformat()}")  # fmt: skip
    prepare_dagster_parse(through, root / "target_dagster_parse")
    say("(a) the warehouse through Dagster (python -m techflow_ops.run_all) …")
    dagster_seconds = make_run(through)
    detail = (
        f"{dagster_seconds:.1f} s vs {plain_seconds:.1f} s, both from process start; "
        f"{prefix.days} days, scale {prefix.scale:g}"
    )
    say(f"    {detail}")
    return Result(FULL_BUILD, ratio(dagster_seconds, plain_seconds), detail), plain, through


def one_partition(built: Sandbox, root: Path) -> Result:
    day = built.as_of
    dbt = DbtCli(built, root / "target_partition")
    dbt_args = ("build", "--select", "fct_mrr_daily", "--vars", window_vars(day))
    dbt_args += ("--indirect-selection", "buildable")
    dagster_args = ("--assets", "fct_mrr_daily", "--partition", day.isoformat())
    say(f"(b) one partition ({day}), dbt and Dagster alternately, best of {PARTITION_REPEATS} …")
    dbt(*dbt_args), dagster(built, *dagster_args)  # warm-ups
    plain, through = [], []
    for _ in range(PARTITION_REPEATS):
        plain.append(dbt(*dbt_args)[0])
        through.append(dagster(built, *dagster_args))
    detail = (
        f"{min(through):.1f} s vs {min(plain):.1f} s (best of {PARTITION_REPEATS}; worst "
        f"{max(through):.1f} vs {max(plain):.1f}); {built.days} days of history"
    )
    say(f"    {detail}")
    return Result(PARTITION, ratio(min(through), min(plain)), detail)


def partition_cost(built: Sandbox, target_dir: Path) -> PartitionCost:
    dbt = DbtCli(built, target_dir)
    args = ("run", "--select", *PARTITION_NODES, "--vars", window_vars(built.as_of))
    dbt(*args)  # warm-up
    seconds = min(node_seconds(dbt(*args)[1], PARTITION_NODES) for _ in range(REPEATS))
    rows = warehouse_rows_on(built.build_warehouse, "fct_mrr_daily", built.as_of)  # what dbt wrote
    return PartitionCost(seconds, rows, built.days)


def history(early_built: Sandbox, late_built: Sandbox, root: Path) -> Result:
    say(f"(c) one partition at {early_built.days} and {late_built.days} days of history …")
    early = partition_cost(early_built, root / "target_c_early")
    late = partition_cost(late_built, root / "target_c_late")
    detail = (
        f"{late.days} days: {late.seconds:.2f} s for {late.rows:,} rows; {early.days} days: "
        f"{early.seconds:.2f} s for {early.rows:,} rows ({late.days / early.days:.2f}x the days; "
        f"raw time {late.seconds / early.seconds:.2f}x)"
    )
    say(f"    {detail}")
    return Result(
        HISTORY, per_row_ratio(late.seconds, late.rows, early.seconds, early.rows), detail
    )


def daily_run(built: Sandbox) -> DailyRun:
    day = built.as_of
    seconds = dagster(built, "--job", DAILY_JOB_NAME, "--partition", day.isoformat())
    return DailyRun(seconds, raw_rows_on(built.raw_dir, day), built.days)


def daily_verdicts(early: DailyRun, late: DailyRun, full_build_seconds: float) -> list[Result]:
    """(f) from the two worlds' daily runs, (g) from the default world's against its full build."""
    per_row = per_row_ratio(late.seconds, late.rows, early.seconds, early.rows)
    history_detail = (
        f"{late.days} days: {late.seconds:.1f} s for {late.rows:,} raw rows; {early.days} days: "
        f"{early.seconds:.1f} s for {early.rows:,} raw rows ({late.days / early.days:.2f}x the "
        f"days; raw time {ratio(late.seconds, early.seconds):.2f}x)"
    )
    share_detail = (
        f"daily run {late.seconds:.1f} s vs fresh make run {full_build_seconds:.1f} s, both from "
        f"process start; {late.days} days"
    )
    return [
        Result(DAILY_HISTORY, per_row, history_detail),
        Result(DAILY_SHARE, ratio(late.seconds, full_build_seconds), share_detail),
    ]


def daily_schedule(
    early_built: Sandbox, late_built: Sandbox, full_build_seconds: float
) -> list[Result]:
    say(f"(f)/(g) techflow_daily for the newest day at {early_built.days} and "
        f"{late_built.days} days of history …")  # fmt: skip
    early = daily_run(early_built)
    late = daily_run(late_built)
    results = daily_verdicts(early, late, full_build_seconds)
    for result in results:
        say(f"    {result.detail}")
    return results


def main() -> list[Result]:
    scale, as_of = world_day()
    with tempfile.TemporaryDirectory(prefix="bench_orchestration_") as tmp:
        root = Path(tmp)
        world = Sandbox(root / "world", as_of, scale)
        say(f"generating the world: scale {scale:g}, {WORLD_START}..{as_of} ({world.days} days) …")
        generator_seconds, rows = generate_world(world)
        say(f"    {rows:,} rows in {generator_seconds:.1f} s (generate_range, in-process)")

        overhead, make_run_seconds = overhead_of_make_run(root, world, generator_seconds)
        late_built = Sandbox(root / "make_run", as_of, scale, "make_run")

        prefix = Sandbox(root / "prefix", WORLD_START + timedelta(days=world.days // 3 - 1), scale)
        link_prefix(world.raw_dir, prefix)
        build, plain_built, dagster_built = full_build(prefix, root)
        results = [build, overhead]
        # (b), (c), (f)/(g) read (a)'s and (d)'s warehouses; one failing must not lose the others.
        parts = (
            (one_partition, (dagster_built, root)),
            (history, (plain_built, late_built, root)),
            (daily_schedule, (dagster_built, late_built, make_run_seconds)),
        )
        for part, args in parts:
            try:
                measured = part(*args)
                results += measured if isinstance(measured, list) else [measured]
            except Exception as exc:
                say(f"{part.__name__} failed: {exc}")
    return results


if __name__ == "__main__":
    from benchmarks.verdict import table

    print(table(main()))
