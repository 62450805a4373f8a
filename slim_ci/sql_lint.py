"""SQLFluff on the SQL files a change touches, and on nothing else.

Linting only the changed files keeps the check proportional to the change (the whole project
takes minutes with the dbt templater) and never blames a pull request for code it did not touch.
SQLFluff runs from the dbt project directory so it picks up the project's .sqlfluff and
.sqlfluffignore.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SQLFLUFF = Path(sys.executable).parent / "sqlfluff"


@dataclass(frozen=True)
class LintResult:
    files: tuple[Path, ...]
    passed: bool
    output: str
    # SQLFluff itself failed (exit 2: config or templating error), as opposed to finding
    # violations (exit 1); the output then says what broke, not what to restyle.
    crashed: bool = False

    @property
    def verdict(self) -> str:
        if self.passed:
            return "passed"
        return "ERROR (SQLFluff could not lint; see below)" if self.crashed else "FAILED"


def sql_files_in_project(changed: list[Path], project_dir: Path) -> list[Path]:
    """The changed files that are SQL inside the dbt project (deleted files are already gone)."""
    root = project_dir.resolve()
    return [
        path
        for path in changed
        if path.suffix == ".sql" and path.exists() and path.resolve().is_relative_to(root)
    ]


def lint(files: list[Path], project_dir: Path, env: dict[str, str]) -> LintResult:
    if not files:
        return LintResult((), True, "no changed SQL files to lint\n")
    relative = [str(path.resolve().relative_to(project_dir.resolve())) for path in files]
    result = subprocess.run(
        [str(SQLFLUFF), "lint", "--disable-progress-bar", *relative],
        cwd=project_dir,
        # The dbt templater compiles with the dev target; an in-memory warehouse keeps it from
        # opening (and locking) a real DuckDB file that Dagster or dbt may be writing.
        env={**os.environ, **env, "TECHFLOW_WAREHOUSE": ":memory:"},
        capture_output=True,
        text=True,
        check=False,
    )
    return LintResult(
        files=tuple(files),
        passed=result.returncode == 0,
        output=result.stdout + result.stderr,
        crashed=result.returncode not in (0, 1),
    )
