"""The slim-CI steps, in the order the pull-request workflow runs them.

1. production state: reuse the base branch's manifest + warehouse, or build them from git;
2. `dbt build --select state:modified+ --defer --state <prod>` into a fresh CI database that
   attaches production read-only (unchanged parents resolve there; production cannot be written);
3. SQLFluff on the changed SQL files only;
4. a data diff of every rebuilt model against production.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from typing import Any

from slim_ci import git, prod_state
from slim_ci.data_diff import ModelDiff, diff_models
from slim_ci.dbt_cli import DbtProject, read_json
from slim_ci.errors import BadInput, StepFailed
from slim_ci.prod_state import ProdState
from slim_ci.settings import CiSettings
from slim_ci.sql_lint import LintResult, lint, sql_files_in_project
from techflow_core.clock import AS_OF_ENV

# Node types that `dbt build` materializes (tests, exposures and sources are not relations we own).
BUILT_PREFIXES = ("model.", "seed.", "snapshot.")


@dataclass(frozen=True)
class SlimCiReport:
    prod: ProdState
    modified: tuple[str, ...]  # unique ids the change touched directly
    results: dict[str, str]  # unique id -> status, for every node the CI build executed
    build_ok: bool
    timings: dict[str, float]  # seconds per step: select, build, lint, diff
    ci_manifest: dict[str, Any] | None
    lint: LintResult
    diffs: tuple[ModelDiff, ...]

    @property
    def built_models(self) -> list[str]:
        return sorted(uid for uid in self.results if uid.startswith("model."))

    @property
    def passed(self) -> bool:
        return self.build_ok and self.lint.passed


def ci_env(settings: CiSettings, prod: ProdState) -> dict[str, str]:
    """What the `ci` target in profiles.yml reads: where to build and what to attach as prod.

    The world start and the as-of day production was built with are reused, so the CI build sees
    the same world on the same day (ProdState.ci_as_of).
    """
    env = {
        "TECHFLOW_DATA_DIR": str(settings.data_dir),
        "TECHFLOW_CI_WAREHOUSE": str(settings.ci_warehouse),
        "TECHFLOW_CI_PROD_WAREHOUSE": str(prod.warehouse),
        "TECHFLOW_CI_PROD_DATABASE": prod.database,
        AS_OF_ENV: prod.ci_as_of().day.isoformat(),
    }
    if prod.stamp.get("world_start"):
        env["TECHFLOW_WORLD_START"] = prod.stamp["world_start"]
    return env


def ensure_prod_state(
    settings: CiSettings, base_commit: str, *, explicit_state: bool, rebuild: bool, echo: bool
) -> ProdState:
    """Reuse valid production state; build it when it is missing (never for an explicit --state)."""
    if rebuild or (not explicit_state and not settings.manifest_path.exists()):
        return prod_state.build(settings, base_commit, echo=echo)
    if explicit_state:
        how = (
            f"download the prod-state artifact of the last main build into {settings.state_dir}, "
            "or run `make ci-slim` without --state to build one from main"
        )
    else:
        how = prod_state.REBUILD_HINT
    state = prod_state.load(settings.state_dir, settings.prod_warehouse, how)
    if state.base_commit and state.base_commit != base_commit:
        print(
            f"slim-ci: note: production state was built from {state.base_commit[:12]} but the "
            f"base is {base_commit[:12]}: what changed on the base since then counts as modified "
            f"too ({prod_state.REBUILD_HINT})"
        )
    return state


def _list_modified(ci: DbtProject, prod: ProdState) -> tuple[str, ...]:
    out = ci.run(
        "--quiet",
        "ls",
        "--select",
        "state:modified",
        "--state",
        str(prod.state_dir),
        "--output",
        "json",
        "--output-keys",
        "unique_id",
        echo=False,
    )
    ids = [json.loads(line)["unique_id"] for line in out.splitlines() if line.startswith("{")]
    # Tests are left out: they count as modified whenever the model they test does.
    return tuple(sorted(uid for uid in ids if uid.startswith(BUILT_PREFIXES)))


def _executed(ci: DbtProject) -> dict[str, str]:
    path = ci.target_path / "run_results.json"
    if not path.exists():
        return {}
    return {r["unique_id"]: r["status"] for r in read_json(path)["results"]}


def _reset_ci_dir(settings: CiSettings) -> None:
    """Wipe the CI database and artifacts, keeping dbt's partial-parse cache.

    A fresh CI database every run matters: deferral only falls back to production for relations
    that do not exist in the CI target, so leftovers from an earlier run would shadow production.
    The parse cache is safe to keep (dbt re-checks every file's hash) and saves a full parse.
    """
    cache = settings.ci_target_path / "partial_parse.msgpack"
    saved = cache.read_bytes() if cache.exists() else None
    shutil.rmtree(settings.ci_dir, ignore_errors=True)
    settings.ci_target_path.mkdir(parents=True)
    if saved is not None:
        cache.write_bytes(saved)


def _build(ci: DbtProject, prod: ProdState, echo: bool) -> bool:
    try:
        ci.run(
            "build", "--select", "state:modified+", "--defer", "--state", str(prod.state_dir),
            echo=echo,
        )  # fmt: skip
    except StepFailed as failure:
        if not echo:
            print(failure)
        return False
    return True


def run(
    settings: CiSettings,
    *,
    explicit_state: bool = False,
    rebuild_prod: bool = False,
    echo: bool = True,
) -> SlimCiReport:
    base_commit = git.resolve_base(settings.repo_root, settings.base_ref)
    prod = ensure_prod_state(
        settings, base_commit, explicit_state=explicit_state, rebuild=rebuild_prod, echo=echo
    )
    if prod.database == settings.ci_warehouse.stem:
        raise BadInput(
            f"the CI database {settings.ci_warehouse} has the same name as production "
            f"({prod.database}): give one of them another file name"
        )
    as_of = prod.ci_as_of()
    if as_of.note:
        print(f"slim-ci: note: {as_of.note}")
    else:
        print(f"slim-ci: building as of {as_of.day}, the day production was built for")
    _reset_ci_dir(settings)
    env = ci_env(settings, prod)
    ci = DbtProject(settings.project_dir, settings.ci_target, settings.ci_target_path, env)
    timings: dict[str, float] = {}

    clock = time.monotonic()
    modified = _list_modified(ci, prod)
    timings["select"] = time.monotonic() - clock

    clock = time.monotonic()
    build_ok = _build(ci, prod, echo)
    timings["build"] = time.monotonic() - clock
    results = _executed(ci)
    manifest_path = ci.target_path / "manifest.json"
    ci_manifest = read_json(manifest_path) if manifest_path.exists() else None

    clock = time.monotonic()
    changed = git.changed_files(settings.repo_root, base_commit)
    changed_sql = sql_files_in_project(changed, settings.project_dir)
    lint_result = lint(changed_sql, settings.project_dir, env)
    timings["lint"] = time.monotonic() - clock

    clock = time.monotonic()
    diffs: list[ModelDiff] = []
    rebuilt = [uid for uid, status in results.items() if status == "success"]
    # Also with nothing rebuilt: a change that only deletes models still has a diff to show.
    if ci_manifest is not None and settings.ci_warehouse.exists():
        diffs = diff_models(
            settings.ci_warehouse,
            prod.warehouse,
            prod.database,
            ci_manifest,
            prod.manifest,
            rebuilt,
            set(modified),
        )
    timings["diff"] = time.monotonic() - clock
    return SlimCiReport(
        prod=prod,
        modified=modified,
        results=results,
        build_ok=build_ok,
        timings=timings,
        ci_manifest=ci_manifest,
        lint=lint_result,
        diffs=tuple(diffs),
    )


@dataclass(frozen=True)
class BuildSize:
    """How much a `dbt build` did: nodes executed, wall-clock and dbt's own execution seconds."""

    nodes: int
    models: int
    wall_seconds: float | None
    dbt_seconds: float | None


def _size(run_results: dict[str, Any] | None, wall_seconds: float | None) -> BuildSize:
    results = (run_results or {}).get("results", [])
    return BuildSize(
        nodes=len(results),
        models=sum(1 for r in results if r["unique_id"].startswith("model.")),
        wall_seconds=wall_seconds,
        dbt_seconds=(run_results or {}).get("elapsed_time"),
    )


def production_size(prod: ProdState) -> BuildSize:
    """What the full production build did (its run_results and the wall time slim CI recorded)."""
    path = prod.state_dir / "run_results.json"
    seconds = prod.stamp.get("build_seconds")
    return _size(read_json(path) if path.exists() else None, seconds)


def ci_size(report: SlimCiReport, settings: CiSettings) -> BuildSize:
    path = settings.ci_target_path / "run_results.json"
    return _size(read_json(path) if path.exists() else None, report.timings.get("build"))
