"""`techflow-generate` / `python -m data_generation`: a thin layer over generate_range."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import NoReturn

from data_generation.config import (
    WorldConfig,
    default_data_dir,
    default_end_date,
    default_world_start,
)
from data_generation.errors import InvalidInputError
from data_generation.generate import generate_range
from data_generation.schema import RAW_TABLES
from data_generation.seeds import DEFAULT_SEEDS_DIR
from data_generation.writer import TableDayResult
from techflow_core.errors import SettingsError
from techflow_core.settings import DEFAULT_WORLD_START


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line (like every other bad input), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def default_workers() -> int:
    """One worker process per core this process may run on, at most two: the measured gain
    (data_generation/README.md) is for two; more would mostly multiply the world's memory."""
    return max(1, min(2, len(os.sched_getaffinity(0))))


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of workers")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="techflow-generate",
        description="Generate TechFlow's synthetic SaaS world as daily raw Parquet partitions.",
    )
    parser.add_argument(
        "--start",
        type=_date,
        help=f"first day (default: $TECHFLOW_WORLD_START or {DEFAULT_WORLD_START})",
    )
    parser.add_argument(
        "--end",
        type=_date,
        help="last day (default: the as-of day, $TECHFLOW_AS_OF or yesterday UTC)",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 ≈ 20,000 users over two years (default 1)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, help="raw root (default: $TECHFLOW_DATA_DIR/raw)")
    parser.add_argument(
        "--tables", help=f"comma-separated table names (default: all {len(RAW_TABLES)})"
    )
    parser.add_argument(
        "--no-dirt",
        action="store_true",
        help="no duplicates, late events or subscription changes, corrections, mixed-case UTMs "
        "or test accounts",
    )
    parser.add_argument(
        "--seeds-dir",
        type=Path,
        default=DEFAULT_SEEDS_DIR,
        help="dbt seeds to read plans/features/UTMs from",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=default_workers(),
        help="worker processes for ranges longer than one block of days (default: the usable "
        "cores, at most 2; 1 = build and write in this process)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return parser


def summarize(results: list[TableDayResult], seconds: float) -> str:
    """A table of rows, days and bytes per raw table, plus the totals and the run time."""
    per_table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in results:
        entry = per_table[(r.system, r.table)]
        entry[0] += r.rows
        entry[1] += 1
        entry[2] += r.bytes
    lines = [f"{'table':<26}{'rows':>12}{'days':>7}{'MB':>10}"]
    for (system, table), (rows, days, size) in per_table.items():
        lines.append(f"{system + '.' + table:<26}{rows:>12,}{days:>7}{size / 1e6:>10.2f}")
    total_rows = sum(v[0] for v in per_table.values())
    total_bytes = sum(v[2] for v in per_table.values())
    lines.append(f"{'total':<26}{total_rows:>12,}{'':>7}{total_bytes / 1e6:>10.2f}")
    rate = total_rows / seconds if seconds > 0 else 0.0
    lines.append(f"{len(results)} files in {seconds:.1f} s ({rate:,.0f} rows/s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        start = args.start or default_world_start()
        cfg = WorldConfig(
            start=start,
            scale=args.scale,
            seed=args.seed,
            dirt=not args.no_dirt,
            out_dir=args.out or default_data_dir() / "raw",
            seeds_dir=args.seeds_dir,
        )
        tables = [t for t in args.tables.split(",") if t.strip()] if args.tables else None
        end = args.end or default_end_date()
        began = time.perf_counter()
        results = generate_range(
            cfg,
            start,
            end,
            tables,
            progress=not args.quiet and sys.stderr.isatty(),
            workers=args.workers,
        )
        elapsed = time.perf_counter() - began
    except (InvalidInputError, SettingsError) as exc:
        print(f"techflow-generate: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(summarize(results, elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
