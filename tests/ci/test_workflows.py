"""The two workflows agree with each other and with slim_ci.

Schema and security are checked by `make lint` (check-jsonschema, zizmor); these tests pin the
contract between the workflows: main publishes the production state pull requests compare
against, over the same world, and every action is pinned to a commit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


PR = _load("slim-ci.yml")
MAIN = _load("production.yml")


def test_pull_requests_run_slim_ci_against_the_downloaded_production_state() -> None:
    steps = _steps(PR)
    download = next(s for s in steps if s.get("uses", "").startswith("actions/download-artifact"))
    slim = next(s for s in steps if "python -m slim_ci" in s.get("run", ""))
    state_dir = download["with"]["path"]
    assert f"--state {state_dir}" in slim["run"]
    assert steps.index(download) < steps.index(slim)
    assert any(s.get("run") == "make test" for s in steps[steps.index(slim) :])


def _uploads() -> dict[str, list[str]]:
    return {
        s["with"]["name"]: s["with"]["path"].split()
        for s in _steps(MAIN)
        if s.get("uses", "").startswith("actions/upload-artifact")
    }


def test_main_builds_the_state_that_pull_requests_download_and_uploads_docs() -> None:
    uploads = _uploads()
    download = next(
        s for s in _steps(PR) if s.get("uses", "").startswith("actions/download-artifact")
    )
    assert download["with"]["name"] in uploads
    assert "dbt-docs" in uploads
    build = next(s for s in _steps(MAIN) if "--prod-only" in s.get("run", ""))
    assert "--state data/prod-state" in build["run"]
    assert "data/prod-state" in uploads[download["with"]["name"]]


def test_pull_requests_reuse_the_raw_world_production_was_built_from() -> None:
    """A world generated again (another day, another end date) would show up in the data diff
    as changes nobody made; the artifact carries the raw data, unpacked where slim_ci reads it."""
    download = next(
        s for s in _steps(PR) if s.get("uses", "").startswith("actions/download-artifact")
    )
    # upload-artifact roots a multi-path artifact at the paths' common parent (data/).
    assert sorted(_uploads()[download["with"]["name"]]) == ["data/prod-state", "data/raw"]
    assert download["with"]["path"] == "data"
    assert not any("data_generation" in s.get("run", "") for s in _steps(PR))


@pytest.mark.parametrize("workflow", [PR, MAIN], ids=["slim-ci", "production"])
def test_every_action_is_pinned_to_a_commit_and_checkout_drops_credentials(workflow) -> None:
    for step in _steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
        if step.get("uses", "").startswith("actions/checkout"):
            assert step["with"]["persist-credentials"] is False
    assert workflow["permissions"] == {}
