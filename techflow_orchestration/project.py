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
PREPARE_COMMAND = (
    "make manifest  (= uv run dagster-dbt project prepare-and-package "
    "--file techflow_orchestration/project.py)"
)

# A target path of its own: a developer's `dbt build` (dev target) rewrites target/manifest.json,
# and Dagster must keep reading the manifest parsed for prod.
DBT_TARGET_PATH = Path("target") / "dagster"

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, target=DBT_TARGET, target_path=DBT_TARGET_PATH
)


class ManifestNotFoundError(FileNotFoundError):
    """The dbt manifest has not been prepared yet."""


@cache
def load_manifest(manifest_path: Path = dbt_project.manifest_path) -> dict[str, Any]:
    if not manifest_path.exists():
        raise ManifestNotFoundError(
            f"dbt manifest not found at {manifest_path}. Build it once with: {PREPARE_COMMAND}"
        )
    with manifest_path.open(encoding="utf-8") as fh:
        return json.load(fh)
