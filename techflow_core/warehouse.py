"""Which warehouse, and how a reader opens it: the one place readers connect.

Builds write a private file (`build_warehouse_for`) and publish it atomically over the readers'
one after its tests pass (write-audit-publish), so readers open the published file read-only:
DuckDB lets any number of read-only processes share it, and they never see an unaudited build.
Metrics, dashboards, the churn model's features and slim CI's data diff connect through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when a reader connects: settings (and the generator) need no DuckDB
    import duckdb

BUILD_WAREHOUSE_ENV = "TECHFLOW_BUILD_WAREHOUSE"
WAREHOUSE_FILE_NAME = "techflow.duckdb"


def default_warehouse(data_dir: Path) -> Path:
    """The published warehouse when $TECHFLOW_WAREHOUSE is unset."""
    return data_dir / "warehouse" / WAREHOUSE_FILE_NAME


def build_warehouse_for(published: Path) -> Path:
    """The private file dbt builds and tests in before it is published over `published`:
    build/<same name> beside it. Same name, so DuckDB gives the copy the same catalog name
    (techflow). techflow_dbt/profiles.yml derives the same path for plain `dbt` runs."""
    return published.parent / "build" / published.name


def connect_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to a published warehouse file (a context manager too)."""
    import duckdb

    return duckdb.connect(str(warehouse), read_only=True)
