"""techflow_ops imports the code location; the code location never imports techflow_ops."""

from __future__ import annotations

import ast

from techflow_core.paths import REPO_ROOT


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):  # function-level imports included
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_code_location_never_imports_techflow_ops():
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "techflow_ops"
        )
        for path in sorted((REPO_ROOT / "techflow_orchestration").rglob("*.py"))
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_techflow_ops_is_built_on_the_code_location():
    imported = set().union(
        *(_imported_modules(p) for p in (REPO_ROOT / "techflow_ops").rglob("*.py"))
    )
    assert "techflow_orchestration.definitions" in imported
