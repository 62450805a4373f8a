"""The package picture in docs/architecture.md is the real dependency graph: every arrow drawn is
an import somewhere in the package, and every import between drawn packages has its arrow. A new
dependency (or a removed one) fails here until the picture says so."""

from __future__ import annotations

import re

from techflow_core.paths import REPO_ROOT
from tests.architecture.imports import module_graph, package_graph

ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
NODE = re.compile(r"^\s*(\w+)\[(\w+)\]\s*$")
EDGE = re.compile(r"^\s*(\w+)\s*-->\s*(\w+)\s*$")


def drawn_package_graph() -> dict[str, set[str]]:
    """The first Mermaid block of the page: `alias[package]` nodes and `alias --> alias` edges."""
    block = ARCHITECTURE.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    names = {m[1]: m[2] for line in block.splitlines() if (m := NODE.match(line))}
    drawn: dict[str, set[str]] = {name: set() for name in names.values()}
    for line in block.splitlines():
        if edge := EDGE.match(line):
            drawn[names[edge[1]]].add(names[edge[2]])
    return drawn


def test_the_package_picture_draws_every_real_dependency_and_no_other() -> None:
    drawn = drawn_package_graph()
    real = package_graph(module_graph(REPO_ROOT))
    actual = {
        package: {dep for dep in real.get(package, set()) if dep in drawn and dep != package}
        for package in drawn
    }
    assert len(drawn) >= 9, f"the picture lost its packages: {sorted(drawn)}"
    missing = {p: sorted(actual[p] - drawn[p]) for p in drawn if actual[p] - drawn[p]}
    extra = {p: sorted(drawn[p] - actual[p]) for p in drawn if drawn[p] - actual[p]}
    assert not missing, f"imports with no arrow in docs/architecture.md: {missing}"
    assert not extra, f"arrows in docs/architecture.md with no import behind them: {extra}"
