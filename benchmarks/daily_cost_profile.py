"""Per-node cost of one scheduled daily dbt build (what `techflow_daily` runs for its newest day)
after a full build, from dbt's run_results.json: where the nightly time goes.

    .venv/bin/python -m benchmarks.daily_cost_profile --scale 0.2 --days 365 [--keep DIR]
        [--select +fct_events ...]

Generates a world through the day before the as-of day, runs a full `dbt build`, lands the as-of
day's raw partitions, then runs `dbt build` as the daily job runs it (the as-of day as the
partition window, in the environment variables Dagster passes; the weekly marts left out), then
the weekly job's build (the weekly marts and the window-tested marts, no window), and prints each
build's per-node times, models and tests. dbt only: the Dagster step around it adds the overhead
bench (a) measures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from data_generation import WorldConfig, generate_day
from techflow_orchestration.defs.warehouse.cadence import WEEKLY_SELECT, window_tested_models
from tests.support import AS_OF, SMALL_WORLD_SEED, DbtProject, generate_world


def per_node(project: DbtProject) -> list[tuple[str, float]]:
    invocation = project.history[-1]
    assert invocation.success, invocation.describe()
    return sorted(
        ((r.node.unique_id, float(r.execution_time)) for r in invocation.results),
        key=lambda item: -item[1],
    )


def summary(
    label: str, wall: float, nodes: list[tuple[str, float]], top: int, show: list[str]
) -> None:
    by_type: dict[str, float] = defaultdict(float)
    for unique_id, seconds in nodes:
        by_type[unique_id.split(".")[0]] += seconds
    kinds = ", ".join(f"{kind} {seconds:.1f}s" for kind, seconds in sorted(by_type.items()))
    print(f"\n{label}: wall {wall:.1f}s; node time by type: {kinds}")
    for unique_id, seconds in nodes[:top]:
        print(f"  {seconds:7.2f}s  {unique_id}")
    for unique_id, seconds in nodes[top:]:
        if unique_id.split(".")[2] in show:
            print(f"  {seconds:7.2f}s  {unique_id}  (rank {nodes.index((unique_id, seconds)) + 1})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--show", default="fct_events,fct_user_engagement_daily", help="models always listed"
    )
    parser.add_argument(
        "--select", nargs="*", default=[], help="dbt selection (default: the whole project)"
    )
    parser.add_argument("--keep", type=Path, help="data dir to use and keep (default: a temp dir)")
    args = parser.parse_args()

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="daily_cost_"))
    start = AS_OF - dt.timedelta(days=args.days - 1)
    yesterday = AS_OF - dt.timedelta(days=1)
    project = DbtProject(data_dir=data_dir, world_start=start, as_of=yesterday)
    if not (project.raw_dir / "app_db").exists():  # --keep a data dir to reuse its raw world
        generate_world(project.raw_dir, start, yesterday, scale=args.scale)
    # "buildable", as the Dagster step runs dbt: a test runs only when all its parents are built.
    selection = (
        ["--select", *args.select, "--indirect-selection", "buildable"] if args.select else []
    )
    began = time.perf_counter()
    project.dbt("build", *selection)
    summary(
        "full build", time.perf_counter() - began, per_node(project), args.top, args.show.split(",")
    )

    # A day's files depend only on (world, day): the newest day lands alone, as it does nightly.
    world = WorldConfig(
        start=start, scale=args.scale, seed=SMALL_WORLD_SEED, out_dir=project.raw_dir
    )
    generate_day(world, AS_OF)
    project.as_of = AS_OF
    project.extra_env.update(
        {"TECHFLOW_MRR_MIN_DATE": AS_OF.isoformat(), "TECHFLOW_MRR_MAX_DATE": AS_OF.isoformat()}
    )
    # As the daily job selects: everything but the weekly marts, tests by "buildable".
    daily = [*(selection or ["--indirect-selection", "buildable"]), "--exclude", WEEKLY_SELECT]
    began = time.perf_counter()
    project.dbt("build", *daily)
    summary(
        f"daily build of {AS_OF}",
        time.perf_counter() - began,
        per_node(project),
        args.top,
        args.show.split(","),
    )
    print(f"\ndata dir: {data_dir}")
    if args.select:  # the weekly marts need the whole project built
        return
    # The weekly job's build: no window, so every test reads whole tables.
    project.extra_env.clear()
    manifest = json.loads((project.data_dir / "dbt_run/target/manifest.json").read_text())
    weekly = [WEEKLY_SELECT, *window_tested_models(manifest)]
    began = time.perf_counter()
    project.dbt("build", "--select", *weekly, "--indirect-selection", "buildable")
    wall = time.perf_counter() - began
    summary("weekly build", wall, per_node(project), args.top, args.show.split(","))


if __name__ == "__main__":
    main()
