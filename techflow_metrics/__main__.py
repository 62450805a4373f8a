"""`make metrics` / `python -m techflow_metrics`: ask the semantic layer from the shell.

    python -m techflow_metrics --metrics mrr,arr --group-by metric_time__month,mrr_line__product
    python -m techflow_metrics --list            # every metric with its description
    python -m techflow_metrics --metrics nrr --group-by metric_time__month --sql

Reads the published warehouse ($TECHFLOW_WAREHOUSE) read-only (techflow_core/warehouse.py) —
builds never write that file in place (write-audit-publish), so a query neither waits for a
running build nor fails it — and prints the frame (or the SQL MetricFlow generated).
"""

from __future__ import annotations

import argparse
import sys
import textwrap

import polars as pl

from techflow_core.settings import TechflowSettings
from techflow_core.warehouse import connect_read_only
from techflow_metrics.semantic import MetricStore, UnknownMetricError


def _names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m techflow_metrics", description=__doc__)
    parser.add_argument("--metrics", type=_names, default=["mrr"])
    parser.add_argument("--group-by", type=_names, default=[])
    parser.add_argument("--where", action="append", default=[], help="MetricFlow filter")
    parser.add_argument("--order", type=_names, default=None)
    parser.add_argument("--list", action="store_true", help="list the metrics and stop")
    parser.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    args = parser.parse_args(argv)

    warehouse = TechflowSettings.from_env().warehouse
    if not warehouse.exists():
        print(f"No warehouse at {warehouse}: run `make run` first.", file=sys.stderr)
        return 1
    with connect_read_only(warehouse) as con:
        store = MetricStore(con)
        if args.list:
            for name in store.metric_names:
                wrapped = textwrap.fill(store.metric_description(name), 96)
                print(f"{name}\n{textwrap.indent(wrapped, '    ')}")
            return 0
        try:
            if args.sql:
                print(store.sql(args.metrics, args.group_by, args.where, args.order))
                return 0
            frame = store.query(args.metrics, args.group_by, args.where, args.order)
        except UnknownMetricError as exc:
            print(exc, file=sys.stderr)
            return 2
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=160, fmt_str_lengths=40):
        print(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
