"""Retention on a hand-made world whose answers are worked out by hand below.

Ten customers, one product period or a few each (monthly plans unless said; MRR in USD), around
May 2026 — the last complete month before the suite's as-of day (2026-06-14). May's monthly cohort
is who pays on 2026-04-30; its end is 2026-05-31.

  1 cloudsync pro x5 = 120 since 2025-05-10, steady                      120 -> 120
  2 datahub starter 30, moves to teamchat enterprise 30 on 2026-05-12     30 -> 30  (a switch)
  3 cloudsync pro x2 = 48, adds datahub pro 75 on 2026-05-20              48 -> 123 (a cross-sell)
  4 teamchat pro x4 = 60, cancels on 2026-05-15                           60 -> 0   (a lost logo)
  5 datahub pro x2 = 150, down to x1 = 75 on 2026-05-08                  150 -> 75
  6 new on 2026-05-05: cloudsync starter 12, a second seat on 2026-05-25  not in the cohort
  7 teamchat starter x2 = 12, cancels 2026-05-03, back 2026-05-20         12 -> 12
  8 cloudsync pro 24 from 2025-05-05, gone 2025-09-10, back x3 = 72 on 2026-03-02
                                                                          72 -> 72
  9 teamchat starter annual x12 = 6000 / 12 x 12 / 12 = 60 since 2025-06-10   60 -> 60
 10 datahub starter 30 from 2025-05-02, gone 2025-12-20                   not in May's cohort

May, customer level (NRR / GRR / logo churn, METRICS.md):
  start = 120 + 30 + 48 + 60 + 150 + 12 + 72 + 60 = 552
  end   = 120 + 30 + 123 + 0 + 75 + 12 + 72 + 60 = 492   -> NRR = 492 / 552
  capped= 120 + 30 + 48 + 0 + 75 + 12 + 72 + 60 = 417   -> GRR = 417 / 552
  lost  = customer 4 of 8                                -> logo churn = 1 / 8
Trailing 12 months to May 2026 (who paid on 2025-05-31: 1, 8 and 10):
  then = 120 + 24 + 30 = 174; now = 120 + 72 + 0 = 192 -> NRR = 192 / 174
  capped now = 120 + 24 + 0 = 144                        -> GRR = 144 / 174
Product level, May (pairs paying on 2026-04-30):
  cloudsync 1, 3, 8: 240 -> 240;  datahub 2, 5: 180 -> 75 (2 moved away);  teamchat 4, 7, 9:
  132 -> 72; churned pairs 0 of 3, 1 of 2 (customer 2's datahub), 1 of 3 (customer 4).
The old definition (product-level movements of May over the MRR of April 30) said
  (552 + 12 - 75 - 30 - 60 - 12) / 552 = 387 / 552 = 70 % and 2 lost logos of 8 (customers 4 and 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import pytest

from techflow_metrics.semantic import MetricStore
from tests.dbt.raw_fixtures import at, write_world
from tests.support import AS_OF, DbtProject

pytestmark = pytest.mark.slow

WORLD_START = dt.date(2025, 5, 1)
MAY = dt.date(2026, 5, 1)
D = dt.date


def user(user_id: int) -> dict[str, Any]:
    signed_up = at(WORLD_START, 8)
    return {
        "user_id": user_id, "email": f"owner{user_id}@company{user_id}.com",
        "full_name": f"Owner {user_id}", "company_name": f"Company {user_id}",
        "company_domain": f"company{user_id}.com", "country": "US", "signup_at": signed_up,
        "updated_at": signed_up, "_loaded_at": signed_up + dt.timedelta(hours=1),
    }  # fmt: skip


def period(
    subscription_id: int,
    user_id: int,
    plan_id: str,
    seats: int,
    start: dt.date,
    end: dt.date | None = None,
    reason: str | None = None,
    previous: int | None = None,
) -> dict[str, Any]:
    """A period's final version, landed when it last changed."""
    started = at(start, 10)
    ended = at(end, 10) if end else None
    updated = ended or started
    return {
        "subscription_id": subscription_id, "user_id": user_id, "plan_id": plan_id,
        "quantity": seats, "status": "canceled" if ended else "active", "trial_ends_at": None,
        "started_at": started, "ended_at": ended, "ended_reason": reason,
        "previous_subscription_id": previous, "created_at": started, "updated_at": updated,
        "_loaded_at": updated + dt.timedelta(hours=1),
    }  # fmt: skip


def subscriptions() -> list[dict[str, Any]]:
    return [
        period(1, 1, "cloudsync_pro_monthly", 5, D(2025, 5, 10)),
        period(2, 2, "datahub_starter_monthly", 1, D(2026, 1, 5), D(2026, 5, 12), "churn"),
        period(3, 2, "teamchat_enterprise_monthly", 1, D(2026, 5, 12)),
        period(4, 3, "cloudsync_pro_monthly", 2, D(2026, 2, 3)),
        period(5, 3, "datahub_pro_monthly", 1, D(2026, 5, 20)),
        period(6, 4, "teamchat_pro_monthly", 4, D(2026, 3, 1), D(2026, 5, 15), "churn"),
        period(7, 5, "datahub_pro_monthly", 2, D(2025, 11, 10), D(2026, 5, 8), "seat_change"),
        period(8, 5, "datahub_pro_monthly", 1, D(2026, 5, 8), previous=7),
        period(9, 6, "cloudsync_starter_monthly", 1, D(2026, 5, 5), D(2026, 5, 25), "seat_change"),
        period(10, 6, "cloudsync_starter_monthly", 2, D(2026, 5, 25), previous=9),
        period(11, 7, "teamchat_starter_monthly", 2, D(2026, 1, 10), D(2026, 5, 3), "churn"),
        period(12, 7, "teamchat_starter_monthly", 2, D(2026, 5, 20)),
        period(13, 8, "cloudsync_pro_monthly", 1, D(2025, 5, 5), D(2025, 9, 10), "churn"),
        period(14, 8, "cloudsync_pro_monthly", 3, D(2026, 3, 2)),
        period(15, 9, "teamchat_starter_annual", 12, D(2025, 6, 10)),
        period(16, 10, "datahub_starter_monthly", 1, D(2025, 5, 2), D(2025, 12, 20), "churn"),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    data_dir = tmp_path_factory.mktemp("retention_world")
    tables = {"users": [user(n) for n in range(1, 11)], "subscriptions": subscriptions()}
    write_world(data_dir / "raw", tables, WORLD_START)
    project = DbtProject(data_dir=data_dir, world_start=WORLD_START)
    invocation = project.dbt(
        "build",
        "--select",
        "+fct_customer_retention_monthly",
        "+fct_mrr_monthly",
        "+fct_customer_mrr_daily",
        "metricflow_time_spine",
        "--indirect-selection",
        "cautious",
    )
    assert invocation.success, invocation.describe()
    project.publish()  # the semantic layer reads the published warehouse, as in production
    return project


@pytest.fixture(scope="module")
def store(world: DbtProject, semantic_manifest) -> Iterator[MetricStore]:
    with duckdb.connect(str(world.published), read_only=True) as con:
        yield MetricStore(con, semantic_manifest)


def in_month(store: MetricStore, metrics: list[str], month: dt.date, *dims: str) -> dict:
    frame = store.query(metrics, ["metric_time__month", *dims])
    rows = [r for r in frame.iter_rows(named=True) if r["metric_time__month"].date() == month]
    if not dims:
        (row,) = rows
        return row
    return {tuple(r[d] for d in dims): r for r in rows}


def test_mays_customer_level_retention(store: MetricStore) -> None:
    row = in_month(store, ["nrr", "grr", "logo_churn_rate", "customers_at_start"], MAY)
    assert row["customers_at_start"] == 8
    assert row["nrr"] == pytest.approx(492 / 552, rel=1e-12)
    assert row["grr"] == pytest.approx(417 / 552, rel=1e-12)
    assert row["logo_churn_rate"] == pytest.approx(1 / 8, rel=1e-12)


def test_a_switch_is_neither_churn_nor_expansion_and_a_cross_sell_is_expansion(
    world: DbtProject,
) -> None:
    rows = world.query(
        "select customer_id, start_mrr, end_mrr, expansion_mrr, contraction_mrr, churned_mrr, "
        "is_churned from finance.fct_customer_retention_monthly "
        "where retention_month = ? and customer_id in (2, 3, 4, 7) order by customer_id",
        [MAY],
    )
    zero = Decimal("0.00")
    assert rows == [
        (2, Decimal("30.00"), Decimal("30.00"), zero, zero, zero, False),  # switch
        (3, Decimal("48.00"), Decimal("123.00"), Decimal("75.00"), zero, zero, False),  # cross-sell
        (4, Decimal("60.00"), zero, zero, zero, Decimal("-60.00"), True),  # lost logo
        (7, Decimal("12.00"), Decimal("12.00"), zero, zero, zero, False),  # left and came back
    ]


def test_a_customer_new_in_the_month_is_not_in_its_cohort(world: DbtProject) -> None:
    assert world.query(
        "select count(*) from finance.fct_customer_retention_monthly "
        "where customer_id = 6 and retention_month = ?",
        [MAY],
    ) == [(0,)]


def test_trailing_12_months_to_may(store: MetricStore) -> None:
    row = in_month(store, ["nrr_trailing_12m", "grr_trailing_12m"], MAY)
    assert row["nrr_trailing_12m"] == pytest.approx(192 / 174, rel=1e-12)
    assert row["grr_trailing_12m"] == pytest.approx(144 / 174, rel=1e-12)


def test_mays_product_level_retention(store: MetricStore) -> None:
    product = "product_month__product"
    rows = in_month(store, ["product_nrr", "product_grr", "product_churn_rate"], MAY, product)
    got = {
        key[0]: (r["product_nrr"], r["product_grr"], r["product_churn_rate"])
        for key, r in rows.items()
    }
    assert got == {
        "cloudsync": pytest.approx((1.0, 1.0, 0.0)),
        "datahub": pytest.approx((75 / 180, 75 / 180, 1 / 2)),
        "teamchat": pytest.approx((72 / 132, 72 / 132, 1 / 3)),
    }


def test_june_is_in_progress_and_never_a_month(store: MetricStore, world: DbtProject) -> None:
    months = {r.date() for r in store.query(["nrr"], ["metric_time__month"])["metric_time__month"]}
    assert AS_OF.replace(day=1) not in months and MAY in months
    [(complete,)] = world.query(
        "select distinct is_complete_month from finance.fct_customer_retention_monthly "
        "where retention_month = ?",
        [AS_OF.replace(day=1)],
    )
    assert complete is False


def test_customer_level_movements_of_may(store: MetricStore) -> None:
    """May's daily movements, customer level: 6 is new (12) then expands (12), 3 expands by the
    cross-sell (75), 2's same-day switch is unchanged, 7 churns (12) and reactivates (12), 4
    churns (60), 5 contracts (75)."""
    row = in_month(
        store,
        ["new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr"],
        MAY,
    )
    assert {k: v for k, v in row.items() if k != "metric_time__month"} == {
        "new_mrr": Decimal("12.00"),
        "expansion_mrr": Decimal("87.00"),
        "contraction_mrr": Decimal("-75.00"),
        "churned_mrr": Decimal("-72.00"),
        "reactivation_mrr": Decimal("12.00"),
    }
