"""The repository carries its own documentation: the README stays a short front page, every
relative link in it and under docs/ leads to a file that exists, and no text a user reads points
outside the repository or at an issue tracker's numbers they cannot see."""

from __future__ import annotations

import re
from pathlib import Path

from techflow_core.paths import REPO_ROOT

README = REPO_ROOT / "README.md"
README_MAX_LINES = 200
SKIPPED_DIRS = {".venv", ".git", "node_modules", "target", "logs", "data", "__pycache__", "tests"}
TEXT_SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".toml", ".csv", ".cfg", ".txt", ""}
# "issue 13", "issue #13", "issues 10 and 13": numbers only a past tracker knew.
ISSUE_NUMBER = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
# A relative path that climbs ("../x/y.md"), and an upper-case document name ("METRICS.md"): both
# must lead to something the repository carries, so no text sends a reader outside it.
CLIMBING_PATH = re.compile(r"(?:\.\./)+[\w.-]+(?:/[\w.-]+)*")
DOCUMENT_NAME = re.compile(r"(?<![\w/.-])[A-Z][A-Z_]+\.md\b")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def user_facing_files() -> list[Path]:
    files = []
    for path in REPO_ROOT.rglob("*"):
        relative = path.relative_to(REPO_ROOT)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path.name != "uv.lock":
            files.append(path)
    return files


def test_the_readme_is_a_front_page_of_at_most_200_lines() -> None:
    lines = README.read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move depth into docs/"


def outside_references(path: Path, line: str, carried_names: set[str]) -> list[str]:
    """What `line` of `path` points at that the repository does not carry."""
    leaving = [
        target
        for target in CLIMBING_PATH.findall(line)
        if not (path.parent / target).resolve().is_relative_to(REPO_ROOT)
    ]
    missing = [name for name in DOCUMENT_NAME.findall(line) if name not in carried_names]
    return leaving + missing


def test_no_user_facing_text_mentions_issue_numbers() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {line.strip()}"
        for path in user_facing_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if ISSUE_NUMBER.search(line)
    ]
    assert not found, "\n".join(found)


def test_no_user_facing_text_points_outside_the_repository() -> None:
    files = user_facing_files()
    carried_names = {path.name for path in files}
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}: {', '.join(outside)}"
        for path in files
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if (outside := outside_references(path, line, carried_names))
    ]
    assert not found, "\n".join(found)


def test_every_relative_link_in_the_docs_leads_to_a_file() -> None:
    pages = [README, *sorted((REPO_ROOT / "docs").glob("*.md"))]
    pages += sorted(REPO_ROOT.glob("*/README.md")) + sorted(REPO_ROOT.glob("techflow_dbt/**/*.md"))
    broken = [
        f"{page.relative_to(REPO_ROOT)} -> {target}"
        for page in pages
        for target in MARKDOWN_LINK.findall(page.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (page.parent / target).exists()
    ]
    assert len(pages) > 5, f"the docs went missing: {pages}"
    assert not broken, "\n".join(broken)


def test_the_checks_see_what_they_guard() -> None:
    assert ISSUE_NUMBER.search("kept for generator output before issue 13")
    readme, carried = REPO_ROOT / "README.md", {"README.md", "METRICS.md"}
    assert outside_references(readme, "see ../notes/DESIGN.md", carried) == ["../notes/DESIGN.md"]
    assert outside_references(readme, "as DESIGN.md says", carried) == ["DESIGN.md"]
    inside = REPO_ROOT / "docs" / "warehouse.md"
    assert not outside_references(inside, "see ../README.md and METRICS.md", carried)
    assert not outside_references(inside, "docs/architecture.md", carried)
    assert MARKDOWN_LINK.findall("[x](docs/a.md#part) [y](https://e.org)") == [
        "docs/a.md",
        "https://e.org",
    ]
