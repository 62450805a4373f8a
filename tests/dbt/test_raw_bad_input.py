"""Raw data as connectors really deliver it, built with: each kind of bad input stops the build
with an error that names its cause, and every mart keeps its last good contents — or, where the
input is normal (a new column, an exact re-delivery, an old file from before a column existed),
the build goes on.

Each case copies the session's good warehouse (the whole project built over the small generated
world, `built_warehouse`) and its raw files, damages the copy's raw files one way, and runs
`dbt build` of everything downstream of the damaged feed, as `make run` and Dagster would.
(Missing partitions: test_raw_feed_guards.py; a re-landed partition: tests/orchestration/
test_relanded_partitions.py.)
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from data_generation.schema import RAW_TABLES, RAW_TABLES_BY_NAME
from tests.dbt.raw_fixtures import partition_path
from tests.support import AS_OF, DbtInvocation, DbtProject, small_world_start

pytestmark = pytest.mark.slow

MART_SCHEMAS = ("finance", "product", "marketing", "sales")


def marts(project: DbtProject) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart table's rows in the build file dbt writes. A failed build is never published
    (write-audit-publish), so readers keep the last good marts whatever dbt did; these tests hold
    the door itself: a guard stops dbt before it touches any mart, even in its own file."""
    tables = project.query(
        "select table_schema || '.' || table_name from information_schema.tables "
        f"where table_schema in {MART_SCHEMAS} and table_type = 'BASE TABLE' order by 1"
    )
    return {name: project.query(f"select * from {name} order by all") for (name,) in tables}


@pytest.fixture(scope="module")
def good_marts(built_warehouse: DbtProject) -> dict[str, list[tuple[Any, ...]]]:
    found = marts(built_warehouse)
    assert len(found) >= 15 and all(found.values()), sorted(found)
    return found


Damage = Callable[[Path], None]


def rebuild(
    good: DbtProject, tmp_path: Path, damage: Damage, *select: str, extra: tuple[str, ...] = ()
) -> tuple[DbtProject, DbtInvocation]:
    """Copy the good raw files and warehouse, damage the copy's raw files, build `select`."""
    data_dir = tmp_path / "data"
    shutil.copytree(good.raw_dir, data_dir / "raw")  # follows built_warehouse's raw symlink
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    shutil.copytree(good.warehouse.parent, project.warehouse.parent)  # the build file dbt writes
    damage(data_dir / "raw")
    invocation = project.dbt(
        "build", "--select", *select, "--exclude-resource-type", "unit_test", *extra
    )
    return project, invocation


def day_file(raw: Path, table: str, day: dt.date) -> Path:
    return partition_path(raw, RAW_TABLES_BY_NAME[table], day)


def rewrite(path: Path, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    change(pl.read_parquet(path)).write_parquet(path)


def assert_stopped_at_the_door(invocation: DbtInvocation, guard: str, message: str) -> None:
    """The guard failed with exactly this message; whatever else failed is a test (nothing
    downstream was built: dbt skipped it)."""
    assert not invocation.success
    failures = invocation.failures()
    # dbt prints "Runtime Error in test <guard> (<yml>)" and, on the next line, the message.
    assert failures.get(guard, "").endswith(f"\n  Invalid Input Error: {message}"), failures
    built = [r.node.name for r in invocation.results if r.node.resource_type != "test"]
    skipped = {r.node.name for r in invocation.results if str(r.status) == "skipped"}
    assert not (set(built) - skipped) & {"fct_mrr_daily", "fct_revenue", "fct_events"}


def folder(project: DbtProject, table: str) -> Path:
    raw_table = RAW_TABLES_BY_NAME[table]
    return project.raw_dir / raw_table.system / raw_table.name


CONTRACT = "raw files break the contract (data_generation/schema.py)"
YESTERDAY = AS_OF - dt.timedelta(days=1)


# --- schema drift --------------------------------------------------------------------------


def test_a_file_missing_a_contract_column_stops_the_build(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    def damage(raw: Path) -> None:
        rewrite(day_file(raw, "users", YESTERDAY), lambda f: f.drop("email"))

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:app_db.users+")
    assert_stopped_at_the_door(
        invocation,
        "raw_contract__app_db__users",
        f"app_db.users ({folder(project, 'users')}): {CONTRACT}: "
        f"date={YESTERDAY}: column email (varchar) is missing",
    )
    assert marts(project) == good_marts


def test_a_retyped_column_stops_the_build(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    def damage(raw: Path) -> None:
        rewrite(
            day_file(raw, "subscriptions", YESTERDAY),
            lambda f: f.with_columns(pl.col("quantity").cast(pl.String)),
        )

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:app_db.subscriptions+")
    assert_stopped_at_the_door(
        invocation,
        "raw_contract__app_db__subscriptions",
        f"app_db.subscriptions ({folder(project, 'subscriptions')}): {CONTRACT}: "
        f"date={YESTERDAY}: column quantity is varchar, the contract says integer",
    )
    assert marts(project) == good_marts


def test_a_column_dropped_from_a_newer_file_stops_the_build_even_if_added_later(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    """`added_later` columns may be absent only from files older than the first that has them."""

    def damage(raw: Path) -> None:
        rewrite(day_file(raw, "invoices", AS_OF), lambda f: f.drop("subtotal", "tax", "total"))

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:stripe.invoices+")
    assert_stopped_at_the_door(
        invocation,
        "raw_contract__stripe__invoices",
        f"stripe.invoices ({folder(project, 'invoices')}): {CONTRACT}: "
        + "; ".join(
            f"date={AS_OF}: column {column} (bigint) is missing"
            for column in ("subtotal", "tax", "total")
        ),
    )
    assert marts(project) == good_marts


def test_a_file_that_is_not_parquet_stops_the_build_naming_the_file(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    """A copy cut short (a crash mid-transfer): the staging view binds every file's footer."""
    truncated = {}

    def damage(raw: Path) -> None:
        path = day_file(raw, "usage_events", YESTERDAY)
        path.write_bytes(path.read_bytes()[:100])
        truncated["path"] = path

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:app_db.usage_events+")
    failures = invocation.failures()
    # (DuckDB then quotes the view's SQL line that read the files.)
    message = f"Invalid Input Error: No magic bytes found at end of file '{truncated['path']}'"
    assert message in failures["stg_app_db__usage_events"], failures
    assert marts(project) == good_marts


def test_a_contract_column_absent_from_every_file_fails_the_staging_view_naming_it(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    """A renamed column everywhere (every file re-landed with the new name): no file has the
    column, so the staging view cannot bind and DuckDB names it; the guards never get to run."""

    def damage(raw: Path) -> None:
        for path in (raw / "salesforce" / "opportunities").glob("*/*.parquet"):
            rewrite(path, lambda f: f.rename({"stage": "stage_name"}))

    project, invocation = rebuild(
        built_warehouse, tmp_path, damage, "source:salesforce.opportunities+"
    )
    failures = invocation.failures()
    message = failures["stg_salesforce__opportunities"]
    assert '\n  Binder Error: Referenced column "stage" not found' in message, failures
    assert marts(project) == good_marts


def test_a_new_column_is_tolerated_with_a_warning_naming_it(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    def damage(raw: Path) -> None:
        rewrite(
            day_file(raw, "tracks", YESTERDAY),
            lambda f: f.with_columns(context_locale=pl.lit("en-US")),
        )

    project, invocation = rebuild(
        built_warehouse, tmp_path, damage, "source:segment.tracks+", extra=("--store-failures",)
    )
    assert invocation.success, invocation.describe()
    [warning] = [r for r in invocation.results if str(r.status) == "warn"]
    assert warning.node.name == "raw_contract__segment__tracks"
    assert project.query(f"select guard_level, problem from {warning.node.relation_name}") == [
        (
            "warn",
            f"new column context_locale (not in the contract) in 1 file(s) since date={YESTERDAY}",
        )
    ]
    assert marts(project) == good_marts


def files_before_first(folder: Path, needed: Callable[[pl.DataFrame], pl.DataFrame]) -> list[Path]:
    """The table's files, in day order, up to the first with a row that `needed` selects."""
    older = []
    for path in sorted(folder.glob("*/*.parquet")):
        if needed(pl.read_parquet(path)).height:
            break
        older.append(path)
    return older


def test_older_files_without_a_column_added_later_read_as_its_fallback(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    """Invoices landed before subtotal/tax/total existed read as untaxed (subtotal = total =
    amount_due), charges before currency existed as usd. Files written that way up to the first
    taxed invoice and the first non-usd charge: the marts come out exactly the same."""
    dropped = {}

    def damage(raw: Path) -> None:
        taxed = pl.col("tax").ne(0) | pl.col("subtotal").ne(pl.col("amount_due"))
        invoices = files_before_first(raw / "stripe" / "invoices", lambda f: f.filter(taxed))
        charges = files_before_first(
            raw / "stripe" / "charges", lambda f: f.filter(pl.col("currency") != "usd")
        )
        for path in invoices:
            rewrite(path, lambda f: f.drop("subtotal", "tax", "total"))
        for path in charges:
            rewrite(path, lambda f: f.drop("currency"))
        dropped["invoices"] = sum(pl.read_parquet(path).height for path in invoices)
        dropped["charges"] = sum(pl.read_parquet(path).height for path in charges)

    project, invocation = rebuild(
        built_warehouse, tmp_path, damage, "source:stripe.invoices+", "source:stripe.charges+"
    )
    assert dropped["invoices"] > 0 and dropped["charges"] > 0, dropped
    assert invocation.success, invocation.describe()
    assert marts(project) == good_marts


# --- conflicting duplicates and re-deliveries ----------------------------------------------

# The content column each source's planted duplicate disagrees on.
CONFLICTING = {
    "users": "full_name",
    "subscriptions": "quantity",
    "usage_events": "feature",
    "customers": "name",
    "invoices": "amount_due",
    "charges": "amount",
    "invoice_line_items": "amount",
    "tracks": "event",
    "identifies": "email",
    "accounts": "employees",
    "opportunities": "amount",
    "ad_spend": "spend_cents",
}


def first_row_file(raw: Path, table_name: str) -> tuple[Path, pl.DataFrame]:
    table = RAW_TABLES_BY_NAME[table_name]
    for path in sorted((raw / table.system / table.name).glob("*/*.parquet")):
        frame = pl.read_parquet(path)
        if frame.height:
            return path, frame
    raise AssertionError(f"no {table_name} rows in the small world")


def test_conflicting_duplicates_stop_the_build_naming_source_and_key_for_every_source(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    planted: dict[str, dict[str, Any]] = {}

    def damage(raw: Path) -> None:
        for name, column in CONFLICTING.items():
            path, frame = first_row_file(raw, name)
            row = frame.head(1)
            changed = (pl.col(column) + 1) if row.schema[column].is_numeric() else pl.lit("x")
            other = row.with_columns(changed.cast(row.schema[column]).alias(column))
            pl.concat([frame, other]).write_parquet(path)
            planted[name] = {"row": row.row(0, named=True), "day": path.parent.name}

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:*+")
    failures = invocation.failures()
    for table in RAW_TABLES:
        guard = f"raw_conflicts__{table.system}__{table.name}"
        row, day = planted[table.name]["row"], planted[table.name]["day"]
        key = ", ".join(f"{column}={row[column]}" for column in table.primary_key)
        assert guard in failures, (guard, sorted(failures))
        assert (
            failures[guard]
            .split("Invalid Input Error: ")[1]
            .startswith(
                f"{table.system}.{table.name} ({folder(project, table.name)}): conflicting "
                f"duplicates (same key and version, different content): {key}"
            )
        ), failures[guard]
        assert failures[guard].endswith(f"2 different contents, landed in {day}")
    assert marts(project) == good_marts


def test_exact_redeliveries_of_every_source_change_nothing(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    """At-least-once delivery: a row landed again, identical, in the newest partition."""

    def damage(raw: Path) -> None:
        for table in RAW_TABLES:
            _, frame = first_row_file(raw, table.name)
            newest = partition_path(raw, table, AS_OF)
            landed = pl.read_parquet(newest)
            late = pl.lit(dt.datetime.combine(AS_OF, dt.time(23)))
            again = frame.head(1).with_columns(
                late.cast(frame.schema["_loaded_at"]).alias("_loaded_at")
            )
            pl.concat([landed, again]).write_parquet(newest)

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:*+")
    assert invocation.success, invocation.describe()
    assert marts(project) == good_marts


# --- volume --------------------------------------------------------------------------------

USAGE = RAW_TABLES_BY_NAME["usage_events"]
# 60 more events on each day of the 5 weeks before the as-of day, so the usage feed is busy
# enough to be judged (its threshold: a same-weekday median of at least 50 rows).
BUSY_WEEKS = 5
EXTRA_EVENTS = 60


def busy_usage(raw: Path, as_of_share: float) -> tuple[float, int]:
    """Pad the usage feed's last weeks with events of a real user, then land `as_of_share` of the
    as-of day's baseline on it. Returns (baseline, rows landed): the baseline recomputed here from
    the files, the median of the 4 same weekdays before the as-of day."""
    template = pl.read_parquet(raw / USAGE.system / USAGE.name / "*" / "*.parquet").head(1)

    def events(day: dt.date, n: int) -> pl.DataFrame:
        at = {"occurred_at": dt.time(12), "_loaded_at": dt.time(23)}
        return (pl.concat([template] * n) if n else template.clear()).with_columns(
            pl.Series("event_id", [f"pad-{day}-{i}" for i in range(n)]),
            *(
                pl.lit(dt.datetime.combine(day, t)).cast(USAGE.schema[c]).alias(c)
                for c, t in at.items()
            ),
        )

    for back in range(1, 7 * BUSY_WEEKS + 1):
        day = AS_OF - dt.timedelta(days=back)
        path = partition_path(raw, USAGE, day)
        pl.concat([pl.read_parquet(path), events(day, EXTRA_EVENTS)]).write_parquet(path)
    same_weekdays = [
        pl.read_parquet(partition_path(raw, USAGE, AS_OF - dt.timedelta(weeks=w))).height
        for w in range(1, 5)
    ]
    baseline = float(pl.Series(same_weekdays).median())
    rows = round(as_of_share * baseline)
    events(AS_OF, rows).head(rows).write_parquet(partition_path(raw, USAGE, AS_OF))
    return baseline, rows


def test_an_empty_partition_on_a_busy_day_stops_the_build(
    built_warehouse: DbtProject, good_marts, tmp_path: Path
) -> None:
    landed = {}

    def damage(raw: Path) -> None:
        landed["baseline"], _ = busy_usage(raw, as_of_share=0.0)

    project, invocation = rebuild(built_warehouse, tmp_path, damage, "source:app_db.usage_events+")
    assert landed["baseline"] >= 50
    assert_stopped_at_the_door(
        invocation,
        "raw_volume__app_db__usage_events",
        f"app_db.usage_events ({folder(project, 'usage_events')}): partitions far below their "
        f"usual volume: date={AS_OF}: 0 rows, the same weekday of the 4 weeks before had a "
        f"median of {landed['baseline']:.1f} (below 25 % of it is an outage)",
    )
    assert marts(project) == good_marts


@pytest.mark.parametrize("share", [0.35, 10.0], ids=["a_third", "ten_times"])
def test_an_unusual_volume_warns_and_the_build_goes_on(
    built_warehouse: DbtProject, tmp_path: Path, share: float
) -> None:
    """Between 25 % and 50 % of the baseline (a partial day), or above 8x (history re-dumped
    into one partition): a warning naming the day; the staging model still builds."""
    landed = {}

    def damage(raw: Path) -> None:
        landed["baseline"], landed["rows"] = busy_usage(raw, as_of_share=share)

    project, invocation = rebuild(
        built_warehouse,
        tmp_path,
        damage,
        "stg_app_db__usage_events",
        "source:app_db.usage_events",  # the guards read the source: cautious selection needs it
        extra=("--indirect-selection", "cautious", "--store-failures"),
    )
    assert invocation.success, invocation.describe()
    [warning] = [r for r in invocation.results if str(r.status) == "warn"]
    assert warning.node.name == "raw_volume__app_db__usage_events"
    assert project.query(f"select guard_level, problem from {warning.node.relation_name}") == [
        (
            "warn",
            f"date={AS_OF}: {landed['rows']} rows, the same weekday of the 4 weeks before had a "
            f"median of {landed['baseline']:.1f} (expected 50 % to 8x of it)",
        )
    ]
