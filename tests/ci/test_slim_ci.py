"""Slim CI end to end, on a temporary git copy of the dbt project over the small world.

Production is built by slim CI itself from the copy's `main`; then the working tree is changed
the way a pull request would change it, and slim CI must build exactly the change and what
depends on it, read everything else from production, leave production untouched, and report
the change's known effect in the data diff.

Production is built as of the suite's fixed day (AS_OF); the pull request runs with
TECHFLOW_AS_OF a week later, as a PR opened a week after the last main build would, and must
still build and diff production's day.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from slim_ci import pipeline
from slim_ci.__main__ import main, print_report
from slim_ci.data_diff import to_markdown
from slim_ci.pipeline import SlimCiReport, ci_env
from slim_ci.settings import PROD_WAREHOUSE_NAME, CiSettings
from slim_ci.sql_lint import lint
from tests.support import AS_OF

pytestmark = pytest.mark.slow

DBT_PROJECT = Path(__file__).resolve().parents[2] / "techflow_dbt"
CHANGED_MODEL = "model.techflow.stg_app_db__users"
CHANGED_FILE = Path("models/staging/app_db/stg_app_db__users.sql")
RELATION = re.compile(r'"(\w+)"\."(\w+)"\."(\w+)"')
# The pull request's own clock: a week after the day production was built for.
PR_AS_OF = (AS_OF + timedelta(days=7)).isoformat()


def uppercase_full_names(sql: str) -> str:
    """The pull request under test: stg_app_db__users now upper-cases full_name.

    Its effect is known in advance: every user whose name has a lower-case letter changes in
    exactly one column, and no user is added or removed.
    """
    return (
        "with\n\noriginal as (\n\n"
        + sql.strip()
        + "\n\n),\n\nuppercased as (\n\n"
        + "    select * replace (upper(full_name) as full_name)\n    from original\n\n)\n\n"
        + "select * from uppercased\n"
    )


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, small_world: Path) -> CiSettings:
    """A git repo whose main holds a copy of the dbt project, and a data dir over small_world."""
    root = tmp_path_factory.mktemp("slim_ci")
    repo = root / "repo"
    shutil.copytree(
        DBT_PROJECT,
        repo / "techflow_dbt",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml", "*.duckdb*"),
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "production")
    data = root / "data"
    data.mkdir()
    (data / "raw").symlink_to(small_world / "raw", target_is_directory=True)
    state = data / "prod_artifacts"
    return CiSettings(
        repo_root=repo,
        project_dir=repo / "techflow_dbt",
        data_dir=data,
        warehouse=data / "warehouse" / "techflow.duckdb",
        state_dir=state,
        prod_warehouse=state / PROD_WAREHOUSE_NAME,
        ci_dir=data / "ci",
        base_ref="main",
    )


@pytest.fixture(scope="module")
def world_start(small_world: Path) -> str:
    """The small world's first day (its earliest daily partition)."""
    days = (small_world / "raw" / "app_db" / "users").glob("date=*")
    return min(day.name.removeprefix("date=") for day in days)


@pytest.fixture(scope="module")
def unchanged(settings: CiSettings, world_start: str) -> SlimCiReport:
    """Slim CI on a working tree equal to main (production is built from main first, with the
    world's start and the as-of day in the environment; CI builds must take both from the
    production state)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TECHFLOW_WORLD_START", world_start)
        env.setenv("TECHFLOW_AS_OF", AS_OF.isoformat())
        return pipeline.run(settings, echo=False)


@dataclass(frozen=True)
class ChangedRun:
    report: SlimCiReport
    prod_sha_before: str
    prod_sha_after: str


@pytest.fixture(scope="module")
def changed(settings: CiSettings, unchanged: SlimCiReport) -> ChangedRun:
    model = settings.project_dir / CHANGED_FILE
    model.write_text(uppercase_full_names(model.read_text()))
    before = _sha256(settings.prod_warehouse)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TECHFLOW_AS_OF", PR_AS_OF)  # opened a week after the main build
        report = pipeline.run(settings, echo=False)
    return ChangedRun(report, before, _sha256(settings.prod_warehouse))


def _descendants(manifest: dict[str, Any], uid: str) -> set[str]:
    seen: set[str] = set()
    todo = [uid]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def test_production_state_is_built_from_main(unchanged: SlimCiReport, world_start) -> None:
    assert unchanged.prod.warehouse.exists()
    assert unchanged.prod.stamp["world_start"] == world_start
    assert unchanged.prod.stamp["as_of"] == AS_OF.isoformat()
    assert unchanged.prod.stamp["built_at"]  # kept as an audit field
    assert unchanged.prod.database == "techflow"
    assert CHANGED_MODEL in unchanged.prod.manifest["nodes"]


def test_no_change_builds_nothing(unchanged: SlimCiReport) -> None:
    assert unchanged.modified == ()
    assert unchanged.results == {}
    assert unchanged.diffs == ()
    assert unchanged.lint.files == ()
    assert unchanged.passed


def test_a_changed_model_builds_exactly_itself_and_its_descendants(changed: ChangedRun) -> None:
    report = changed.report
    assert report.build_ok, report.results
    assert report.modified == (CHANGED_MODEL,)
    prod = report.prod.manifest
    nodes = {**prod["nodes"], **prod.get("exposures", {})}
    # dbt build runs models, snapshots and tests, and reports exposures as no-ops; ephemeral
    # models are inlined into their children and never run on their own.
    executable = {
        uid
        for uid in _descendants(prod, CHANGED_MODEL) | {CHANGED_MODEL}
        if uid.startswith(("model.", "snapshot.", "test.", "exposure."))
        and nodes[uid].get("config", {}).get("materialized") != "ephemeral"
    }
    built_models = {uid for uid in executable if uid.startswith(("model.", "snapshot."))}
    unit_tests = {
        uid
        for uid, test in prod.get("unit_tests", {}).items()
        if set(test["depends_on"]["nodes"]) & built_models
    }
    assert set(report.results) == executable | unit_tests
    failed = {
        uid: status
        for uid, status in report.results.items()
        if status not in {"success", "pass"} and not uid.startswith("exposure.")
    }
    assert failed == {}
    assert len(built_models) > 1, "the changed model should have downstream models"


def test_a_pr_a_week_later_builds_and_diffs_productions_day(changed: ChangedRun, settings) -> None:
    """TECHFLOW_AS_OF a week later must not move the CI build: the recency tests downstream of
    the change pass, and fct_mrr_daily (whose days end on the as-of day) neither gains a week of
    rows nor changes, since upper-casing names does not change MRR."""
    report = changed.report
    assert ci_env(settings, report.prod)["TECHFLOW_AS_OF"] == AS_OF.isoformat()
    assert report.build_ok
    recency = [uid for uid in report.results if uid.startswith("test.techflow.expect_recent_data")]
    assert recency, "no recency test ran downstream of the change: the test proves less"
    assert all(report.results[uid] == "pass" for uid in recency), report.results
    mrr = next(d for d in report.diffs if d.name == "fct_mrr_daily")
    assert mrr.diff is not None
    assert (mrr.diff.added, mrr.diff.removed, mrr.diff.changed) == (0, 0, 0)


# Written by fct_mrr_daily's post-hook, read through the int_mrr_applied_periods view.
APPLIED_PERIODS = '"{database}"."intermediate"."fct_mrr_daily__applied_periods"'

# Parents a model depends on without reading them in a full build: fct_mrr_daily reads the
# subscription versions' warehouse copy only on incremental builds (slim CI builds it in full,
# from raw); the applied-periods view takes only the copy's schema, where fct_mrr_daily's
# post-hook writes the record.
UNREAD_PARENTS = {
    ("model.techflow.fct_mrr_daily", "model.techflow.int_subscription_versions"),
    ("model.techflow.int_mrr_applied_periods", "model.techflow.int_subscription_versions"),
}


def test_unchanged_parents_resolve_to_production(changed: ChangedRun) -> None:
    """Every relation a rebuilt model reads is either rebuilt in CI or production's own."""
    report = changed.report
    assert report.ci_manifest is not None
    ci_nodes, prod_nodes = report.ci_manifest["nodes"], report.prod.manifest["nodes"]
    built = {uid for uid in report.results if uid.startswith(("model.", "snapshot."))}
    built_relations = {ci_nodes[uid]["relation_name"] for uid in built}
    if "model.techflow.fct_mrr_daily" in built:  # its post-hook writes the applied periods
        built_relations.add(
            APPLIED_PERIODS.format(database=ci_nodes["model.techflow.fct_mrr_daily"]["database"])
        )
    production_relations = {
        node["relation_name"]
        for uid, node in prod_nodes.items()
        if uid not in built and node.get("relation_name")
    }
    deferred_parents = 0
    for uid in built:
        compiled = ci_nodes[uid]["compiled_code"]
        for match in RELATION.finditer(compiled):
            relation = match.group(0)
            assert relation in built_relations | production_relations, f"{uid} reads {relation}"
        for parent in ci_nodes[uid]["depends_on"]["nodes"]:
            parent_node = prod_nodes.get(parent)
            if parent in built or parent_node is None or not parent_node.get("relation_name"):
                continue  # rebuilt, a source, or ephemeral (inlined, its parents checked above)
            if (uid, parent) in UNREAD_PARENTS:
                continue
            assert parent_node["relation_name"] in compiled, f"{uid}: {parent} not read from prod"
            deferred_parents += 1
    assert deferred_parents > 0, "no rebuilt model has an unchanged parent: the test proves nothing"


def test_the_ci_database_holds_only_what_was_rebuilt(changed: ChangedRun, settings) -> None:
    report = changed.report
    assert report.ci_manifest is not None
    expected = {
        report.ci_manifest["nodes"][uid]["alias"]  # a versioned model's relation: its alias
        for uid in report.results
        if uid.startswith(("model.", "snapshot.", "seed."))
    }
    if "fct_mrr_daily" in expected:  # its post-hook records the periods it was built from
        expected.add("fct_mrr_daily__applied_periods")
    with duckdb.connect(str(settings.ci_warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_catalog = ?",
            [settings.ci_warehouse.stem],
        ).fetchall()
    assert {name for (name,) in rows} == expected


def test_production_is_not_written(changed: ChangedRun) -> None:
    assert changed.prod_sha_after == changed.prod_sha_before


def test_only_the_changed_sql_file_is_linted(changed: ChangedRun, settings) -> None:
    assert changed.report.lint.files == (settings.project_dir / CHANGED_FILE,)


def test_the_data_diff_reports_the_known_effect(changed: ChangedRun) -> None:
    report = changed.report
    prod_relation = report.prod.manifest["nodes"][CHANGED_MODEL]["relation_name"]
    with duckdb.connect(str(report.prod.warehouse), read_only=True) as con:
        users, lower_case_names = con.execute(
            f"select count(*), count(*) filter (where full_name <> upper(full_name)) "
            f"from {prod_relation}"
        ).fetchone()
    assert lower_case_names > 0

    diffs = {d.name: d for d in report.diffs}
    users_diff = diffs["stg_app_db__users"]
    assert users_diff.role == "modified"
    assert users_diff.diff is not None
    assert users_diff.diff.key == ("user_id",)
    assert (users_diff.diff.prod_rows, users_diff.diff.ci_rows) == (users, users)
    assert (users_diff.diff.added, users_diff.diff.removed) == (0, 0)
    assert users_diff.diff.changed == lower_case_names
    assert users_diff.diff.changed_columns == {"full_name": lower_case_names}
    assert {d.role for d in report.diffs if d.name != "stg_app_db__users"} == {"downstream"}

    markdown_row = (
        f"| `stg_app_db__users` | modified | user_id | {users} | {users} | 0 | 0 "
        f"| {lower_case_names} | full_name ({lower_case_names}) |"
    )
    assert markdown_row in to_markdown(report.diffs).splitlines()


def test_a_lint_violation_in_a_changed_file_fails_the_lint(changed: ChangedRun, settings) -> None:
    """The same SQLFluff call slim CI makes, on a file that breaks the project's style."""
    bad = settings.project_dir / "models" / "staging" / "app_db" / "stg_app_db__shouting.sql"
    bad.write_text("SELECT user_id AS USER_ID FROM {{ ref('stg_app_db__users') }}\n")
    try:
        result = lint([bad], settings.project_dir, ci_env(settings, changed.report.prod))
    finally:
        bad.unlink()
    assert not result.passed
    assert not result.crashed, result.output
    assert "stg_app_db__shouting.sql" in result.output
    assert "CP01" in result.output  # capitalisation.keywords: lower-case keywords


def test_the_printed_report_names_the_change_and_both_build_sizes(
    changed: ChangedRun, settings, capsys
) -> None:
    markdown = print_report(changed.report, settings)
    out = capsys.readouterr().out
    assert "slim-ci: modified: stg_app_db__users\n" in out
    assert "slim-ci: CI build " in out
    assert "slim-ci: full prod build " in out
    assert markdown in out


def test_the_cli_fails_on_the_lint_and_still_leaves_the_diff_for_a_pr_comment(
    changed: ChangedRun, settings, capsys, monkeypatch
) -> None:
    """`make ci-slim STATE=...` on the same change. The wrapper the change adds is not indented
    the way the project's SQLFluff rules want, so the run fails (exit 1) — after building and
    diffing, with the same diff in data_diff.md."""
    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(settings.data_dir))
    code = main(["--repo", str(settings.repo_root), "--state", str(settings.state_dir)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "slim-ci: modified: stg_app_db__users\n" in out
    assert "slim-ci: dbt build passed\n" in out
    assert "slim-ci: SQLFluff on changed SQL files (stg_app_db__users.sql): FAILED" in out
    written = (settings.ci_dir / "data_diff.md").read_text()
    assert written == to_markdown(changed.report.diffs)
