"""The dbt project as Dagster sees it, and its manifest — prepared once, never parsed at import.

A full `dbt parse` reads every file of the project and takes many seconds; done at import it
would be paid by every Dagster process. So the manifest is built ahead of time by `make manifest`
(`python -m techflow_orchestration.project`, the equivalent of `dagster-dbt project
prepare-and-package` that also records a hash of the project files it parsed); `make run`,
`make dev` and the tests' setup call it. Importing the definitions only reads the JSON. It is
parsed for the `prod` target: the schemas in the manifest are the ones Dagster's runs write.
Before running dbt, a step compares the project with that record and fails with the fix when they
differ, instead of dagster-dbt failing on a node its manifest does not know.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from techflow_core.paths import DBT_PROJECT_DIR, DBT_TARGET_PATH

DBT_TARGET = "prod"
PREPARE_HINT = "`make manifest` (i.e. `uv run python -m techflow_orchestration.project`)"


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, target=DBT_TARGET, target_path=DBT_TARGET_PATH
)


# What the manifest is parsed from (the Makefile's manifest rule lists the same).
PROJECT_SOURCES = ("models", "macros", "seeds", "snapshots", "tests", "dbt_project.yml")
# Next to the manifest: a hash of every project file it was parsed from.
FINGERPRINT_PATH = dbt_project.manifest_path.with_name("manifest.sources.json")


class ManifestNotFoundError(FileNotFoundError):
    """The dbt manifest has not been prepared yet."""


class StaleManifestError(RuntimeError):
    """The dbt project changed after its manifest was prepared."""


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """sha256 of every file the manifest is parsed from, by path relative to the project."""
    fingerprint = {}
    for name in PROJECT_SOURCES:
        root = project_dir / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            relative = str(path.relative_to(project_dir))
            fingerprint[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return fingerprint


def prepare_manifest() -> Path:
    """`dbt parse` for the prod target, then record what it was parsed from."""
    # Fingerprint first: a file edited during the parse then shows up as changed.
    fingerprint = project_fingerprint()
    dbt_project.preparer.prepare(dbt_project)
    FINGERPRINT_PATH.write_text(json.dumps(fingerprint, indent=1, sort_keys=True))
    return dbt_project.manifest_path


def changed_since_manifest(fingerprint_path: Path = FINGERPRINT_PATH) -> list[str]:
    """Project files added, removed or edited since the manifest was prepared.

    By content, not modification time, so a file that is touched or rewritten unchanged (git
    checkouts, tools that restore files) does not count. Empty when there is no record, i.e. the
    manifest was prepared by other means.
    """
    if not fingerprint_path.exists():
        return []
    recorded: dict[str, str] = json.loads(fingerprint_path.read_text())
    current = project_fingerprint()
    return sorted(
        path for path in recorded.keys() | current.keys() if recorded.get(path) != current.get(path)
    )


def ensure_manifest_is_current() -> None:
    """Fail a dbt step early and clearly instead of deep inside dbt's event stream.

    A run with a manifest older than the project would run nodes Dagster does not know about
    (dagster-dbt then fails with a bare KeyError).
    """
    changed = changed_since_manifest()
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise StaleManifestError(
            f"techflow_dbt changed after its manifest was prepared ({shown}). Rebuild it "
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


if __name__ == "__main__":
    print(f"dbt manifest prepared: {prepare_manifest()}")
