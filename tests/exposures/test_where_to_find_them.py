"""Finding the exposures: `make run`'s summary names the dashboards and the scores table, and
`make dashboards` serves the files on 127.0.0.1 (or says to run `make run` first)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from dataclasses import replace

import pytest

from techflow_core.paths import REPO_ROOT
from techflow_core.settings import TechflowSettings
from techflow_ops.summary import exposure_lines
from techflow_orchestration.lib.keys import CHURN_SCORES_TABLE
from tests.exposures.conftest import ExposureWorld

pytestmark = pytest.mark.slow

NAMES = ("mrr_finance_dashboard.html", "marketing_roi_dashboard.html")


def settings_for(world: ExposureWorld) -> TechflowSettings:
    return TechflowSettings.from_env(world.env)


def test_the_summary_says_where_the_dashboards_and_scores_are(exposure_world, tmp_path) -> None:
    lines = "\n".join(exposure_lines(settings_for(exposure_world)))
    for name in NAMES:
        assert str(exposure_world.data_dir / "dashboards" / name) in lines
    assert "(not built yet)" not in lines
    assert "make dashboards" in lines and CHURN_SCORES_TABLE in lines
    empty = replace(settings_for(exposure_world), data_dir=tmp_path)
    assert "\n".join(exposure_lines(empty)).count("(not built yet)") == 2


def test_make_dashboards_serves_them_on_localhost(exposure_world: ExposureWorld) -> None:
    env = {**os.environ, **exposure_world.env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "techflow_dashboards.serve"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        urls = [proc.stdout.readline().strip() for _ in NAMES]
        assert [u.rsplit("/", 1)[1] for u in urls] == list(NAMES)
        for url in urls:
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.status == 200
                assert b'<div class="kpi"' in response.read()
    finally:
        # SIGKILL, not SIGTERM: the server has nothing to flush, and SIGTERM can be ignored by a
        # disposition inherited from whatever started the test run (one CI run's server had it
        # and outlived the 30 s wait).
        proc.kill()
        proc.wait(timeout=30)


def test_make_dashboards_before_make_run_says_what_to_do(tmp_path) -> None:
    env = {**os.environ, "TECHFLOW_DATA_DIR": str(tmp_path), "TECHFLOW_AS_OF": "2026-06-14"}
    env.pop("TECHFLOW_WAREHOUSE", None)
    done = subprocess.run(
        [sys.executable, "-m", "techflow_dashboards.serve"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Run `make run` first" in done.stderr and str(tmp_path / "dashboards") in done.stderr
