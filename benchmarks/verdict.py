"""Targets, measured ratios and the ✔/✘ table `make bench` ends with. Pure arithmetic: no timing,
no I/O, so tests can check every verdict on synthetic numbers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PASS, FAIL = "✔", "✘"


@dataclass(frozen=True)
class Target:
    """A ratio's limit: `at_most` (lower is better) or at least (higher is better)."""

    key: str  # "a", "b", ...: the row of the table (docs/measurements.md)
    what: str
    limit: float
    at_most: bool = True
    unit: str = "x"  # "x" (a ratio) or "%" (a share, printed as a percentage) or "MB"

    def passes(self, measured: float) -> bool:
        return measured <= self.limit if self.at_most else measured >= self.limit

    def show(self, value: float) -> str:
        if self.unit == "%":
            return f"{value:.0%}"
        if self.unit == "MB":
            return f"{value:,.0f} MB"
        return f"{value:.2f}x"

    def describe(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.show(self.limit)}"


@dataclass(frozen=True)
class Result:
    target: Target
    measured: float
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.target.passes(self.measured)

    @property
    def mark(self) -> str:
        return PASS if self.passed else FAIL


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, refusing a zero or negative denominator (a broken measurement)."""
    if denominator <= 0:
        raise ValueError(f"cannot take a ratio over {denominator!r}: the measurement is broken")
    return numerator / denominator


def per_row_ratio(
    seconds_late: float, rows_late: int, seconds_early: float, rows_early: int
) -> float:
    """(c): the late partition's cost per output row over the early one's."""
    return ratio(ratio(seconds_late, rows_late), ratio(seconds_early, rows_early))


def overhead_share(wall: float, generator: float, dbt_nodes: float) -> float:
    """(d): the part of a run's wall time that is neither generating data nor dbt node work."""
    if generator + dbt_nodes > wall * 1.05:  # 5 % slack: node timestamps are streamed late
        raise ValueError(
            f"generator {generator:.1f} s + dbt nodes {dbt_nodes:.1f} s exceed the run's wall time "
            f"{wall:.1f} s: the work measurements do not belong to this run"
        )
    return max(0.0, ratio(wall - generator - dbt_nodes, wall))


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of [start, end) intervals: dbt node time on the wall clock, counting
    once the seconds when two threads ran nodes side by side."""
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if end < start:
            raise ValueError(f"interval ends before it starts: {(start, end)}")
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


def table(results: Sequence[Result]) -> str:
    """The Markdown table `make bench` prints and README carries."""
    lines = ["| | target | measured | | detail |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| ({r.target.key}) {r.target.what} | {r.target.describe()} | "
            f"{r.target.show(r.measured)} | {r.mark} | {r.detail} |"
        )
    return "\n".join(lines)
