"""Where things are and how a reader opens the warehouse: facts every package reads in the core."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from techflow_core.paths import (
    DASHBOARDS,
    DBT_PROJECT_DIR,
    dashboard_file,
    dashboards_dir,
)
from techflow_core.warehouse import build_warehouse_for, connect_read_only


def test_every_dashboard_is_a_dashboard_exposure_of_the_dbt_project():
    exposures = yaml.safe_load((DBT_PROJECT_DIR / "models" / "exposures.yml").read_text())
    declared = {e["name"] for e in exposures["exposures"] if e["type"] == "dashboard"}
    assert set(DASHBOARDS) == declared == {"mrr_finance_dashboard", "marketing_roi_dashboard"}


def test_a_dashboard_is_one_html_page_under_the_data_dir(tmp_path):
    assert dashboards_dir(tmp_path) == tmp_path / "dashboards"
    assert dashboard_file(tmp_path, "mrr_finance_dashboard") == (
        tmp_path / "dashboards" / "mrr_finance_dashboard.html"
    )


def test_the_build_file_is_private_beside_the_published_one(tmp_path):
    published = tmp_path / "warehouse" / "techflow.duckdb"
    assert build_warehouse_for(published) == tmp_path / "warehouse" / "build" / "techflow.duckdb"


def test_a_reader_reads_the_published_warehouse_and_cannot_write_it(tmp_path):
    published = tmp_path / "techflow.duckdb"
    with duckdb.connect(str(published)) as writer:
        writer.execute("create table mrr as select 48.00 as mrr_usd")
    with connect_read_only(published) as reader:
        assert reader.execute("select mrr_usd from mrr").fetchone() == (48.00,)
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):
            reader.execute("insert into mrr values (1)")
