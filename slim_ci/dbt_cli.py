"""Run dbt as a subprocess and read the artifacts it writes.

A subprocess (not dbtRunner in-process) because each slim-CI step uses a different target and
target path, and dbt keeps global state per process; the venv's own `dbt` executable is used so
the version always matches the installed dbt-core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slim_ci.errors import StepFailed

DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


@dataclass(frozen=True)
class DbtProject:
    """One dbt project directory (its profiles.yml lives next to dbt_project.yml)."""

    project_dir: Path
    target: str
    target_path: Path
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [
            str(DBT_EXECUTABLE),
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target",
            self.target,
            "--target-path",
            str(self.target_path),
            "--log-path",
            str(self.target_path / "logs"),
        ]

    def run(self, *args: str, echo: bool = True) -> str:
        """Run `dbt <args>`; stream its output when `echo`, raise StepFailed if it fails."""
        cmd = self.command(*args)
        env = {**os.environ, **self.env}
        tail: deque[str] = deque(maxlen=40)
        lines: list[str] = []
        with subprocess.Popen(
            cmd,
            env=env,
            cwd=self.project_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                tail.append(line)
                if echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
        if proc.returncode != 0:
            shown = "" if echo else failure_summary(lines, tail)
            raise StepFailed(f"`dbt {' '.join(args)}` failed (exit {proc.returncode})\n{shown}")
        return "".join(lines)

    def read_artifact(self, name: str) -> dict[str, Any]:
        return read_json(self.target_path / name)


def failure_summary(lines: list[str], tail: deque[str]) -> str:
    """dbt's own end-of-run summary (the errors and where they are), else the output's tail.

    The last lines of a failed build are mostly SKIPs of everything downstream of the error;
    the summary after "Completed with N error(s)" names the failing nodes and why.
    """
    starts = [i for i, line in enumerate(lines) if "Completed with" in line]
    return "".join(lines[starts[-1] :]) if starts else "".join(tail)


def read_json(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return json.load(f)


def minor_version(version: str) -> str:
    """'1.11.16' -> '1.11': manifests are compatible within a minor release."""
    return ".".join(version.split(".")[:2])
