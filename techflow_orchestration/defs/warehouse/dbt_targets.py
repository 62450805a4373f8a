"""Where each dbt step writes its artifacts, seeded with the prepared parse, and pruned.

dagster-dbt gives every invocation a target folder of its own (run_results.json, manifest.json,
dbt.log), and seeds it with `partial_parse.msgpack` from the target path *it* is configured with
(`DBT_TARGET_PATH`, else `target/`), not from the project's: without help each step finds no saved
parse and starts a full one. So a step gets a folder under the prepared target path
(techflow_dbt/target/dagster/invocations/<op>-<run>-<id>), seeded here with a saved parse, so
partial parsing re-reads only what changed since (the seeds, which dagster-dbt's preparer marks
stale on purpose; files whose `env_var()`s differ).

Which saved parse: dbt keeps its profile's connection values (the warehouse path) in the parse
state and starts over when they differ. `make manifest` parses with the environment `make run`
and `make dev` use, so their first step reuses it; a code location pointed at another warehouse
(the tests' temporary worlds, a benchmark) parses fully once, and each step then saves its parse
per warehouse (parse_cache/<key>.msgpack) for the next one. dbt validates whatever it is given
(file checksums, vars, profile, dbt version): a stale seed costs a re-parse, never a wrong one.

The folders pile up, one per step of every run: before a step starts, all but the
newest KEEP_INVOCATIONS are deleted. The one running is always among the newest, and dbt steps
never overlap (they share the one-slot `duckdb` pool).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from techflow_core.durable import replace_durably
from techflow_orchestration.project import dbt_project

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PREPARED_TARGET = dbt_project.project_dir / dbt_project.target_path
INVOCATIONS_DIR = PREPARED_TARGET / "invocations"
PARSE_CACHE_DIR = PREPARED_TARGET / "parse_cache"
# What the profile's connection values are rendered from (techflow_dbt/profiles.yml, prod target).
PROFILE_ENV = ("TECHFLOW_BUILD_WAREHOUSE", "TECHFLOW_WAREHOUSE", "TECHFLOW_DATA_DIR")
# Enough to read the last dozen runs' dbt.log and run_results.json (one dbt step per run).
KEEP_INVOCATIONS = 12


def prepared_partial_parse() -> Path:
    return PREPARED_TARGET / PARTIAL_PARSE_FILE


def cached_parse_path(cache_dir: Path = PARSE_CACHE_DIR) -> Path:
    """Where steps of this environment (its warehouse) save and find their parse."""
    profile = "|".join(f"{name}={os.environ.get(name, '')}" for name in PROFILE_ENV)
    return cache_dir / f"{hashlib.sha256(profile.encode()).hexdigest()[:16]}.msgpack"


def parse_seed(cache_dir: Path = PARSE_CACHE_DIR) -> Path | None:
    """The saved parse a new step starts from: this environment's, unless `make manifest` has
    prepared a newer one since (the project changed); the prepared one when there is none."""
    prepared, cached = prepared_partial_parse(), cached_parse_path(cache_dir)
    candidates = [p for p in (cached, prepared) if p.exists()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def save_parse(target: Path, cache_dir: Path = PARSE_CACHE_DIR) -> None:
    """Keep a finished step's parse as this environment's seed (atomically: a concurrent step
    reads the old file or the new one, never half of one)."""
    parsed = target / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return
    destination = cached_parse_path(cache_dir)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:7]}")
    shutil.copy2(parsed, partial)
    replace_durably(partial, destination, sync_dir=False)  # a lost rename only costs a re-parse


def prune_invocations(keep: int = KEEP_INVOCATIONS, root: Path = INVOCATIONS_DIR) -> list[Path]:
    """Delete all but the `keep` newest invocation folders (by modification time); returns the
    deleted ones."""
    if not root.is_dir():
        return []
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    stale = folders[keep:]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return stale


def new_invocation_target(
    op_name: str, run_id: str, root: Path = INVOCATIONS_DIR, cache_dir: Path = PARSE_CACHE_DIR
) -> Path:
    """A fresh target folder for one dbt invocation, holding a copy of the saved parse.

    Older folders are pruned first, so this one counts among the ones kept.
    """
    prune_invocations(keep=KEEP_INVOCATIONS - 1, root=root)
    target = root / f"{op_name}-{run_id[:8]}-{uuid.uuid4().hex[:7]}"
    target.mkdir(parents=True)
    seed = parse_seed(cache_dir)
    if seed is not None:  # none only if the manifest was prepared by other means
        shutil.copy2(seed, target / PARTIAL_PARSE_FILE)
    return target
