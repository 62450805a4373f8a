"""The dbt project's SQL is portable: no engine-only syntax outside adapter.dispatch.

`qualify`, `try_cast` and `group by all` are DuckDB (and Snowflake) syntax that PostgreSQL rejects,
and `dbt compile` for the postgres target does not catch them: it renders the SQL without running
it. So the sources are read here, comments removed, and every use outside the body of an
adapter-specific dispatch implementation (`{% macro duckdb__name(...) %}`, `postgres__`,
`default__`, ...) is reported by file and line. Fast: reads files, builds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import DBT_PROJECT_DIR

CHECKED_FOLDERS = ("models", "macros", "snapshots")
# dbt.datediff(a, b, 'month') is defined per adapter (a double from date_part on PostgreSQL):
# months_between (macros/portable.sql) is the project's one definition. Across lines, hence DOTALL.
MONTH_DATEDIFF = re.compile(r"\bdatediff\s*\((?:[^()]|\([^()]*\))*?'month'\s*\)", re.DOTALL)
ENGINE_ONLY = {
    "qualify": re.compile(r"\bqualify\b", re.IGNORECASE),
    "try_cast": re.compile(r"\btry_cast\s*\(", re.IGNORECASE),
    "group by all": re.compile(r"\bgroup\s+by\s+all\b", re.IGNORECASE),
}
MACRO_START = re.compile(r"{%-?\s*macro\s+(\w+)\s*\(")
MACRO_END = re.compile(r"{%-?\s*endmacro\b")
# An adapter-specific implementation: `<adapter>__<name>`, e.g. duckdb__cast_or_null, default__...
DISPATCH_IMPLEMENTATION = re.compile(r"^[a-z0-9]+__\w+$")
JINJA_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)
SQL_LINE_COMMENT = re.compile(r"--[^\n]*")


def blank_comments(text: str) -> str:
    """Comments out of the way, line numbers kept (a comment's newlines survive)."""
    text = JINJA_COMMENT.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    return SQL_LINE_COMMENT.sub("", text)


def engine_only_uses(text: str) -> Iterator[tuple[int, str]]:
    """(line number, construct) of each engine-only construct outside a dispatch implementation."""
    inside_implementation = False
    for number, line in enumerate(blank_comments(text).splitlines(), start=1):
        started = MACRO_START.search(line)
        if started:
            inside_implementation = bool(DISPATCH_IMPLEMENTATION.match(started.group(1)))
        if not inside_implementation:
            for construct, pattern in ENGINE_ONLY.items():
                if pattern.search(line):
                    yield number, construct
        if MACRO_END.search(line):
            inside_implementation = False


def project_sql_files() -> list[Path]:
    return sorted(
        path for folder in CHECKED_FOLDERS for path in (DBT_PROJECT_DIR / folder).rglob("*.sql")
    )


def test_models_macros_and_snapshots_use_no_engine_only_syntax() -> None:
    found = [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}: {construct}"
        for path in project_sql_files()
        for number, construct in engine_only_uses(path.read_text())
    ]
    assert not found, "engine-only SQL outside adapter.dispatch:\n" + "\n".join(found)


# PostgreSQL sorts NULLs first in descending order, DuckDB last: a `desc` without `nulls last` (or
# `nulls first`) lets a dedup or latest-row window pick a different row on each engine. Whether
# the sort key can be null is not known from the text (a column's not_null test says nothing of
# an outer join or a later CTE), so every `desc` says its null order. `asc` needs nothing: both
# engines sort NULLs last ascending. String literals are skipped ('desc' as a value).
DESC_WITHOUT_NULL_ORDER = re.compile(r"\bdesc\b(?!\s+nulls\s+(?:first|last)\b)", re.IGNORECASE)
STRING_LITERAL = re.compile(r"'[^'\n]*'")


def lines_matching(pattern: re.Pattern[str], text: str) -> list[int]:
    """The line number where each match of `pattern` starts (a match may span lines)."""
    return [text.count("\n", 0, match.start()) + 1 for match in pattern.finditer(text)]


def desc_without_null_order(text: str) -> list[int]:
    """Line numbers of each `desc` that does not say where NULLs go (comments ignored)."""
    return lines_matching(DESC_WITHOUT_NULL_ORDER, STRING_LITERAL.sub("''", blank_comments(text)))


def lines_found_by(check: Callable[[str], list[int]]) -> list[str]:
    """`<file>:<line>` for each place `check` finds in models, macros, snapshots and data tests."""
    paths = sorted({*project_sql_files(), *(DBT_PROJECT_DIR / "tests").rglob("*.sql")})
    return [
        f"{path.relative_to(DBT_PROJECT_DIR)}:{number}"
        for path in paths
        for number in check(path.read_text())
    ]


def test_every_descending_sort_says_where_nulls_go() -> None:
    found = lines_found_by(desc_without_null_order)
    assert not found, "add `nulls last` (DuckDB's order) to:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("row_number() over (partition by k order by updated_at desc) as rn", [1]),
        ("order by updated_at desc nulls last,\n  loaded_at DESC", [2]),
        ("order by updated_at desc\n    nulls first", []),
        ("order by a asc, b desc nulls last", []),
        ("-- newest first: order by x desc\nselect 'desc' as direction", []),
    ],
)
def test_the_null_order_check_finds_a_bare_desc(sql: str, expected: list[int]) -> None:
    assert desc_without_null_order(sql) == expected


def month_datediffs(text: str) -> list[int]:
    """Line numbers where a month datediff starts (comments ignored)."""
    return lines_matching(MONTH_DATEDIFF, blank_comments(text))


def test_months_between_is_the_only_month_difference() -> None:
    found = lines_found_by(month_datediffs)
    assert not found, (
        "use months_between(first, second) instead of datediff('month'):\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select {{ dbt.datediff('a', 'b', 'month') }}", [1]),
        ("select\n  {{ dbt.datediff(\n  'a', coalesce(b, c), 'month'\n) }}", [2]),
        ("select {{ dbt.datediff('a', 'b', 'day') }}, 'month'", []),
        ("-- {{ dbt.datediff('a', 'b', 'month') }}\nselect {{ months_between('a', 'b') }}", []),
    ],
)
def test_the_month_datediff_check_finds_it_across_lines(sql: str, expected: list[int]) -> None:
    assert month_datediffs(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("select *\nfrom t\nqualify row_number() over () = 1", [(3, "qualify")]),
        ("select try_cast(x as bigint) from t", [(1, "try_cast")]),
        ("select a, count(*)\nfrom t\nGROUP  BY ALL", [(3, "group by all")]),
        ("-- rows qualify when ...\nselect 1", []),
        ("{# try_cast(x as int) #}\nselect 1\n-- group by all", []),
        (
            "{% macro duckdb__cast_or_null(e, t) -%}\n    try_cast({{ e }} as {{ t }})\n"
            "{%- endmacro %}\n{% macro cast_or_null(e, t) %}try_cast(x){% endmacro %}",
            [(4, "try_cast")],
        ),
    ],
)
def test_the_check_finds_uses_outside_dispatch_implementations(
    sql: str, expected: list[tuple[int, str]]
) -> None:
    assert list(engine_only_uses(sql)) == expected
