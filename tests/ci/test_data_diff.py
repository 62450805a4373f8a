"""The data diff counts exactly what changed between a CI relation and its production twin."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from slim_ci.data_diff import (
    ModelDiff,
    TableDiff,
    diff_models,
    diff_tables,
    primary_key,
    to_markdown,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """Production has users 1-5; CI drops user 1, adds user 6, changes user 2's plan and
    user 3's plan and seats, and leaves users 4 and 5 alone."""
    with duckdb.connect() as con:
        con.execute(
            """
            create table prod as select * from (values
                (1, 'a@x.io', 'starter', 1), (2, 'b@x.io', 'starter', 2),
                (3, 'c@x.io', 'team', 3), (4, 'd@x.io', 'team', 4), (5, 'e@x.io', null, 5)
            ) as t(user_id, email, plan, seats);
            create table ci as select * from (values
                (2, 'b@x.io', 'team', 2), (3, 'c@x.io', 'business', 30),
                (4, 'd@x.io', 'team', 4), (5, 'e@x.io', null, 5), (6, 'f@x.io', 'starter', 1)
            ) as t(user_id, email, plan, seats);
            """
        )
        yield con


def test_rows_are_matched_by_key_into_added_removed_and_changed(con) -> None:
    diff = diff_tables(con, "ci", "prod", ["user_id"])
    assert (diff.prod_rows, diff.ci_rows) == (5, 5)
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 2)


def test_each_changed_column_counts_the_rows_it_changed_in(con) -> None:
    diff = diff_tables(con, "ci", "prod", ["user_id"])
    assert diff.changed_columns == {"plan": 2, "seats": 1}


def test_a_few_keys_of_each_kind_of_difference_are_given_as_examples(con) -> None:
    diff = diff_tables(con, "ci", "prod", ["user_id"])
    assert diff.examples == {"added": ("6",), "removed": ("1",), "changed": ("2", "3")}
    markdown = to_markdown([ModelDiff("stg_users", "modified", diff, diff.ci_rows)])
    assert "- `stg_users` changed, e.g. user_id: 2, 3" in markdown.splitlines()


def test_null_equal_to_null_is_no_change(con) -> None:
    """User 5's plan is null on both sides: `=` would call that different, the diff must not."""
    con.execute("create table ci_same as select * from prod")
    diff = diff_tables(con, "ci_same", "prod", ["user_id"])
    assert diff.identical
    assert (diff.added, diff.removed, diff.changed) == (0, 0, 0)


def test_schema_changes_are_reported_and_do_not_count_as_row_changes(con) -> None:
    con.execute(
        "create table ci_schema as "
        "select user_id, email, plan, seats::bigint as seats, true as is_paying from prod"
    )
    diff = diff_tables(con, "ci_schema", "prod", ["user_id"])
    assert diff.columns_added == ("is_paying",)
    assert diff.columns_removed == ()
    assert diff.type_changes == {"seats": ("INTEGER", "BIGINT")}
    assert diff.changed == 0  # same values, wider type
    assert not diff.identical


def test_a_removed_column_is_reported(con) -> None:
    con.execute("create table ci_narrow as select user_id, email, plan from prod")
    diff = diff_tables(con, "ci_narrow", "prod", ["user_id"])
    assert diff.columns_removed == ("seats",)
    assert diff.changed == 0


def test_without_a_key_rows_are_compared_whole(con) -> None:
    diff = diff_tables(con, "ci", "prod", None)
    # Users 2, 3 and 6 differ as whole rows in CI; 1, 2 and 3 in production.
    assert (diff.added, diff.removed, diff.changed) == (3, 3, None)


def test_a_key_that_is_not_unique_falls_back_to_whole_rows(con) -> None:
    diff = diff_tables(con, "ci", "prod", ["plan"])
    assert diff.key is None
    assert "not unique" in diff.note
    assert (diff.added, diff.removed) == (3, 3)


def test_a_compound_key_matches_on_all_its_columns(con) -> None:
    diff = diff_tables(con, "ci", "prod", ["user_id", "email"])
    assert (diff.added, diff.removed, diff.changed) == (1, 1, 2)
    assert diff.changed_columns == {"plan": 2, "seats": 1}


def _manifest(**model: object) -> dict:
    node = {"resource_type": "model", "config": {"meta": {}}, "columns": {}, **model}
    return {"nodes": {"model.p.m": node}}


def _unique_test(column: str, name: str = "unique") -> dict:
    return {
        "resource_type": "test",
        "attached_node": "model.p.m",
        "column_name": column,
        "test_metadata": {"name": name, "kwargs": {"column_name": column}},
    }


def test_primary_key_prefers_the_declared_meta_key() -> None:
    manifest = _manifest(config={"meta": {"primary_key": ["day", "user_id"]}})
    manifest["nodes"]["test.p.u"] = _unique_test("email")
    assert primary_key(manifest, "model.p.m") == ("day", "user_id")


def test_primary_key_comes_from_a_unique_test_on_the_first_documented_column() -> None:
    manifest = _manifest(columns={"user_id": {}, "email": {}})
    manifest["nodes"]["test.p.email"] = _unique_test("email")
    manifest["nodes"]["test.p.id"] = _unique_test("user_id")
    assert primary_key(manifest, "model.p.m") == ("user_id",)


@pytest.mark.parametrize(
    ("test_name", "argument"),
    [
        ("expect_compound_columns_to_be_unique", "column_list"),
        ("unique_combination_of_columns", "combination_of_columns"),
    ],
)
def test_primary_key_comes_from_a_compound_uniqueness_test(test_name, argument) -> None:
    manifest = _manifest()
    manifest["nodes"]["test.p.combo"] = {
        "resource_type": "test",
        "attached_node": "model.p.m",
        "test_metadata": {"name": test_name, "kwargs": {argument: ["day", "user_id"]}},
    }
    assert primary_key(manifest, "model.p.m") == ("day", "user_id")


def test_a_uniqueness_test_over_some_rows_only_is_no_key() -> None:
    manifest = _manifest()
    manifest["nodes"]["test.p.id"] = {**_unique_test("user_id"), "config": {"where": "is_paying"}}
    assert primary_key(manifest, "model.p.m") is None


def test_a_model_without_uniqueness_tests_has_no_key() -> None:
    manifest = _manifest()
    manifest["nodes"]["test.p.nn"] = _unique_test("user_id", name="not_null")
    assert primary_key(manifest, "model.p.m") is None


def test_markdown_has_one_row_per_model_with_its_counts() -> None:
    diff = TableDiff(
        key=("user_id",),
        prod_rows=5,
        ci_rows=5,
        added=1,
        removed=1,
        changed=2,
        changed_columns={"plan": 2, "seats": 1},
        columns_added=("is_paying",),
    )
    same = TableDiff(key=("id",), prod_rows=3, ci_rows=3, added=0, removed=0, changed=0)
    markdown = to_markdown(
        [
            ModelDiff("stg_users", "modified", diff, 5),
            ModelDiff("dim_users", "downstream", same, 3),
            ModelDiff("fct_new", "new", None, 7),
        ]
    )
    lines = markdown.splitlines()
    assert "3 model(s) rebuilt, 2 differ from production" in markdown
    assert (
        "| `stg_users` | modified | user_id | 5 | 5 | 1 | 1 | 2 | plan (2), seats (1), +is_paying |"
        in lines
    )
    assert "| `dim_users` | downstream | id | 3 | 3 | 0 | 0 | 0 | identical |" in lines
    assert any(line.startswith("| `fct_new` | new |") for line in lines)


def test_markdown_says_so_when_nothing_was_rebuilt() -> None:
    assert "No model was rebuilt or deleted" in to_markdown([])


def _model(name: str, relation: str, materialized: str = "table") -> dict:
    return {
        "unique_id": f"model.p.{name}",
        "resource_type": "model",
        "name": name,
        "relation_name": relation,
        "config": {"materialized": materialized, "meta": {"primary_key": "id"}},
        "columns": {},
    }


def test_diff_models_reads_ci_and_production_files_and_lists_new_and_deleted(tmp_path) -> None:
    """CI rebuilt `kept` (one row changed) and `added`; production still has `dropped`."""
    prod_path, ci_path = tmp_path / "techflow.duckdb", tmp_path / "techflow_ci.duckdb"
    with duckdb.connect(str(prod_path)) as con:
        con.execute("create schema staging")
        con.execute(
            "create table staging.kept as  select range as id, range * 10 as v from range(5)"
        )
        con.execute("create table staging.dropped as select range as id from range(3)")
    with duckdb.connect(str(ci_path)) as con:
        con.execute("create schema ci_staging")
        con.execute(
            "create table ci_staging.kept as "
            "select range as id, if(range = 4, 0, range * 10) as v from range(5)"
        )
        con.execute("create table ci_staging.added as select 1 as id")
    prod = {
        "nodes": {
            "model.p.kept": _model("kept", '"techflow"."staging"."kept"'),
            "model.p.dropped": _model("dropped", '"techflow"."staging"."dropped"'),
            "model.p.inlined": _model("inlined", "", materialized="ephemeral"),
        }
    }
    ci = {
        "nodes": {
            "model.p.kept": _model("kept", '"techflow_ci"."ci_staging"."kept"'),
            "model.p.added": _model("added", '"techflow_ci"."ci_staging"."added"'),
            "model.p.inlined": _model("inlined", "", materialized="ephemeral"),
        }
    }
    rebuilt, modified = ["model.p.added", "model.p.kept"], {"model.p.kept"}
    diffs = diff_models(ci_path, prod_path, "techflow", ci, prod, rebuilt, modified)
    by_name = {d.name: d for d in diffs}
    assert [d.name for d in diffs] == ["kept", "added", "dropped"]  # modified first
    assert by_name["kept"].role == "modified"
    assert by_name["kept"].diff is not None
    assert (by_name["kept"].diff.changed, by_name["kept"].diff.changed_columns) == (1, {"v": 1})
    assert (by_name["added"].role, by_name["added"].ci_rows) == ("new", 1)
    assert (by_name["dropped"].role, by_name["dropped"].prod_rows) == ("deleted", 3)
    assert "2 model(s) rebuilt and 1 deleted, 3 differ from production" in to_markdown(diffs)
