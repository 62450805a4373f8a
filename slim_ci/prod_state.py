"""Production state: the base branch's manifest and the warehouse its relations live in.

Deferral needs both: the manifest says which relation each unchanged node resolves to, the
warehouse holds those relations (attached read-only to the CI database under the manifest's
database name). A manifest from another dbt minor release is refused, since state comparison
across releases marks nodes modified for reasons that have nothing to do with the change.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dbt.version import __version__ as DBT_VERSION

from slim_ci import git
from slim_ci.dbt_cli import DbtProject, minor_version, read_json
from slim_ci.errors import BadInput
from slim_ci.settings import CiSettings

STATE_FILE = "prod_state.json"
REBUILD_HINT = "rebuild it with `make ci-slim REBUILD_PROD=1`"


@dataclass(frozen=True)
class ProdState:
    state_dir: Path
    manifest: dict[str, Any]
    warehouse: Path
    database: str
    stamp: dict[str, Any]  # prod_state.json: base_commit, dbt_version, build_seconds, built_at

    @property
    def base_commit(self) -> str | None:
        return self.stamp.get("base_commit")

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / "manifest.json"


def production_database(manifest: dict[str, Any], source: Path) -> str:
    """The database name the manifest's models and seeds live in (the prod DuckDB file's stem)."""
    names = Counter(
        node["database"]
        for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") in {"model", "seed", "snapshot"} and node.get("database")
    )
    if not names:
        raise BadInput(f"{source} has no models or seeds: it is not a manifest of this project")
    return names.most_common(1)[0][0]


def load(state_dir: Path, warehouse: Path, how_to_make: str) -> ProdState:
    """Read and check the production state; BadInput (one line) says what is missing and how."""
    manifest_path = state_dir / "manifest.json"
    if not manifest_path.exists():
        raise BadInput(f"no production state: {manifest_path} does not exist; {how_to_make}")
    try:
        manifest = read_json(manifest_path)
        version = manifest["metadata"]["dbt_version"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadInput(
            f"{manifest_path} is not a dbt manifest ({exc.__class__.__name__}); {how_to_make}"
        ) from exc
    if minor_version(version) != minor_version(DBT_VERSION):
        raise BadInput(
            f"{manifest_path} was written by dbt {version} but this is dbt {DBT_VERSION}: "
            f"state from another dbt release cannot be compared; {how_to_make}"
        )
    if not warehouse.exists():
        raise BadInput(
            f"no production warehouse at {warehouse} for the manifest in {state_dir}; {how_to_make}"
        )
    stamp_path = state_dir / STATE_FILE
    stamp = read_json(stamp_path) if stamp_path.exists() else {}
    return ProdState(
        state_dir=state_dir,
        manifest=manifest,
        warehouse=warehouse,
        database=production_database(manifest, manifest_path),
        stamp=stamp,
    )


def _has_raw_data(raw_dir: Path) -> bool:
    return raw_dir.is_dir() and next(raw_dir.rglob("*.parquet"), None) is not None


def build(settings: CiSettings, base_commit: str, echo: bool = True) -> ProdState:
    """Build production from the base commit's dbt project into `settings.state_dir`.

    The project is exported from git at the base commit (not the working tree, which holds the
    change under test) and built with the prod target into a sibling directory that replaces the
    state directory only once the build has succeeded, so a failed build never leaves a state
    that looks usable.
    """
    if settings.prod_warehouse.parent != settings.state_dir:
        raise BadInput(
            f"--prod-warehouse {settings.prod_warehouse} is outside {settings.state_dir}: "
            "slim CI only builds production state inside its state directory"
        )
    if not _has_raw_data(settings.raw_dir):
        raise BadInput(
            f"no production state in {settings.state_dir} and no raw data in {settings.raw_dir} "
            "to build it from: run `make run` first (or set TECHFLOW_DATA_DIR to a generated world)"
        )
    staging = settings.state_dir.with_name(settings.state_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    warehouse = staging / settings.prod_warehouse.name
    with tempfile.TemporaryDirectory(prefix="slim_ci_base_") as export_root:
        project_dir = git.export_tree(
            settings.repo_root, base_commit, settings.project_subdir, Path(export_root)
        )
        dbt = DbtProject(
            project_dir=project_dir,
            target=settings.prod_target,
            target_path=Path(export_root) / "target",
            env={
                "TECHFLOW_DATA_DIR": str(settings.data_dir),
                "TECHFLOW_WAREHOUSE": str(warehouse),
            },
        )
        print(f"slim-ci: building production from {base_commit[:12]} into {settings.state_dir}")
        started = time.monotonic()
        dbt.run("build", echo=echo)
        build_seconds = round(time.monotonic() - started, 1)
        shutil.copy2(dbt.target_path / "manifest.json", staging / "manifest.json")
        shutil.copy2(dbt.target_path / "run_results.json", staging / "run_results.json")
    stamp = {
        "base_commit": base_commit,
        "dbt_version": DBT_VERSION,
        "build_seconds": build_seconds,
        # The MRR spine starts at TECHFLOW_WORLD_START: CI builds must use production's value,
        # or every MRR day before or after the other start shows up in the data diff.
        "world_start": os.environ.get("TECHFLOW_WORLD_START"),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(settings.data_dir),
    }
    (staging / STATE_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    staging.rename(settings.state_dir)
    return load(settings.state_dir, settings.prod_warehouse, REBUILD_HINT)
