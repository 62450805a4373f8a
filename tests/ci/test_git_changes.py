"""Changed files are what a pull request from this working tree would contain."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from slim_ci import git
from slim_ci.errors import BadInput
from slim_ci.sql_lint import sql_files_in_project


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    models = repo / "techflow_dbt" / "models"
    models.mkdir(parents=True)
    for name in ("a.sql", "b.sql", "c.sql"):
        (models / name).write_text("select 1 as x\n")
    (repo / "README.md").write_text("readme\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo


def test_modified_staged_committed_and_untracked_files_count_deleted_do_not(repo) -> None:
    models = repo / "techflow_dbt" / "models"
    base = git.resolve_base(repo, "main")
    _git(repo, "switch", "-q", "-c", "feature")
    (models / "a.sql").write_text("select 2 as x\n")  # committed on the branch
    _git(repo, "commit", "-qam", "a")
    (models / "b.sql").write_text("select 3 as x\n")  # modified, not committed
    (models / "c.sql").unlink()  # deleted
    (models / "new.sql").write_text("select 4 as x\n")  # untracked
    (repo / "README.md").write_text("changed\n")

    changed = git.changed_files(repo, base)
    assert changed == sorted(
        [models / "a.sql", models / "b.sql", models / "new.sql", repo / "README.md"]
    )
    assert sql_files_in_project(changed, repo / "techflow_dbt") == [
        models / "a.sql",
        models / "b.sql",
        models / "new.sql",
    ]


def test_nothing_changed_means_no_files(repo) -> None:
    assert git.changed_files(repo, git.resolve_base(repo, None)) == []


def test_an_unknown_base_ref_is_bad_input(repo) -> None:
    with pytest.raises(BadInput, match="base ref origin/nope not found"):
        git.resolve_base(repo, "origin/nope")


def test_export_tree_writes_the_committed_project_not_the_working_tree(repo, tmp_path) -> None:
    (repo / "techflow_dbt" / "dbt_project.yml").write_text("name: t\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "project")
    (repo / "techflow_dbt" / "models" / "a.sql").write_text("select 'uncommitted' as x\n")
    base = git.resolve_base(repo, "HEAD")
    exported = git.export_tree(repo, base, Path("techflow_dbt"), tmp_path / "export")
    assert (exported / "models" / "a.sql").read_text() == "select 1 as x\n"
