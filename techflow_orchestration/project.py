"""The dbt project as Dagster sees it, and its manifest — prepared once, never parsed at import.

`dbt parse` takes 10-15 s, so the manifest is built ahead of time by
    uv run dagster-dbt project prepare-and-package --file techflow_orchestration/project.py
(`make manifest`, which `make run`, `make dev` and the tests' setup call). Importing the
definitions only reads the JSON. It is parsed for the `prod` target: the schemas in the manifest
are the ones Dagster's runs write.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from techflow_orchestration.settings import DBT_PROJECT_DIR

DBT_TARGET = "prod"
PREPARE_HINT = (
    "`make manifest` (i.e. `uv run dagster-dbt project prepare-and-package "
    "--file techflow_orchestration/project.py`)"
)

# A target path of its own: a developer's `dbt build` (dev target) rewrites target/manifest.json,
# and Dagster must keep reading the manifest parsed for prod.
DBT_TARGET_PATH = Path("target") / "dagster"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, target=DBT_TARGET, target_path=DBT_TARGET_PATH
)


# What the manifest is parsed from (the Makefile's manifest rule lists the same).
PROJECT_SOURCES = ("models", "macros", "seeds", "snapshots", "tests", "dbt_project.yml")


class ManifestNotFoundError(FileNotFoundError):
    """The dbt manifest has not been prepared yet."""


class StaleManifestError(RuntimeError):
    """The dbt project changed after its manifest was prepared."""


def changed_since_manifest(manifest_path: Path = dbt_project.manifest_path) -> list[Path]:
    """dbt project files modified after the manifest was written (empty when it is current)."""
    if not manifest_path.exists():
        return []
    prepared_at = manifest_path.stat().st_mtime
    changed = []
    for name in PROJECT_SOURCES:
        root = DBT_PROJECT_DIR / name
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        changed += [p for p in files if p.stat().st_mtime > prepared_at]
    return sorted(changed)


def ensure_manifest_is_current() -> None:
    """Fail a dbt step early and clearly instead of deep inside dbt's event stream.

    A run with a manifest older than the project would run nodes Dagster does not know about
    (dagster-dbt then fails with a bare KeyError).
    """
    changed = changed_since_manifest()
    if changed:
        shown = ", ".join(str(p.relative_to(DBT_PROJECT_DIR)) for p in changed[:5])
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        raise StaleManifestError(
            f"techflow_dbt changed after its manifest was prepared ({shown}{more}). Rebuild it "
            f"with {PREPARE_HINT}, then reload the code location (or restart `make dev`)."
        )


@cache
def load_manifest(manifest_path: Path = dbt_project.manifest_path) -> dict[str, Any]:
    if not manifest_path.exists():
        raise ManifestNotFoundError(
            f"dbt manifest not found at {manifest_path}. Build it once with {PREPARE_HINT}."
        )
    with manifest_path.open(encoding="utf-8") as fh:
        return json.load(fh)
