"""Settings are checked at start: a bad value stops `make run` (and the code location) at once
with the core's one line naming the variable (tests/core/test_settings.py checks each variable)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from techflow_core.paths import REPO_ROOT
from techflow_ops import run_all

AS_OF = {"TECHFLOW_AS_OF": "2026-06-14"}


def test_make_run_stops_before_anything_runs_with_the_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("TECHFLOW_WORLD_SCALE", "nan")
    monkeypatch.setenv("TECHFLOW_AS_OF", "2026-06-14")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "untouched"))
    with pytest.raises(SystemExit) as stopped:
        run_all.main([])
    message = str(stopped.value.code)
    assert message.startswith("TECHFLOW_WORLD_SCALE='nan' is not a world size")
    assert "\n" not in message
    assert not (tmp_path / "untouched").exists()


def test_the_code_location_refuses_to_load_with_the_one_line(tmp_path):
    """What `make dev` / `dagster asset materialize` show: the same line, at load."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import techflow_orchestration.definitions"],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "TECHFLOW_WORLD_SCALE": "0", **AS_OF},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert loaded.returncode != 0
    last = loaded.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "techflow_core.errors.SettingsError: TECHFLOW_WORLD_SCALE='0' is not a world size"
    ), last
