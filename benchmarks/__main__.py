"""`make bench` (`uv run python -m benchmarks`): every benchmarks/bench_*.py module's main() in
turn, then one table of targets, measured ratios and ✔/✘. Exit status 1 when a bench broke (its
row is missing), not when a target is missed: the table says that.

BENCH_QUICK=1 runs every bench on small worlds (about a third of the time): it shows the benches
work; its ratios are not the targets' figures."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

from benchmarks.harness import quick
from benchmarks.verdict import Result, table


def main() -> int:
    modules = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    results: list[Result] = []
    failed = []
    began = time.perf_counter()
    for name in modules:
        print(f"\n=== {name} ===", flush=True)
        try:
            results += importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # one broken bench must not hide the others' figures
            print(f"{name} failed: {exc}", file=sys.stderr, flush=True)
            failed.append(name)
    results.sort(key=lambda r: r.target.key)
    minutes = (time.perf_counter() - began) / 60
    print(f"\n{'BENCH_QUICK=1: small worlds, not the targets figures. ' if quick() else ''}"
          f"make bench, {minutes:.1f} min (shared machine: seconds are noisy, ratios are "
          "side by side):\n")  # fmt: skip
    print(table(results))
    if failed:
        print(f"\nbroken: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
