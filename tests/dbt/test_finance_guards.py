"""Guards on the finance lineage, each on the hand-made finance world
(tests/dbt/finance_world.py) with one defect:

- two conflicting versions of one user cannot double that customer's MRR (the users' unique test
  reports the conflict; the MRR lineage no longer depends on it);
- money dated in a month the fx_rates seed does not cover stops fct_revenue with an error naming
  the currency and the date, instead of taking the nearest month's rate;
- a raw subscriptions partition dated after the as-of day is not landed yet: it is not kept, so
  it cannot make int_subscription_versions skip the partitions that land before it;
- fct_mrr_daily's recency test measures a window Dagster passes (TECHFLOW_MRR_MAX_DATE) against
  that window's end, as it does the dbt var.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from data_generation.schema import RAW_TABLES_BY_NAME
from tests.dbt.finance_world import (
    FINANCE_BUILD,
    charge,
    day,
    finance_tables,
    invoice,
    period,
    user,
    world_start,
    write_finance_world,
)
from tests.dbt.raw_fixtures import at, partition_path, typed_frame
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow


def test_a_user_with_two_conflicting_versions_keeps_one_mrr(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Customer 2 re-landed with the same updated_at and another country: which is true is
    unknowable (the unique test on stg_app_db__users fails a build), but `dbt run` — no tests —
    must not count the annual teamchat period twice: 60, not 120."""
    tables = finance_tables()
    tables["users"].append(user(2, "two@globex.de", "ch", at(day(12), 8)))
    data_dir = write_finance_world(tmp_path_factory.mktemp("conflicting_user"), tables)
    project = DbtProject(data_dir=data_dir, world_start=world_start())
    assert project.dbt("seed").success
    invocation = project.dbt("run", "--select", "+fct_mrr_daily", "+dim_subscriptions")
    assert invocation.success, invocation.describe()
    assert project.query(
        "select sum(mrr) from finance.fct_mrr_daily where customer_id = 2 and date_day = ?",
        [AS_OF],
    ) == [(Decimal("60.00"),)]
    assert project.query(
        "select count(*) from finance.dim_subscriptions where subscription_id = 3"
    ) == [(1,)]
    built = project.dbt("build", "--select", "stg_app_db__users")
    assert any(
        node.startswith("test.techflow.unique_stg_app_db__users_user_id")
        for node in built.failed_nodes()
    ), "the conflict itself is still reported"


def test_money_outside_the_fx_rates_seed_stops_revenue_naming_currency_and_date(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A backfilled EUR invoice of 2023-12-20 (the seed starts in January 2024)."""
    tables = finance_tables()
    issued = dt.datetime(2023, 12, 20, 10)
    old = invoice("in_old", "cus_2", 3, issued, 1, 6000, currency="eur")
    tables["invoices"].append(old | {"_loaded_at": at(day(2), 10), "updated_at": issued})
    tables["charges"].append(
        charge("ch_old", "in_old", "cus_2", issued, 6000)
        | {"currency": "eur", "_loaded_at": at(day(2), 10)}
    )
    data_dir = write_finance_world(tmp_path_factory.mktemp("fx_out_of_range"), tables)
    invocation = DbtProject(data_dir=data_dir, world_start=world_start()).dbt(*FINANCE_BUILD)
    assert not invocation.success
    built = {str(r.node.unique_id) for r in invocation.results if str(r.status) == "success"}
    assert "model.techflow.fct_revenue" not in built
    message = invocation.describe()
    assert "no fx_rates rate for EUR on 2023-12-20" in message, message
    assert "in_old" in message


def land_subscription(data_dir, row: dict, landed: dt.date) -> None:
    table = RAW_TABLES_BY_NAME["subscriptions"]
    path = partition_path(data_dir / "raw", table, landed)
    path.parent.mkdir(parents=True, exist_ok=True)
    typed_frame(table, [row]).write_parquet(path)


def test_a_partition_dated_after_the_as_of_day_does_not_stall_the_versions_copy(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A mis-dated folder five days ahead holds a period; the as-of day's build keeps nothing
    from it, and the next day's partition is still read when that day comes."""
    data_dir = write_finance_world(tmp_path_factory.mktemp("future_partition"))
    ahead = AS_OF + dt.timedelta(days=5)
    land_subscription(
        data_dir,
        period(20, 4, "cloudsync_pro_monthly", 1, at(day(25), 9)) | {"_loaded_at": at(ahead, 6)},
        ahead,
    )
    today = DbtProject(data_dir=data_dir, world_start=world_start())
    assert today.dbt("run", "--select", "+int_subscription_versions").success
    assert today.query(
        "select count(*) from intermediate.int_subscription_versions where landed_date > ?",
        [AS_OF],
    ) == [(0,)]

    tomorrow = AS_OF + dt.timedelta(days=1)
    land_subscription(
        data_dir,
        period(21, 4, "teamchat_pro_monthly", 2, at(tomorrow, 9))
        | {"_loaded_at": at(tomorrow, 10)},
        tomorrow,
    )
    next_day = DbtProject(data_dir=data_dir, world_start=world_start(), as_of=tomorrow)
    assert next_day.dbt("run", "--select", "int_subscription_versions").success
    kept = next_day.query(
        "select subscription_id, landed_date from intermediate.int_subscription_versions "
        "where subscription_id in (20, 21)"
    )
    assert kept == [(21, tomorrow)]


def test_the_recency_test_measures_the_window_dagster_passes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """fct_mrr_daily built through S+20 only (Dagster's env window, a backfill of old days):
    its recency test passes against that window's end, and fails when the window says the table
    should reach the as-of day."""
    data_dir = write_finance_world(tmp_path_factory.mktemp("recency_window"))
    window_end = day(20).isoformat()
    backfill = DbtProject(
        data_dir=data_dir,
        world_start=world_start(),
        extra_env={"TECHFLOW_MRR_MIN_DATE": world_start().isoformat(),
                   "TECHFLOW_MRR_MAX_DATE": window_end},
    )  # fmt: skip
    built = backfill.dbt("build", "--select", "+fct_mrr_daily", "--indirect-selection", "cautious")
    assert built.success, built.describe()
    assert backfill.query("select max(date_day) from finance.fct_mrr_daily") == [(day(20),)]
    recency = ("test", "--select", "fct_mrr_daily,test_name:expect_recent_data")
    assert backfill.dbt(*recency).success

    whole = DbtProject(
        data_dir=data_dir,
        world_start=world_start(),
        extra_env={"TECHFLOW_MRR_MAX_DATE": AS_OF.isoformat()},
    )
    stale = whole.dbt(*recency)
    assert not stale.success
    assert any(
        n.startswith("test.techflow.expect_recent_data_fct_mrr_daily") for n in stale.failed_nodes()
    )
