"""Production state: the base branch's manifest and the warehouse its relations live in.

Deferral needs both: the manifest says which relation each unchanged node resolves to, the
warehouse holds those relations (attached read-only to the CI database under the manifest's
database name). A manifest from another dbt minor release is refused, since state comparison
across releases marks nodes modified for reasons that have nothing to do with the change.

Production also records the as-of day it was built for (TECHFLOW_AS_OF, resolved once when the
build starts) and CI builds reuse it: a pull request opened a week after the last main build
compares the same days, instead of failing every recency test and diffing every day since.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dbt.version import __version__ as DBT_VERSION

from slim_ci import git
from slim_ci.dbt_cli import DbtProject, minor_version, read_json
from slim_ci.errors import BadInput
from slim_ci.settings import CiSettings
from techflow_core.clock import AS_OF_ENV, as_of_date, parse_as_of, yesterday_utc
from techflow_core.durable import fsync_dir, fsync_file

STATE_FILE = "prod_state.json"
REBUILD_HINT = "rebuild it with `make ci-slim REBUILD_PROD=1`"


def environment_as_of(environ: Mapping[str, str] | None = None) -> date:
    """TECHFLOW_AS_OF, else yesterday (UTC); a malformed value is bad input (one line, exit 2)."""
    try:
        return as_of_date(environ)
    except ValueError as exc:
        raise BadInput(str(exc)) from exc


@dataclass(frozen=True)
class CiAsOf:
    """The as-of day CI builds use, and a note when it is not the one production recorded."""

    day: date
    note: str | None = None


@dataclass(frozen=True)
class ProdState:
    state_dir: Path
    manifest: dict[str, Any]
    warehouse: Path
    database: str
    # prod_state.json: base_commit, dbt_version, build_seconds, world_start, as_of, built_at
    # (an audit field: when the build ran; as_of is the day it was built for), data_dir
    stamp: dict[str, Any]

    @property
    def base_commit(self) -> str | None:
        return self.stamp.get("base_commit")

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / "manifest.json"

    @property
    def as_of(self) -> date | None:
        """The as-of day production was built for; None in state written before it was recorded."""
        raw = self.stamp.get("as_of")
        if not raw:
            return None
        try:
            return parse_as_of(str(raw))
        except ValueError as exc:
            raise BadInput(
                f"{self.state_dir / STATE_FILE} records as_of={raw!r}, which is not a date; "
                f"{REBUILD_HINT}"
            ) from exc

    def ci_as_of(self, environ: Mapping[str, str] | None = None) -> CiAsOf:
        """The as-of day a CI build against this production uses: the one production recorded,
        whatever the day or TECHFLOW_AS_OF is now, so both sides describe the same days.

        State from before as_of was recorded falls back to the day before `built_at` (what a
        build then took as "yesterday"), else to TECHFLOW_AS_OF / yesterday, with a note.
        """
        env = os.environ if environ is None else environ
        recorded = self.as_of
        if recorded is not None:
            chosen = (env.get(AS_OF_ENV) or "").strip()
            note = None
            if chosen and chosen != recorded.isoformat():
                note = (
                    f"{AS_OF_ENV}={chosen} is ignored: CI builds use production's as-of day "
                    f"{recorded}, so the data diff compares the same days"
                )
            return CiAsOf(recorded, note)
        built_at = self.stamp.get("built_at")
        if built_at:
            try:
                day = yesterday_utc(datetime.fromisoformat(str(built_at)))
            except ValueError:
                day = None
            if day is not None:
                return CiAsOf(
                    day,
                    f"production state records no as-of day (written before slim CI recorded "
                    f"one): CI builds use {day}, the day before it was built ({built_at}); "
                    f"{REBUILD_HINT} to record it",
                )
        day = environment_as_of(env)
        return CiAsOf(
            day,
            f"production state records no as-of day and no build time: CI builds use {day} "
            f"({AS_OF_ENV}, else yesterday UTC), which may not be the day production was built "
            f"for; {REBUILD_HINT} to record it",
        )


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
    # Resolved once, here: every node of the build (and every later CI build) uses this day.
    as_of = environment_as_of()
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
                # Built in place: this whole staging directory is what gets published (renamed
                # over the state directory) once the build succeeded, so no separate build file.
                "TECHFLOW_BUILD_WAREHOUSE": str(warehouse),
                AS_OF_ENV: as_of.isoformat(),
            },
        )
        print(
            f"slim-ci: building production from {base_commit[:12]} as of {as_of} "
            f"into {settings.state_dir}"
        )
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
        # The day the build was for (recency tests, "currently" rules, the MRR spine's end): CI
        # builds reuse it, however much later they run.
        "as_of": as_of.isoformat(),
        # Audit only: when the build ran (the one wall-clock read here; no result depends on it).
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(settings.data_dir),
    }
    (staging / STATE_FILE).write_text(json.dumps(stamp, indent=2) + "\n")
    # Durably: every file on disk before the rename publishes them (techflow_core.durable).
    for path in staging.iterdir():
        if path.is_file():
            fsync_file(path)
    fsync_dir(staging)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    staging.rename(settings.state_dir)
    fsync_dir(settings.state_dir.parent)
    return load(settings.state_dir, settings.prod_warehouse, REBUILD_HINT)
