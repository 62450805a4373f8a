"""The generator's folders keep their one-way order: simulation → extracts → the entry and writer.

simulation/ is the business in no system's format, extracts/ turn it into each system's tables,
the top level runs them and writes Parquet (data_generation/README.md, Layout). Read from the
imports themselves (function-level ones included), so a shortcut that would blur the split fails
here rather than in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import data_generation

PACKAGE = Path(data_generation.__file__).parent
# What each folder may import from the rest of data_generation (besides itself).
ALLOWED = {
    "simulation": {"config", "seeds", "errors"},
    "extracts": {"simulation", "config", "seeds", "errors"},
}


def _data_generation_imports(path: Path) -> set[str]:
    """The first component under data_generation of every import in `path`
    (`from data_generation.simulation import rng` → "simulation", `… .seeds import X` → "seeds")."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "data_generation" and len(parts) > 1:
                found.add(parts[1])
            elif parts == ["data_generation"] and isinstance(node, ast.ImportFrom):
                found.update(alias.name for alias in node.names)
    return found


def test_each_folder_imports_only_what_comes_before_it():
    wrong = []
    for folder, allowed in ALLOWED.items():
        modules = sorted((PACKAGE / folder).glob("*.py"))
        assert modules, f"{folder}/ is empty"
        for module in modules:
            for imported in _data_generation_imports(module) - allowed - {folder}:
                wrong.append(f"{folder}/{module.name} imports data_generation.{imported}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_import(tmp_path):
    module = tmp_path / "shortcut.py"
    module.write_text(
        "def f():\n    from data_generation.extracts.frames import Day\n    return Day\n"
        "from data_generation import writer\n"
    )
    assert _data_generation_imports(module) == {"extracts", "writer"}
