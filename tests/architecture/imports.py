"""The project's import graph, read from the source (AST), not by importing anything.

Every `import` and `from … import` counts, wherever it is written: at the top of a module, inside
a function (the lazy imports that hide a cycle from Python at load time) or under TYPE_CHECKING.
Packages are discovered, not listed: every top-level directory with an `__init__.py`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

SKIPPED_DIRS = {".venv", ".git", "node_modules", "target", "logs", "data", "__pycache__"}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name of the importing file
    imported: str  # dotted name as written (absolute; relative imports resolved)
    file: Path
    line: int


def top_level_packages(root: Path) -> list[str]:
    return sorted(
        p.parent.name
        for p in root.glob("*/__init__.py")
        if p.parent.name not in SKIPPED_DIRS and not p.parent.name.startswith(".")
    )


def package_modules(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package (`pkg.sub` for
    pkg/sub/__init__.py)."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_DIRS.intersection(relative.parts):
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


@functools.cache  # one parse per tree and test session; callers never mutate the result
def project_modules(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in top_level_packages(root):
        modules.update(package_modules(root, package))
    return modules


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def imports_of(module: str, path: Path) -> list[Import]:
    """Every import in the file, function-level ones included. `from a.b import c` is reported
    as `a.b.c` (which may be a module or a name in a.b: `project_edges` decides)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, path, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                source = _resolve_relative(module, is_package, node.level, node.module)
            else:
                source = node.module or ""
            found += [
                Import(module, f"{source}.{alias.name}", path, node.lineno) for alias in node.names
            ]
    return found


@functools.cache
def all_imports(root: Path) -> list[Import]:
    return [
        found
        for module, path in project_modules(root).items()
        for found in imports_of(module, path)
    ]


def top_level(name: str) -> str:
    return name.split(".", 1)[0]


def target_module(imported: str, modules: Mapping[str, Path]) -> str | None:
    """The project module an import executes: the longest known prefix of the dotted name
    (`from a.b import c` is module a.b.c when it exists, else a name in module a.b)."""
    parts = imported.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def module_graph(root: Path) -> dict[str, set[str]]:
    """Project module -> the project modules it imports. A package's own __init__ run on the way
    to a submodule is not an edge: only the module named in the import statement is."""
    modules = project_modules(root)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for found in all_imports(root):
        target = target_module(found.imported, modules)
        if target is not None and target != found.importer:
            graph[found.importer].add(target)
    return graph


def package_graph(module_edges: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for importer, targets in module_edges.items():
        edges = graph.setdefault(top_level(importer), set())
        edges.update(top_level(t) for t in targets if top_level(t) != top_level(importer))
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle as a path [a, b, …, a], or None when the graph is acyclic (iterative DFS)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None
