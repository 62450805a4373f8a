"""Data diff: how every rebuilt model differs from its production relation.

For each model (and seed) slim CI rebuilt, rows are matched by primary key between the CI
relation and the production relation, and counted as added (only in CI), removed (only in
production) or changed (in both, some column differs), with the number of changed rows per
column. The report is a Markdown table a pull-request comment can carry.

The primary key comes from the manifest, in this order: `config.meta.primary_key`, a
`primary_key` constraint, a `unique` test on one column, a compound uniqueness test
(`expect_compound_columns_to_be_unique`, `unique_combination_of_columns`); tests limited to
some rows (`where`, `row_condition`) do not count.
A model without one (or whose key is not unique) is diffed as a multiset of rows: added and
removed are still exact, "changed" cannot be told apart from a removal plus an addition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from techflow_core.warehouse import connect_read_only

# Generic tests that state a compound key, and the argument naming its columns: dbt_utils'
# and the project's own (tests/generic/expect_compound_columns_to_be_unique.sql).
COMPOUND_UNIQUE_TESTS = {
    "unique_combination_of_columns": "combination_of_columns",
    "expect_compound_columns_to_be_unique": "column_list",
}

# Keys shown per kind of difference (added, removed, changed), so a reviewer can look rows up.
EXAMPLES = 3

# Relations whose rows are comparable across builds. Snapshots are not: their validity columns
# record when each build ran, so every row would differ.
DIFFABLE_MATERIALIZATIONS = {"table", "view", "incremental", "seed"}


@dataclass(frozen=True)
class TableDiff:
    """How one relation (CI) differs from another (production)."""

    key: tuple[str, ...] | None
    prod_rows: int
    ci_rows: int
    added: int
    removed: int
    changed: int | None  # None when rows could not be matched by key
    changed_columns: dict[str, int] = field(default_factory=dict)
    columns_added: tuple[str, ...] = ()
    columns_removed: tuple[str, ...] = ()
    type_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> a few keys
    note: str = ""

    @property
    def identical(self) -> bool:
        return (
            self.added == 0
            and self.removed == 0
            and not self.changed
            and not self.columns_added
            and not self.columns_removed
            and not self.type_changes
        )


@dataclass(frozen=True)
class ModelDiff:
    name: str
    # modified (the change touched it), downstream (rebuilt because of it), new (not in
    # production) or deleted (in production, gone from the project)
    role: str
    diff: TableDiff | None  # None for new and deleted models: there is nothing to match
    ci_rows: int | None
    prod_rows: int | None = None


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(f"describe select * from {relation}").fetchall()
    return {name: type_ for name, type_, *_ in rows}


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def _duplicate_keys(con: duckdb.DuckDBPyConnection, relation: str, key: Sequence[str]) -> int:
    cols = ", ".join(quote(k) for k in key)
    return _count(
        con,
        f"select count(*) from (select {cols} from {relation} group by all having count(*) > 1)",
    )


def diff_tables(
    con: duckdb.DuckDBPyConnection,
    ci_relation: str,
    prod_relation: str,
    key: Sequence[str] | None,
) -> TableDiff:
    """Diff two relations visible to `con` (already-quoted names) by `key`."""
    ci_cols = _columns(con, ci_relation)
    prod_cols = _columns(con, prod_relation)
    shared = [c for c in ci_cols if c in prod_cols]
    schema = {
        "columns_added": tuple(c for c in ci_cols if c not in prod_cols),
        "columns_removed": tuple(c for c in prod_cols if c not in ci_cols),
        "type_changes": {
            c: (prod_cols[c], ci_cols[c]) for c in shared if ci_cols[c] != prod_cols[c]
        },
    }
    ci_rows = _count(con, f"select count(*) from {ci_relation}")
    prod_rows = _count(con, f"select count(*) from {prod_relation}")

    note = ""
    if key and any(k not in shared for k in key):
        note = f"key ({', '.join(key)}) is not in both relations; rows compared whole"
        key = None
    if key:
        dupes = _duplicate_keys(con, ci_relation, key) + _duplicate_keys(con, prod_relation, key)
        if dupes:
            note = f"key ({', '.join(key)}) is not unique ({dupes} duplicated); rows compared whole"
            key = None
    if not key:
        return TableDiff(
            key=None,
            prod_rows=prod_rows,
            ci_rows=ci_rows,
            note=note,
            **_multiset_counts(con, ci_relation, prod_relation, shared),
            **schema,  # type: ignore[arg-type]
        )

    key_t = tuple(key)
    compared = [c for c in shared if c not in key_t]

    def differs(column: str) -> str:
        # Columns whose type changed are compared as text, so a widened type alone is no change.
        c, p = f"ci.{quote(column)}", f"prod.{quote(column)}"
        if column in schema["type_changes"]:
            c, p = f"{c}::varchar", f"{p}::varchar"
        return f"{c} is distinct from {p}"

    both = "ci.__in_ci and prod.__in_prod"
    any_change = " or ".join(differs(c) for c in compared) or "false"
    per_column = "".join(f", count(*) filter (where {both} and {differs(c)})" for c in compared)
    join = " and ".join(f"ci.{quote(k)} is not distinct from prod.{quote(k)}" for k in key_t)
    joined = f"""
        from (select *, true as __in_ci from {ci_relation}) as ci
        full outer join (select *, true as __in_prod from {prod_relation}) as prod
            on {join}
    """
    row = con.execute(
        f"""
        select
            count(*) filter (where prod.__in_prod is null),
            count(*) filter (where ci.__in_ci is null),
            count(*) filter (where {both} and ({any_change}))
            {per_column}
        {joined}
        """
    ).fetchone()
    assert row is not None
    added, removed, changed, *column_counts = (int(v) for v in row)

    def sample(side: str, condition: str, count: int) -> tuple[str, ...]:
        """A few keys of one kind of difference, in key order, for a reviewer to look up."""
        if not count:
            return ()
        cols = ", ".join(f"{side}.{quote(k)}" for k in key_t)
        rows = con.execute(
            f"select {cols} {joined} where {condition} order by {cols} limit {EXAMPLES}"
        ).fetchall()
        return tuple(str(r[0]) if len(r) == 1 else str(tuple(r)) for r in rows)

    examples = {
        "added": sample("ci", "prod.__in_prod is null", added),
        "removed": sample("prod", "ci.__in_ci is null", removed),
        "changed": sample("ci", f"{both} and ({any_change})", changed),
    }
    return TableDiff(
        key=key_t,
        prod_rows=prod_rows,
        ci_rows=ci_rows,
        added=added,
        removed=removed,
        changed=changed,
        changed_columns={c: n for c, n in zip(compared, column_counts, strict=True) if n},
        examples={kind: keys for kind, keys in examples.items() if keys},
        note=note,
        **schema,  # type: ignore[arg-type]
    )


def _multiset_counts(
    con: duckdb.DuckDBPyConnection, ci_relation: str, prod_relation: str, shared: list[str]
) -> dict[str, Any]:
    cols = ", ".join(f"{quote(c)}::varchar" for c in shared) or "1"
    ci_sel, prod_sel = f"select {cols} from {ci_relation}", f"select {cols} from {prod_relation}"
    return {
        "added": _count(con, f"select count(*) from ({ci_sel} except all {prod_sel})"),
        "removed": _count(con, f"select count(*) from ({prod_sel} except all {ci_sel})"),
        "changed": None,
    }


def primary_key(manifest: dict[str, Any], node_id: str) -> tuple[str, ...] | None:
    """The model's primary key as the manifest declares it (see the module docstring)."""
    node = manifest["nodes"][node_id]
    declared = (node.get("config", {}).get("meta") or {}).get("primary_key")
    if declared:
        return (declared,) if isinstance(declared, str) else tuple(declared)
    for constraint in node.get("constraints", []):
        if constraint.get("type") == "primary_key" and constraint.get("columns"):
            return tuple(constraint["columns"])
    for name, column in node.get("columns", {}).items():
        if any(c.get("type") == "primary_key" for c in column.get("constraints", [])):
            return (name,)

    unique_columns: list[str] = []
    combinations: list[tuple[str, ...]] = []
    for test in manifest["nodes"].values():
        if test.get("resource_type") != "test" or test.get("attached_node") != node_id:
            continue
        meta = test.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        if (test.get("config") or {}).get("where") or kwargs.get("row_condition"):
            continue  # unique over a subset of rows only: not a key
        if meta.get("name") == "unique" and test.get("column_name"):
            unique_columns.append(test["column_name"])
        elif meta.get("name") in COMPOUND_UNIQUE_TESTS:
            combo = kwargs.get(COMPOUND_UNIQUE_TESTS[meta["name"]])
            if combo and not isinstance(combo, str):
                combinations.append(tuple(combo))
    documented = list(node.get("columns", {}))
    plain = [c for c in unique_columns if c.isidentifier()]
    if plain:
        # Several unique columns (an id and an email, say): the one documented first is the key.
        plain.sort(key=lambda c: documented.index(c) if c in documented else len(documented))
        return (plain[0],)
    return combinations[0] if combinations else None


def diff_models(
    ci_warehouse: Path,
    prod_warehouse: Path,
    prod_database: str,
    ci_manifest: dict[str, Any],
    prod_manifest: dict[str, Any],
    rebuilt: Iterable[str],
    modified: set[str],
) -> list[ModelDiff]:
    """Diff every rebuilt model (unique ids) against production, modified ones first; models
    production has and the project no longer does are listed as deleted."""
    models = [ci_manifest["nodes"][uid] for uid in rebuilt if _diffable(ci_manifest["nodes"][uid])]
    models.sort(key=lambda n: (n["unique_id"] not in modified, n["name"]))
    results: list[ModelDiff] = []
    with connect_read_only(ci_warehouse) as con:
        path = str(prod_warehouse).replace("'", "''")
        con.execute(f"attach '{path}' as {quote(prod_database)} (read_only)")
        for node in models:
            uid = node["unique_id"]
            role = "modified" if uid in modified else "downstream"
            ci_rel = node["relation_name"]
            ci_rows = _count(con, f"select count(*) from {ci_rel}")
            prod_node = prod_manifest["nodes"].get(uid)
            if prod_node is None:
                results.append(ModelDiff(node["name"], "new", None, ci_rows))
                continue
            diff = diff_tables(
                con, ci_rel, prod_node["relation_name"], primary_key(ci_manifest, uid)
            )
            results.append(ModelDiff(node["name"], role, diff, ci_rows))
        for uid, node in sorted(prod_manifest["nodes"].items()):
            if uid in ci_manifest["nodes"] or not _diffable(node):
                continue
            prod_rows = _count(con, f"select count(*) from {node['relation_name']}")
            results.append(ModelDiff(node["name"], "deleted", None, None, prod_rows))
    return results


def _diffable(node: dict[str, Any]) -> bool:
    return (
        node.get("resource_type") in {"model", "seed"}
        and node["config"].get("materialized") in DIFFABLE_MATERIALIZATIONS
    )


def _schema_cell(diff: TableDiff) -> list[str]:
    parts = [f"+{c}" for c in diff.columns_added]
    parts += [f"-{c}" for c in diff.columns_removed]
    parts += [f"~{c} ({old} → {new})" for c, (old, new) in diff.type_changes.items()]
    return parts


def to_markdown(diffs: Sequence[ModelDiff]) -> str:
    """The data diff as a Markdown section: a one-line summary and one table row per model."""
    if not diffs:
        return "### Data diff vs production\n\nNo model was rebuilt or deleted.\n"
    differing = sum(1 for d in diffs if d.diff is None or not d.diff.identical)
    deleted = sum(1 for d in diffs if d.role == "deleted")
    lines = [
        "### Data diff vs production",
        "",
        f"{len(diffs) - deleted} model(s) rebuilt"
        + (f" and {deleted} deleted" if deleted else "")
        + f", {differing} differ from production (rows matched by primary key).",
        "",
        "| model | role | key | prod rows | CI rows | added | removed | changed | columns |",
        "|---|---|---|--:|--:|--:|--:|--:|---|",
    ]
    notes: list[str] = []
    for d in diffs:
        if d.diff is None and d.role == "deleted":
            lines.append(
                f"| `{d.name}` | deleted | | {d.prod_rows} | n/a | n/a | {d.prod_rows} | n/a "
                "| model deleted |"
            )
            continue
        if d.diff is None:
            lines.append(
                f"| `{d.name}` | new | | n/a | {d.ci_rows} | {d.ci_rows} | n/a | n/a | new model |"
            )
            continue
        t = d.diff
        columns = [f"{c} ({n})" for c, n in t.changed_columns.items()] + _schema_cell(t)
        key = ", ".join(t.key) if t.key else "(whole row)"
        changed = "n/a" if t.changed is None else str(t.changed)
        cell = ", ".join(columns) or ("identical" if t.identical else "-")
        lines.append(
            f"| `{d.name}` | {d.role} | {key} | {t.prod_rows} | {t.ci_rows} | {t.added} "
            f"| {t.removed} | {changed} | {cell} |"
        )
        if t.note:
            notes.append(f"- `{d.name}`: {t.note}")
        for kind, keys in t.examples.items():
            notes.append(f"- `{d.name}` {kind}, e.g. {key}: {', '.join(keys)}")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
