"""The git questions slim CI asks: what is the base, what changed since it, what did it look like.

The base is the production branch: `--base` if given, else `origin/main`, else `main`, else HEAD.
Changed files are everything that differs between the merge base and the working tree, plus
untracked files — exactly what a pull request from this working tree would contain.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

from slim_ci.errors import BadInput

DEFAULT_BASES = ("origin/main", "main", "HEAD")


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BadInput(f"`git {' '.join(args)}` failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def is_repo(path: Path) -> bool:
    result = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


def _ref_exists(repo: Path, ref: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def resolve_base(repo: Path, base: str | None) -> str:
    """The full commit id of the base ref (see the module docstring for the fallbacks)."""
    if not is_repo(repo):
        raise BadInput(f"{repo} is not a git checkout: slim CI needs git to find the base branch")
    candidates = (base,) if base else DEFAULT_BASES
    for ref in candidates:
        if ref and _ref_exists(repo, ref):
            return _git(repo, "rev-parse", f"{ref}^{{commit}}").strip()
    raise BadInput(
        f"base ref {base or ' / '.join(DEFAULT_BASES)} not found in {repo}: "
        "fetch it (git fetch origin main) or pass --base <ref>"
    )


def changed_files(repo: Path, base_commit: str) -> list[Path]:
    """Files added or modified since the merge base with `base_commit`, including untracked ones.

    Deleted files are left out: there is nothing left to lint or build.
    """
    merge_base = _git(repo, "merge-base", base_commit, "HEAD").strip()
    tracked = _git(repo, "diff", "--name-only", "--diff-filter=d", merge_base).splitlines()
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard").splitlines()
    root = Path(_git(repo, "rev-parse", "--show-toplevel").strip())
    return sorted({root / name for name in [*tracked, *untracked] if name})


def export_tree(repo: Path, commit: str, subdir: Path, destination: Path) -> Path:
    """Write `subdir` as it is at `commit` under `destination`; return the exported subdir.

    `git archive` reads the object store only, so the working tree (and its uncommitted changes)
    is untouched and the export is exactly the committed base.
    """
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit, "--", subdir.as_posix()],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        message = archive.stderr.decode(errors="replace").strip()
        raise BadInput(f"cannot export {subdir} at {commit[:12]} from {repo}: {message}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    exported = destination / subdir
    if not (exported / "dbt_project.yml").exists():
        raise BadInput(
            f"{subdir}/dbt_project.yml does not exist at base commit {commit[:12]}: "
            "commit the dbt project on the base branch first"
        )
    return exported
