"""Where things are: the repository, the dbt project and what it prepares, the dashboards.

Fixed by the repository's layout, not by the environment (the settings say where the data lives;
these helpers place files under it). Every package asks here instead of spelling a path itself.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "techflow_dbt"
DBT_PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"

# The target path Dagster's dbt invocations and `make manifest` use, relative to the dbt project:
# a developer's `dbt build` (dev target) rewrites target/manifest.json, and Dagster must keep
# reading the manifest parsed for prod.
DBT_TARGET_PATH = Path("target") / "dagster"
PREPARED_TARGET_DIR = DBT_PROJECT_DIR / DBT_TARGET_PATH
# Written by `make manifest` (dbt parse for the prod target): what the code location loads, and
# the semantic layer's definitions that metrics, dashboards and the summary query.
MANIFEST_PATH = PREPARED_TARGET_DIR / "manifest.json"
SEMANTIC_MANIFEST_PATH = PREPARED_TARGET_DIR / "semantic_manifest.json"

# The dashboards: static HTML pages under $TECHFLOW_DATA_DIR/dashboards/, one per exposure of
# techflow_dbt/models/exposures.yml; the code location keys its assets by these names.
DASHBOARDS_DIR_NAME = "dashboards"
MRR_FINANCE_DASHBOARD = "mrr_finance_dashboard"
MARKETING_ROI_DASHBOARD = "marketing_roi_dashboard"
DASHBOARDS = (MRR_FINANCE_DASHBOARD, MARKETING_ROI_DASHBOARD)


def dashboards_dir(data_dir: Path) -> Path:
    return data_dir / DASHBOARDS_DIR_NAME


def dashboard_file(data_dir: Path, name: str) -> Path:
    """The page of dashboard `name` (one of DASHBOARDS)."""
    return dashboards_dir(data_dir) / f"{name}.html"
