"""Dependencies run one way: the core is read by everyone and reads no one; the generator,
metrics, dashboards, ML and slim CI never reach into the code location (nor `make run`'s
operations package); and no import cycle exists, between packages or between modules.

Read from the source of every module of every top-level package (tests/architecture/imports.py),
function-level imports included, so a lazy import cannot hide a dependency. The last tests plant
a violation in a throw-away tree to show each rule can fail.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from techflow_core.paths import REPO_ROOT
from tests.architecture.imports import (
    Import,
    all_imports,
    find_cycle,
    module_graph,
    package_graph,
    top_level,
    top_level_packages,
)

CORE = "techflow_core"
CODE_LOCATION = "techflow_orchestration"
# `make run`'s planner, summary and storage patches: imports the code location, never imported
# by it. The rules hold whether or not the package exists yet.
OPS = "techflow_ops"
READERS = ("data_generation", "slim_ci", "techflow_dashboards", "techflow_metrics", "techflow_ml")
# Development-only packages: they may import anything shipped, nothing shipped imports them. The
# suite is left out of the package-level cycle check because the benchmarks reuse its fixtures
# (tests.support) while it tests them; their modules still take part in the module-level check.
DEV_ONLY = ("benchmarks", "tests")


def _is_framework(name: str) -> bool:
    """Dagster, dbt and their integrations (dagster_dbt, dagster_duckdb, dbt_common, …)."""
    root = top_level(name)
    return root.startswith("dagster") or root == "dbt" or root.startswith("dbt_")


def _describe(imports: list[Import], root: Path) -> str:
    return "\n".join(f"  {i.file.relative_to(root)}:{i.line} imports {i.imported}" for i in imports)


def _imports_from(root: Path, package: str) -> list[Import]:
    return [i for i in all_imports(root) if top_level(i.importer) == package]


def core_violations(root: Path) -> list[Import]:
    project = set(top_level_packages(root))
    return [
        i
        for i in _imports_from(root, CORE)
        if _is_framework(i.imported) or top_level(i.imported) in project - {CORE}
    ]


def forbidden_imports(root: Path, package: str, forbidden: set[str]) -> list[Import]:
    return [i for i in _imports_from(root, package) if top_level(i.imported) in forbidden]


def test_every_package_the_rules_name_exists():
    """A renamed package must not silently empty a rule."""
    assert {CORE, CODE_LOCATION, *READERS} <= set(top_level_packages(REPO_ROOT))


def test_the_core_imports_no_framework_and_no_other_project_package():
    bad = core_violations(REPO_ROOT)
    assert not bad, f"{CORE} must stay free of Dagster, dbt and project imports:\n" + _describe(
        bad, REPO_ROOT
    )


@pytest.mark.parametrize("package", READERS)
def test_readers_never_import_the_code_location_or_the_operations(package):
    bad = forbidden_imports(REPO_ROOT, package, {CODE_LOCATION, OPS})
    assert not bad, (
        f"{package} imports the code location; take the fact from {CORE} instead:\n"
        + _describe(bad, REPO_ROOT)
    )


def test_the_code_location_never_imports_the_operations_package():
    bad = forbidden_imports(REPO_ROOT, CODE_LOCATION, {OPS})
    assert not bad, f"{CODE_LOCATION} must not import {OPS}:\n" + _describe(bad, REPO_ROOT)


def test_nothing_shipped_imports_the_tests_or_the_benchmarks():
    shipped = set(top_level_packages(REPO_ROOT)) - set(DEV_ONLY)
    bad = [
        i
        for package in sorted(shipped)
        for i in forbidden_imports(REPO_ROOT, package, set(DEV_ONLY))
    ]
    assert not bad, "shipped code imports development-only code:\n" + _describe(bad, REPO_ROOT)


def test_no_import_cycle_between_packages():
    graph = package_graph(module_graph(REPO_ROOT))
    graph = {p: edges - {"tests"} for p, edges in graph.items() if p != "tests"}
    cycle = find_cycle(graph)
    assert cycle is None, "package import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_between_modules():
    cycle = find_cycle(module_graph(REPO_ROOT))
    assert cycle is None, "module import cycle: " + " -> ".join(cycle or [])


# The rules themselves, on a planted tree: each must fail when it should.


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_a_function_level_import_of_the_code_location_is_caught(tmp_path):
    root = _write(
        tmp_path,
        {
            f"{CORE}/__init__.py": "",
            f"{CODE_LOCATION}/__init__.py": "",
            f"{CODE_LOCATION}/keys.py": "KEYS = ()\n",
            "techflow_metrics/__init__.py": "",
            "techflow_metrics/cli.py": f"""
                def main():
                    from {CODE_LOCATION}.keys import KEYS
                    return KEYS
            """,
        },
    )
    bad = forbidden_imports(root, "techflow_metrics", {CODE_LOCATION, OPS})
    assert [(i.importer, i.imported, i.line) for i in bad] == [
        ("techflow_metrics.cli", f"{CODE_LOCATION}.keys.KEYS", 3)
    ]


def test_the_core_importing_dagster_or_a_project_package_is_caught(tmp_path):
    root = _write(
        tmp_path,
        {
            f"{CORE}/__init__.py": "import os\nimport duckdb\n",
            f"{CORE}/assets.py": "from dagster import asset\n",
            f"{CORE}/gen.py": "from data_generation import WorldConfig\n",
            "data_generation/__init__.py": "",
        },
    )
    bad = {i.imported for i in core_violations(root)}
    assert bad == {"dagster.asset", "data_generation.WorldConfig"}


def test_an_import_cycle_is_reported_with_its_path(tmp_path):
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import f\n",
            "pkg/b.py": "def f():\n    from . import c\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/d.py": "from pkg import a\n",
        },
    )
    assert find_cycle(module_graph(root)) == ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]


def test_packages_that_import_each_other_form_a_cycle(tmp_path):
    root = _write(
        tmp_path,
        {
            "one/__init__.py": "from two.x import y\n",
            "two/__init__.py": "",
            "two/x.py": "def y():\n    import one\n",
        },
    )
    assert find_cycle(package_graph(module_graph(root))) == ["one", "two", "one"]
