"""Production records the as-of day it was built for, and CI builds reuse it.

A pull request opened a week after the last main build must compare the same days as
production: not fail every recency test, and not diff every day since. All dates are fixed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from slim_ci.errors import BadInput
from slim_ci.pipeline import ci_env
from slim_ci.prod_state import ProdState
from slim_ci.settings import CiSettings
from tests.support import AS_OF

A_WEEK_LATER = "2026-06-21"


def _prod(tmp_path: Path, **stamp: object) -> ProdState:
    return ProdState(
        state_dir=tmp_path / "prod_artifacts",
        manifest={},
        warehouse=tmp_path / "prod_artifacts" / "techflow.duckdb",
        database="techflow",
        stamp={"base_commit": "0" * 40, **stamp},
    )


def _settings(tmp_path: Path) -> CiSettings:
    return CiSettings(
        repo_root=tmp_path,
        project_dir=tmp_path / "techflow_dbt",
        data_dir=tmp_path / "data",
        warehouse=tmp_path / "data" / "warehouse" / "techflow.duckdb",
        state_dir=tmp_path / "prod_artifacts",
        prod_warehouse=tmp_path / "prod_artifacts" / "techflow.duckdb",
        ci_dir=tmp_path / "data" / "ci",
    )


def test_ci_uses_the_as_of_day_production_recorded(tmp_path) -> None:
    prod = _prod(tmp_path, as_of="2026-06-14", built_at="2026-06-15T00:41:07+00:00")
    choice = prod.ci_as_of(environ={})
    assert (choice.day, choice.note) == (AS_OF, None)
    assert ci_env(_settings(tmp_path), prod)["TECHFLOW_AS_OF"] == "2026-06-14"


def test_a_later_techflow_as_of_does_not_move_the_ci_build(tmp_path) -> None:
    """The PR's environment says a week later; CI still builds production's day, and says so."""
    prod = _prod(tmp_path, as_of="2026-06-14")
    choice = prod.ci_as_of(environ={"TECHFLOW_AS_OF": A_WEEK_LATER})
    assert choice.day == AS_OF
    assert choice.note is not None
    assert f"TECHFLOW_AS_OF={A_WEEK_LATER} is ignored" in choice.note
    assert "production's as-of day 2026-06-14" in choice.note


def test_the_same_techflow_as_of_is_no_news(tmp_path) -> None:
    prod = _prod(tmp_path, as_of="2026-06-14")
    assert prod.ci_as_of(environ={"TECHFLOW_AS_OF": "2026-06-14"}).note is None


def test_old_state_without_an_as_of_day_falls_back_to_the_day_before_it_was_built(
    tmp_path,
) -> None:
    """What a build took as "yesterday" then; the note says so and how to record the day."""
    prod = _prod(tmp_path, built_at="2026-06-15T00:41:07+00:00")
    choice = prod.ci_as_of(environ={"TECHFLOW_AS_OF": A_WEEK_LATER})
    assert choice.day == date(2026, 6, 14)
    assert choice.note is not None
    assert "records no as-of day" in choice.note
    assert "2026-06-15T00:41:07+00:00" in choice.note
    assert "make ci-slim REBUILD_PROD=1" in choice.note


def test_state_without_as_of_or_build_time_falls_back_to_techflow_as_of(tmp_path) -> None:
    prod = _prod(tmp_path)
    choice = prod.ci_as_of(environ={"TECHFLOW_AS_OF": "2026-06-14"})
    assert choice.day == AS_OF
    assert choice.note is not None
    assert "no as-of day and no build time" in choice.note


def test_a_recorded_as_of_that_is_not_a_date_is_bad_input(tmp_path) -> None:
    prod = _prod(tmp_path, as_of="last sunday")
    with pytest.raises(BadInput, match=r"records as_of='last sunday', which is not a date"):
        prod.ci_as_of(environ={})


def test_a_malformed_techflow_as_of_is_bad_input_when_it_is_needed(tmp_path) -> None:
    prod = _prod(tmp_path)
    with pytest.raises(BadInput, match=r"TECHFLOW_AS_OF='June 14' is not a date"):
        prod.ci_as_of(environ={"TECHFLOW_AS_OF": "June 14"})
