"""Settings are checked at start: a bad value stops `make run` (and the code location) at once
with one line naming the variable, instead of failing deep inside the first raw step."""

from __future__ import annotations

import subprocess
import sys

import pytest

from techflow_core.settings import REPO_ROOT, TechflowSettings
from techflow_orchestration import run_all

AS_OF = {"TECHFLOW_AS_OF": "2026-06-14"}


@pytest.mark.parametrize("scale", ["nan", "NaN", "0", "-1", "inf", "-inf", "1e9", "big"])
def test_a_world_scale_that_is_not_a_size_is_refused_in_one_line(scale):
    with pytest.raises(ValueError, match="TECHFLOW_WORLD_SCALE=") as refused:
        TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": scale})
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("scale", ["0.05", "1", "10", "1000"])
def test_a_world_scale_is_a_positive_finite_number(scale):
    settings = TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": scale})
    assert settings.world_scale == float(scale)


def test_an_empty_world_scale_means_the_default_world():
    assert TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": ""}).world_scale is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TECHFLOW_WORLD_START", "2025-13-01"),
        ("TECHFLOW_WORLD_START", "01/01/2025"),
        ("TECHFLOW_AS_OF", "yesterday"),
        ("TECHFLOW_AS_OF", "2026-02-30"),
    ],
)
def test_a_bad_date_is_refused_in_one_line_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=name) as refused:
        TechflowSettings.from_env({**AS_OF, name: value})
    assert "\n" not in str(refused.value)


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
    assert last.startswith("ValueError: TECHFLOW_WORLD_SCALE='0' is not a world size"), last
