"""The sales mart on a hand-made world whose deals and purchases are known (dates in 2026).

- acme.io (user 1, 300 employees) trials TeamChat Pro with 30 seats from Mar 1; the trial
  converts on Mar 15 and the new-business deal (Paid Search) walks every stage and is won that
  day for 30 x $15 x 12 = $5,400 ARR. On Apr 10 a seat change to 40 seats starts; the expansion
  deal opened Mar 20 is won that day for the ARR increase, 10 x $15 x 12 = $1,800.
- globex.io (user 2, 1,500 employees) trials 25 seats from Mar 3 and lets the trial lapse on
  Mar 17; its deal (Web) reaches Proposal and is lost on Apr 14 ($4,500 pitched).
- initech.io (user 3, 50 employees) starts a 40-seat trial on Jun 5; its deal (Web) is in
  Qualification on the as-of day (Jun 14), expected to close Jul 15 ($7,200 open pipeline).
- A QA company (techflow.test, user 9) has an account and a won deal that must never show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import duckdb
import pytest

from techflow_metrics.semantic import SEMANTIC_MANIFEST_PATH, MetricStore
from techflow_orchestration.project import (
    FINGERPRINT_PATH,
    changed_since_manifest,
    prepare_manifest,
)
from tests.dbt.raw_fixtures import at, write_world
from tests.support import DbtProject, release_duckdb_file

MARCH_1 = dt.date(2026, 3, 1)
PLAN = "teamchat_pro_monthly"  # $15 per seat per month in the plan catalog
MODELS = ("fct_opportunities", "rpt_sales_pipeline")


def _day(month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return at(dt.date(2026, month, day), hour, minute)


def _user(user_id: int, domain: str, signup_at: dt.datetime) -> dict[str, object]:
    return {
        "user_id": user_id,
        "email": f"owner@{domain}",
        "full_name": f"User {user_id}",
        "company_name": domain.split(".")[0].title(),
        "company_domain": domain,
        "country": "DE",
        "signup_at": signup_at,
        "updated_at": signup_at,
        "_loaded_at": signup_at + dt.timedelta(minutes=30),
    }


def _period(
    subscription_id: int,
    user_id: int,
    seats: int,
    started_at: dt.datetime,
    trial_ends_at: dt.datetime | None,
    status: str,
    ended: tuple[dt.datetime, str] | None = None,
    previous: int | None = None,
) -> dict[str, object]:
    ended_at, reason = ended or (None, None)
    changed = ended_at or started_at
    return {
        "subscription_id": subscription_id,
        "user_id": user_id,
        "plan_id": PLAN,
        "quantity": seats,
        "status": status,
        "trial_ends_at": trial_ends_at,
        "started_at": started_at,
        "ended_at": ended_at,
        "ended_reason": reason,
        "previous_subscription_id": previous,
        "created_at": started_at,
        "updated_at": changed,
        "_loaded_at": changed + dt.timedelta(minutes=20),
    }


def _account(account_id: str, domain: str, user_id: int, employees: int, created: dt.datetime):
    return {
        "account_id": account_id,
        "name": domain.split(".")[0].title(),
        "domain": domain,
        "industry": "Software",
        "employees": employees,
        "app_user_id": str(user_id),
        "created_at": created,
        "updated_at": created,
        "_loaded_at": created + dt.timedelta(minutes=10),
    }


def _versions(
    opportunity_id: str,
    account_id: str,
    kind: str,
    stages: list[tuple[str, dt.datetime]],
    amount_cents: int,
    close_date: dt.date,
    lead_source: str,
) -> list[dict[str, object]]:
    """One raw row per stage change, as the CRM extract lands them."""
    return [
        {
            "opportunity_id": opportunity_id,
            "account_id": account_id,
            "name": f"{account_id} - {kind}",
            "type": kind,
            "stage": stage,
            "amount": amount_cents,
            "close_date": close_date,
            "lead_source": lead_source,
            "campaign": "brand_search" if kind == "New Business" else None,
            "created_at": stages[0][1],
            "updated_at": when,
            "_loaded_at": when + dt.timedelta(minutes=15),
        }
        for stage, when in stages
    ]


def world_tables() -> dict[str, list[dict[str, object]]]:
    opened = ["Prospecting", "Qualification", "Proposal", "Negotiation"]
    return {
        "users": [
            _user(1, "acme.io", _day(3, 1)),
            _user(2, "globex.io", _day(3, 3)),
            _user(3, "initech.io", _day(6, 5)),
            _user(9, "techflow.test", _day(3, 1)),
        ],
        "subscriptions": [
            _period(101, 1, 30, _day(3, 1), _day(3, 15), "canceled", (_day(4, 10), "seat_change")),
            _period(102, 1, 40, _day(4, 10), None, "active", previous=101),
            _period(201, 2, 25, _day(3, 3), _day(3, 17), "canceled", (_day(3, 17), "churn")),
            _period(301, 3, 40, _day(6, 5), _day(6, 19), "trialing"),
        ],
        "accounts": [
            _account("001A", "acme.io", 1, 300, _day(3, 2)),
            _account("001G", "globex.io", 2, 1500, _day(3, 4)),
            _account("001I", "initech.io", 3, 50, _day(6, 6)),
            _account("001Q", "techflow.test", 9, 400, _day(3, 2)),
        ],
        "opportunities": [
            *_versions(
                "006NB1",
                "001A",
                "New Business",
                [
                    *zip(opened, [_day(3, d, 10) for d in (2, 5, 8, 11)], strict=True),
                    ("Closed Won", _day(3, 15, 9, 4)),
                ],
                540_000,
                dt.date(2026, 3, 15),
                "Paid Search",
            ),
            *_versions(
                "006EX1",
                "001A",
                "Expansion",
                [
                    *zip(opened, [_day(3, d, 11) for d in (20, 25, 30, 31)], strict=True),
                    ("Closed Won", _day(4, 10, 9, 4)),
                ],
                180_000,
                dt.date(2026, 4, 10),
                "Paid Search",
            ),
            *_versions(
                "006NB2",
                "001G",
                "New Business",
                [
                    *zip(opened[:3], [_day(3, 4), _day(3, 10), _day(3, 20)], strict=True),
                    ("Closed Lost", _day(4, 14)),
                ],
                450_000,
                dt.date(2026, 4, 14),
                "Web",
            ),
            *_versions(
                "006NB3",
                "001I",
                "New Business",
                [("Prospecting", _day(6, 6)), ("Qualification", _day(6, 10))],
                720_000,
                dt.date(2026, 7, 15),
                "Web",
            ),
            *_versions(
                "006QA",
                "001Q",
                "New Business",
                [("Prospecting", _day(3, 2)), ("Closed Won", _day(3, 15))],
                999_900,
                dt.date(2026, 3, 15),
                "Web",
            ),
        ],
    }


@pytest.fixture(scope="module")
def sales_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    data_dir = tmp_path_factory.mktemp("sales_world")
    write_world(data_dir / "raw", world_tables(), first_day=MARCH_1)
    project = DbtProject(data_dir=data_dir, world_start=MARCH_1)
    selection = ("--select", "+fct_opportunities", "+rpt_sales_pipeline", "+dim_subscriptions")
    built = project.dbt("build", *selection, "stg_app_db__users", "--exclude-resource-type",
                        "test", "unit_test")  # fmt: skip
    assert built.success, built.describe()
    yield project


def _sales_tests(project: DbtProject):
    return project.dbt(
        "test",
        "--select",
        *MODELS,
        "stg_salesforce__opportunities",
        "assert_won_deals_match_app_db",
        "--indirect-selection",
        "cautious",
        "--exclude-resource-type",
        "unit_test",
    )


def test_the_sales_marts_pass_their_tests_on_a_consistent_world(sales_world: DbtProject) -> None:
    tested = _sales_tests(sales_world)
    assert tested.success, tested.describe()
    assert any("assert_won_deals_match_app_db" in r.node.unique_id for r in tested.results)


def test_each_deal_has_its_outcome_days_and_arr(sales_world: DbtProject) -> None:
    rows = sales_world.query(
        "select opportunity_id, opportunity_type, stage, is_won, is_lost, is_open, amount_usd, "
        "days_to_close, days_open, account_segment from sales.fct_opportunities "
        "order by opportunity_id"
    )
    assert rows == [
        ("006EX1", "Expansion", "Closed Won", True, False, False, Decimal("1800.00"), 21, None,
         "mid_market"),
        ("006NB1", "New Business", "Closed Won", True, False, False, Decimal("5400.00"), 13, None,
         "mid_market"),
        ("006NB2", "New Business", "Closed Lost", False, True, False, Decimal("4500.00"), 41, None,
         "enterprise"),
        ("006NB3", "New Business", "Qualification", False, False, True, Decimal("7200.00"), None,
         8, "smb"),
    ]  # fmt: skip


def test_pipeline_report_counts_wins_losses_and_open_pipeline_by_month(
    sales_world: DbtProject,
) -> None:
    rows = sales_world.query(
        "select report_month, opportunity_type, lead_source, opportunities_created, "
        "won_opportunities, lost_opportunities, won_amount_usd, win_rate, open_pipeline_usd, "
        "open_qualification_usd from sales.rpt_sales_pipeline order by all"
    )
    d = dt.date
    assert rows == [
        (d(2026, 3, 1), "Expansion", "Paid Search", 1, 0, 0, Decimal("0.00"), None,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 3, 1), "New Business", "Paid Search", 1, 1, 0, Decimal("5400.00"), 1.0,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 3, 1), "New Business", "Web", 1, 0, 0, Decimal("0.00"), None,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 4, 1), "Expansion", "Paid Search", 0, 1, 0, Decimal("1800.00"), 1.0,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 4, 1), "New Business", "Web", 0, 0, 1, Decimal("0.00"), 0.0,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 6, 1), "New Business", "Web", 1, 0, 0, Decimal("0.00"), None,
         Decimal("0.00"), Decimal("0.00")),
        (d(2026, 7, 1), "New Business", "Web", 0, 0, 0, Decimal("0.00"), None,
         Decimal("7200.00"), Decimal("7200.00")),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def semantic_manifest() -> None:
    """MetricFlow's manifest as `make manifest` writes it (prepared here when missing or stale)."""
    if not (
        SEMANTIC_MANIFEST_PATH.exists()
        and FINGERPRINT_PATH.exists()
        and not changed_since_manifest()
    ):
        prepare_manifest()


def test_win_rate_and_pipeline_metrics_read_the_known_deals(
    sales_world: DbtProject, semantic_manifest: None
) -> None:
    with duckdb.connect(str(sales_world.warehouse), read_only=True) as con:
        frame = MetricStore(con, SEMANTIC_MANIFEST_PATH).query(
            ["win_rate", "pipeline_amount", "won_arr"], ["opportunity__opportunity_type"]
        )
    rows = sorted(frame.iter_rows())
    # New business: 1 won of 2 closed, $7,200 open; expansion: 1 of 1, $1,800 won.
    assert rows == [
        ("Expansion", 1.0, Decimal("0.00"), Decimal("1800.00")),
        ("New Business", 0.5, Decimal("7200.00"), Decimal("5400.00")),
    ]


def test_a_won_deal_without_a_purchase_in_app_db_fails_the_build(sales_world: DbtProject) -> None:
    """The won-deal expectation can fail: a won deal app_db knows nothing about is named."""
    with duckdb.connect(str(sales_world.warehouse)) as con:
        con.execute(
            "insert into sales.fct_opportunities select * replace "
            "('006FAKE' as opportunity_id, 9999.00 as amount_usd) "
            "from sales.fct_opportunities where opportunity_id = '006NB1'"
        )
    try:
        tested = sales_world.dbt("test", "--select", "assert_won_deals_match_app_db")
        assert not tested.success
        [failure] = [r for r in tested.results if str(r.status).lower() == "fail"]
        assert failure.failures == 1
    finally:
        release_duckdb_file()
        with duckdb.connect(str(sales_world.warehouse)) as con:
            con.execute("delete from sales.fct_opportunities where opportunity_id = '006FAKE'")
