"""Where slim CI reads and writes: the shared paths from techflow_core, CI's own beside them.

Layout under $TECHFLOW_DATA_DIR (all generated, never committed):

    raw/                        the synthetic world the sources read (shared with `make run`)
    prod_artifacts/             the production state slim CI compares against:
        manifest.json           the manifest of the base branch (main)
        techflow.duckdb         the warehouse that manifest's relations live in
        prod_state.json         which commit and dbt version built them
    ci/                         one slim-CI run, wiped at the start of each run:
        techflow_ci.duckdb      the CI database (only the modified models are built here)
        target/, logs/          that run's dbt artifacts

The production warehouse here is slim CI's own, built from the base branch, so that a local
`make ci-slim` never writes the warehouse that `make run` and Dagster maintain.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from techflow_core.paths import DBT_PROJECT_DIR, REPO_ROOT
from techflow_core.settings import data_dir_from_env, warehouse_from_env

PROJECT_SUBDIR = DBT_PROJECT_DIR.name

# The database names are the file stems (dbt-duckdb derives them from the path); they must differ
# so the CI database can attach production under its own name.
PROD_WAREHOUSE_NAME = "techflow.duckdb"
CI_WAREHOUSE_NAME = "techflow_ci.duckdb"


@dataclass(frozen=True)
class CiSettings:
    repo_root: Path
    project_dir: Path
    data_dir: Path
    warehouse: Path  # the warehouse `make run` and Dagster maintain (docs read it)
    state_dir: Path
    prod_warehouse: Path
    ci_dir: Path
    base_ref: str | None = None
    prod_target: str = "prod"
    ci_target: str = "ci"

    @classmethod
    def from_env(cls, repo_root: Path = REPO_ROOT) -> CiSettings:
        # The shared values (data dir, the published warehouse) come from the core's one parse;
        # what is CI's own (its state and run folders, targets, base ref) is decided here.
        data_dir = data_dir_from_env(repo_root=repo_root)
        state_dir = data_dir / "prod_artifacts"
        return cls(
            repo_root=repo_root,
            project_dir=repo_root / PROJECT_SUBDIR,
            data_dir=data_dir,
            warehouse=warehouse_from_env(data_dir=data_dir),
            state_dir=state_dir,
            prod_warehouse=state_dir / PROD_WAREHOUSE_NAME,
            ci_dir=data_dir / "ci",
        )

    def with_overrides(self, **changes: object) -> CiSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def ci_warehouse(self) -> Path:
        return self.ci_dir / CI_WAREHOUSE_NAME

    @property
    def ci_target_path(self) -> Path:
        return self.ci_dir / "target"

    @property
    def manifest_path(self) -> Path:
        return self.state_dir / "manifest.json"

    @property
    def project_subdir(self) -> Path:
        """The dbt project's path inside the repository (to export it from git at a base ref)."""
        return self.project_dir.relative_to(self.repo_root)
