"""The models are portable SQL: the whole project compiles for PostgreSQL against a real server,
and the seeds load into it.

Starts a throwaway PostgreSQL cluster (initdb + pg_ctl from the `postgresql` apt package, which
.ci/run installs) in a temp dir on a free 127.0.0.1 port; installs nothing at run time. DuckDB-only
syntax in a model (FILTER (WHERE ...), `interval 28 days`, isodow(), a WINDOW clause, median())
fails here, because `dbt compile` renders every macro for the postgres adapter and runs the
introspective queries against the server.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from tests.support import DbtProject

pytestmark = pytest.mark.slow


def postgres_bin() -> Path | None:
    packaged = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    for candidate in (shutil.which("initdb"), *packaged):
        if candidate:
            return Path(candidate).resolve().parent
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the package's `postgres` user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def postgres() -> Iterator[dict[str, str]]:
    bin_dir = postgres_bin()
    if bin_dir is None:  # installed on first use, as the browser test installs chromium
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=apt_env)
        bin_dir = postgres_bin()
    assert bin_dir is not None, "initdb/pg_ctl missing after apt-get install postgresql"
    # Not under pytest's tmp dir: as root that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="techflow-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    data, port = root / "data", free_port()
    subprocess.run(
        as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                        "--auth=trust", "--no-sync"]),
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                        "-l", str(root / "server.log"), "-w", "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(port),
            "PGUSER": "postgres",
            "PGPASSWORD": "",
            "PGDATABASE": "postgres",
            "DBT_SCHEMA": "techflow",
        }
    finally:
        subprocess.run(
            as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False, capture_output=True,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def test_every_model_and_test_compiles_for_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    project = DbtProject(data_dir=tmp_path, target="postgres", extra_env=postgres)
    invocation = project.dbt("compile")
    assert invocation.success, invocation.describe()
    compiled = {r.node.name: r.node.compiled_code for r in invocation.results}
    assert "fct_churn_signals" in compiled and "fct_mrr_daily" in compiled
    sql = "\n".join(code or "" for code in compiled.values()).lower()
    for duckdb_only in ("filter (where", "isodow(", "read_parquet(", " window\n"):
        assert duckdb_only not in sql, duckdb_only


def test_the_seeds_load_into_postgres(postgres: dict[str, str], tmp_path: Path) -> None:
    project = DbtProject(data_dir=tmp_path, target="postgres", extra_env=postgres)
    invocation = project.dbt("seed")
    assert invocation.success, invocation.describe()
    assert {r.node.name for r in invocation.results} >= {"plan_catalog", "utm_channel_mapping"}


# Text as it arrives in a free-text id field -> what cast_or_null(.., 'bigint') returns. The same as
# DuckDB's try_cast on each value (checked by hand), which the duckdb__ implementation calls.
SAFE_CAST_TO_BIGINT = {
    "'12'": 12,
    "' -7 '": -7,
    "'+5'": 5,
    "'9223372036854775807'": 9223372036854775807,
    "'9223372036854775808'": None,
    "'abc'": None,
    "'1 2'": None,
    "''": None,
    "null": None,
}


def test_safe_cast_returns_null_for_text_that_is_no_integer_on_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    project = DbtProject(data_dir=tmp_path, target="postgres", extra_env=postgres)
    columns = ", ".join(
        f"{{{{ cast_or_null({text!r}, 'bigint') }}}} as value_{number}"
        for number, text in enumerate(SAFE_CAST_TO_BIGINT)
    )
    invocation = project.dbt("show", "--inline", f"select {columns}")
    assert invocation.success, invocation.describe()
    (row,) = invocation.results[0].agate_table.rows
    assert dict(zip(SAFE_CAST_TO_BIGINT, row, strict=True)) == SAFE_CAST_TO_BIGINT


def test_even_share_rounds_a_double_amount_to_the_cent_on_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    """PostgreSQL has no round(double precision, integer): a share of a double (a month count
    from date_part is one) failed fct_recognized_revenue_monthly there. round_money rounds it as
    numeric: 100.00 over 3 parts is 33.33, 33.33 and the remainder 33.34."""
    project = DbtProject(data_dir=tmp_path, target="postgres", extra_env=postgres)
    amount, parts = "cast(100 as double precision)", "cast(3 as double precision)"
    columns = ", ".join(
        f"cast({{{{ even_share({amount!r}, {parts!r}, {index}) }}}} as numeric(18, 2))"
        f" as share_{index}"
        for index in range(3)
    )
    invocation = project.dbt("show", "--inline", f"select {columns}")
    assert invocation.success, invocation.describe()
    (row,) = invocation.results[0].agate_table.rows
    assert [str(value) for value in row] == ["33.33", "33.33", "33.34"]


# (first, second) -> calendar months between them (month boundaries crossed), written down by
# hand: month ends, a leap day, the same month, the same instant, a year, and backwards.
MONTHS_BETWEEN = {
    ("date '2024-01-31'", "date '2024-02-01'"): 1,
    ("date '2024-01-01'", "date '2024-01-31'"): 0,
    ("date '2024-03-10'", "date '2024-03-10'"): 0,
    ("date '2023-12-31'", "date '2024-01-01'"): 1,
    ("date '2024-02-29'", "date '2024-03-01'"): 1,
    ("date '2024-02-29'", "date '2025-02-28'"): 12,
    ("date '2024-01-31'", "date '2024-02-29'"): 1,
    ("timestamp '2025-01-15 10:00:00'", "timestamp '2026-01-15 09:00:00'"): 12,
    ("timestamp '2024-05-31 23:59:59'", "timestamp '2024-06-01 00:00:00'"): 1,
    ("date '2024-03-15'", "date '2024-01-20'"): -2,
    ("date '2025-01-01'", "date '2024-12-31'"): -1,
}


def months_between_on(project: DbtProject) -> list[int]:
    columns = ", ".join(
        f"{{{{ months_between({first!r}, {second!r}) }}}} as months_{number}"
        for number, (first, second) in enumerate(MONTHS_BETWEEN)
    )
    invocation = project.dbt("show", "--inline", f"select {columns}")
    assert invocation.success, invocation.describe()
    (row,) = invocation.results[0].agate_table.rows
    return list(row)


def test_months_between_is_one_definition_on_duckdb_and_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    """The month numbers of cohorts and recognized revenue agree across engines, and on DuckDB they
    are what dbt.datediff('month') (DuckDB's date_diff) gave before the macro replaced it."""
    expected = list(MONTHS_BETWEEN.values())
    on_postgres = DbtProject(data_dir=tmp_path / "pg", target="postgres", extra_env=postgres)
    assert months_between_on(on_postgres) == expected
    assert months_between_on(DbtProject(data_dir=tmp_path / "duckdb", target="dev")) == expected
    with duckdb.connect() as connection:
        date_diff = [
            connection.execute(
                f"select date_diff('month', ({first})::timestamp, ({second})::timestamp)"
            ).fetchone()[0]
            for first, second in MONTHS_BETWEEN
        ]
    assert date_diff == expected


# The newest version of a key wins a `row_number() ... desc` dedup; one version has no timestamp.
NEWEST_VERSION = """
select
    max(case when newest_first = 1 then version end) as with_null_order,
    max(case when bare_desc = 1 then version end) as bare
from (
    select
        version,
        row_number() over (order by updated_at desc nulls last) as newest_first,
        row_number() over (order by updated_at desc) as bare_desc
    from (
        values ('v1', timestamp '2024-01-01 00:00:00'), ('v2', timestamp '2024-01-02 00:00:00'),
            ('undated', null)
    ) as versions (version, updated_at)
) as ranked
"""


def test_desc_nulls_last_picks_the_same_row_on_duckdb_and_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    """Why every `desc` in the project says `nulls last` (test_portable_sql checks it): a bare
    `desc` puts the undated version first on PostgreSQL and last on DuckDB."""
    picked = {}
    for engine, project in {
        "postgres": DbtProject(data_dir=tmp_path / "pg", target="postgres", extra_env=postgres),
        "duckdb": DbtProject(data_dir=tmp_path / "duckdb", target="dev"),
    }.items():
        invocation = project.dbt("show", "--inline", NEWEST_VERSION)
        assert invocation.success, invocation.describe()
        (row,) = invocation.results[0].agate_table.rows
        picked[engine] = tuple(row)
    assert picked == {"postgres": ("v2", "undated"), "duckdb": ("v2", "v2")}


# Contract types the parents' yml declares in DuckDB's spelling -> PostgreSQL's.
POSTGRES_TYPE = {"hugeint": "numeric(38, 0)", "double": "double precision"}


def create_from_contract(manifest: dict[str, Any], unique_id: str, env: dict[str, str]) -> None:
    """An empty table for a contracted model, typed by its contract: what a unit test of a child
    needs (dbt reads the parent's column types to type the fixture rows), without building the
    whole DAG above it from raw data."""
    node = manifest["nodes"][unique_id]
    columns = ", ".join(
        f'"{name}" {POSTGRES_TYPE.get(column["data_type"], column["data_type"])}'
        for name, column in node["columns"].items()
    )
    connection = psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname=env["PGDATABASE"]
    )
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(f'create schema if not exists "{node["schema"]}"')
            cursor.execute(f'create table "{node["schema"]}"."{node["alias"]}" ({columns})')
    finally:
        connection.close()


def unit_tests_on_contracted_parents(manifest: dict[str, Any]) -> dict[str, str]:
    """Unit test name -> model, for the unit tests whose model reads only contracted models."""
    nodes = manifest["nodes"]

    def contracted(unique_id: str) -> bool:
        node = nodes.get(unique_id, {})
        columns = node.get("columns", {}).values()
        return node.get("contract", {}).get("enforced", False) and all(
            column.get("data_type") for column in columns
        )

    return {
        unit["name"]: unit["model"]
        for unit in manifest["unit_tests"].values()
        # A unit test depends on the model it tests (its versioned id for a versioned model).
        if all(map(contracted, nodes[unit["depends_on"]["nodes"][0]]["depends_on"]["nodes"]))
    }


def test_the_unit_tests_of_marts_on_contracted_parents_pass_on_postgres(
    postgres: dict[str, str], tmp_path: Path
) -> None:
    """The marts run on PostgreSQL and give the unit tests' expected rows there: recognized
    revenue split to the cent across months (months_between, round_money, even_share), monthly
    MRR, retention, customer MRR movements and trial outcomes. Each parent is an empty table typed
    by its contract, so no raw data or upstream build is needed."""
    project = DbtProject(data_dir=tmp_path, target="postgres", extra_env=postgres)
    parsed = project.dbt("parse")
    assert parsed.success, parsed.describe()
    manifest = json.loads((tmp_path / "dbt_run" / "target" / "manifest.json").read_text())
    unit_tests = unit_tests_on_contracted_parents(manifest)
    models = sorted(set(unit_tests.values()))
    tested = {unit["depends_on"]["nodes"][0] for unit in manifest["unit_tests"].values()}
    assert set(models) >= {
        "fct_recognized_revenue_monthly",
        "fct_mrr_monthly",
        "fct_customer_retention_monthly",
        "fct_customer_mrr_daily",
        "fct_trials",
    }
    parents = {
        parent
        for model in tested
        if manifest["nodes"][model]["name"] in models
        for parent in manifest["nodes"][model]["depends_on"]["nodes"]
    }
    for parent in sorted(parents):
        create_from_contract(manifest, parent, postgres)
    invocation = project.dbt("test", "--select", *(f"test_type:unit,{model}" for model in models))
    assert invocation.success, invocation.describe()
    assert {r.node.name: str(r.status) for r in invocation.results} == dict.fromkeys(
        unit_tests, "pass"
    )
