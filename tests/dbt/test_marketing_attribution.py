"""Marketing staging, attribution and the funnel, proved on a hand-made world with known answers.

The world (dates in March 2025) has five real users and one QA account:
- user 1 visits first from a second browser (b1-laptop) via a " Google "/"CPC" brand_search ad,
  later from b1-phone via Facebook, then signs up on b1-phone after a direct visit; identifies
  link both browsers. Its Facebook visit is delivered twice (same message_id, the copy in the
  next day's partition). First touch brand_search, last (non-direct) touch Facebook, linear 1/3
  each. User 1 activates three hours after signing up, and the trial that starts then converts.
- user 2 arrives via "NewsLetter"/"EMAIL" (a /pricing view five minutes later is the same
  session), then clicks a Google ad only after signing up. Activates, never trials.
- user 3 has no tracked visit at all (direct).
- user 4 comes from a UTM pair the seed does not know ("TikTok"/"paid_social": channel other).
- user 5 comes in directly first, then from organic search: first touch direct, last organic.
- user 9 is a QA account (@techflow.test) with its own tracked visit and identify.
- Ad spend: brand_search spends on days 2 and 3 (day 2 exported as "Brand_Search "), and day 3
  is restated later with a corrected amount.
- Salesforce: user 1's company is an account with a won brand_search deal (two versions); the QA
  company (techflow.test domain) has an account and a deal of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.dbt.raw_fixtures import app_user, at, write_world
from tests.support import DbtProject

MARCH_1 = dt.date(2025, 3, 1)
SIGNUP_DAY = dt.date(2025, 3, 10)
QA_USER_ID = 9
DOMAIN_MODELS = (
    "path:models/staging/segment",
    "path:models/staging/marketing",
    "path:models/marts/product",
    "path:models/marts/marketing",
)


def _day(offset: int) -> dt.date:
    return MARCH_1 + dt.timedelta(days=offset)


def _track(
    message_id: str,
    anonymous_id: str,
    when: dt.datetime,
    utm: tuple[str | None, str | None, str | None] = (None, None, None),
    user_id: str | None = None,
    loaded_at: dt.datetime | None = None,
) -> dict[str, object]:
    source, medium, campaign = utm
    return {
        "message_id": message_id,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "event": "Page Viewed",
        "timestamp": when,
        "context_page_path": "/pricing",
        "context_campaign_source": source,
        "context_campaign_medium": medium,
        "context_campaign_name": campaign,
        "_loaded_at": loaded_at or when + dt.timedelta(minutes=20),
    }


def _identify(message_id: str, anonymous_id: str, user_id: int, email: str, when: dt.datetime):
    return {
        "message_id": message_id,
        "anonymous_id": anonymous_id,
        "user_id": str(user_id),
        "email": email,
        "timestamp": when,
        "_loaded_at": when + dt.timedelta(minutes=20),
    }


def _event(event_id: str, user_id: int, when: dt.datetime) -> dict[str, object]:
    return {
        "event_id": event_id,
        "user_id": user_id,
        "product": "teamchat",
        "feature": "message_sent",
        "occurred_at": when,
        "_loaded_at": when + dt.timedelta(minutes=20),
    }


def _account(account_id: str, domain: str, user_id: int) -> dict[str, object]:
    return {
        "account_id": account_id,
        "name": domain.split(".")[0].title(),
        "domain": domain,
        "industry": "Software",
        "employees": 250,
        "app_user_id": str(user_id),
        "created_at": at(_day(11), 9),
        "updated_at": at(_day(11), 9),
        "_loaded_at": at(_day(11), 10),
    }


def _opportunity(
    opportunity_id: str, account_id: str, stage: str, updated_at: dt.datetime
) -> dict[str, object]:
    return {
        "opportunity_id": opportunity_id,
        "account_id": account_id,
        "name": f"Deal {opportunity_id}",
        "stage": stage,
        "amount": 500_000,
        "close_date": _day(25),
        "lead_source": "Paid Search",
        "campaign": " Brand_Search",
        "created_at": at(_day(11), 9),
        "updated_at": updated_at,
        "_loaded_at": updated_at + dt.timedelta(hours=1),
    }


def _spend(
    day: dt.date, channel: str, campaign: str, cents: int, landed_days_later: int = 1
) -> dict[str, object]:
    return {
        "spend_date": day,
        "channel": channel,
        "campaign": campaign,
        "impressions": 10_000,
        "clicks": 150,
        "spend_cents": cents,
        "_loaded_at": at(day + dt.timedelta(days=landed_days_later), 2),
    }


GOOGLE_BRAND = (" Google ", "CPC", "Brand_Search")
FACEBOOK = ("facebook", "paid_social", "facebook_retargeting")
NEWSLETTER = ("NewsLetter", "EMAIL", "newsletter_weekly")
TIKTOK = ("TikTok", "paid_social", "tiktok_test")
ORGANIC = ("google", "organic", None)

USER_1_SIGNUP = at(SIGNUP_DAY, 10)
USER_2_SIGNUP = at(SIGNUP_DAY, 12)
USER_1_ACTIVATION = USER_1_SIGNUP + dt.timedelta(hours=3)


def _activation(message_id: str, anonymous_id: str, user_id: int, when: dt.datetime):
    return {
        **_track(message_id, anonymous_id, when, user_id=str(user_id)),
        "event": "Workspace Activated",
        "context_page_path": "/app/welcome",
    }


def _trial_that_converts() -> list[dict[str, object]]:
    """User 1's first subscription: a trial opened at activation, paid, churned a month later."""
    trial_ends = USER_1_ACTIVATION + dt.timedelta(days=14)
    ended = trial_ends + dt.timedelta(days=30)
    base = {
        "subscription_id": 100,
        "user_id": 1,
        "plan_id": "cloudsync_starter_monthly",
        "quantity": 1,
        "trial_ends_at": trial_ends,
        "started_at": USER_1_ACTIVATION,
        "created_at": USER_1_ACTIVATION,
    }
    return [
        {**base, "status": "trialing", "updated_at": USER_1_ACTIVATION,
         "_loaded_at": USER_1_ACTIVATION + dt.timedelta(minutes=30)},
        {**base, "status": "canceled", "ended_at": ended, "ended_reason": "churn",
         "updated_at": ended, "_loaded_at": ended + dt.timedelta(minutes=30)},
    ]  # fmt: skip


def world_tables() -> dict[str, list[dict[str, object]]]:
    duplicated_facebook_visit = _track("t-1b", "b1-phone", at(_day(5), 9), FACEBOOK)
    return {
        "users": [
            app_user(1, "ada@acme.io", USER_1_SIGNUP),
            app_user(2, "bob@globex.io", USER_2_SIGNUP),
            app_user(3, "cy@initech.io", at(SIGNUP_DAY, 15)),
            app_user(4, "di@hooli.io", at(_day(20), 9)),
            app_user(5, "eve@umbrella.io", at(SIGNUP_DAY, 16)),
            app_user(QA_USER_ID, "qa+1@techflow.test", at(SIGNUP_DAY, 8)),
        ],
        "tracks": [
            _track("t-1a", "b1-laptop", at(_day(2), 9), GOOGLE_BRAND),
            duplicated_facebook_visit,
            {**duplicated_facebook_visit, "_loaded_at": at(_day(6), 1)},  # redelivered next day
            _track("t-1c", "b1-phone", USER_1_SIGNUP, user_id="1"),
            _track("t-2a", "b2", at(_day(7), 18), NEWSLETTER),
            _track("t-2p", "b2", at(_day(7), 18) + dt.timedelta(minutes=5)),  # same session
            _track("t-2b", "b2", at(_day(12), 9), GOOGLE_BRAND, user_id="2"),  # after signup
            _track("t-4a", "b4", at(_day(19), 9), TIKTOK),
            _track("t-5a", "b5", at(_day(1), 10)),  # direct: no UTM
            _track("t-5b", "b5", at(_day(8), 10), ORGANIC),
            _track("t-9a", "b9", at(_day(1), 9), GOOGLE_BRAND),
            _activation("t-1w", "b1-phone", 1, USER_1_ACTIVATION),
            _activation("t-2w", "b2", 2, USER_2_SIGNUP + dt.timedelta(days=1)),
        ],
        "subscriptions": _trial_that_converts(),
        "identifies": [
            _identify("i-1a", "b1-phone", 1, "ada@acme.io", USER_1_SIGNUP),
            _identify("i-1b", "b1-laptop", 1, "ada@acme.io", at(_day(15), 8)),
            _identify("i-2", "b2", 2, "bob@globex.io", USER_2_SIGNUP),
            _identify("i-4", "b4", 4, "di@hooli.io", at(_day(20), 9)),
            _identify("i-5", "b5", 5, "eve@umbrella.io", at(SIGNUP_DAY, 16)),
            _identify("i-9", "b9", QA_USER_ID, "qa+1@techflow.test", at(SIGNUP_DAY, 8)),
        ],
        "usage_events": [
            _event("e-1", 1, at(_day(11), 9)),
            _event("e-2", 2, at(_day(11), 10)),
            _event("e-9", QA_USER_ID, at(_day(11), 11)),
        ],
        "accounts": [_account("001A", "acme.io", 1), _account("001Q", "techflow.test", QA_USER_ID)],
        "opportunities": [
            _opportunity("006A", "001A", "Prospecting", at(_day(11), 9)),
            _opportunity("006A", "001A", "Closed Won", at(_day(20), 9)),
            _opportunity("006Q", "001Q", "Closed Won", at(_day(20), 9)),
        ],
        "ad_spend": [
            _spend(_day(2), "paid_search", "Brand_Search ", 12_345),
            _spend(_day(3), "paid_search", "brand_search", 10_000),
            # The platform restated day 3 two days later: the restatement replaces the first copy.
            _spend(_day(3), "paid_search", "brand_search", 11_000, landed_days_later=3),
            _spend(_day(7), "email", "newsletter_weekly", 2_500),
        ],
    }


@pytest.fixture(scope="module")
def attribution_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DbtProject]:
    data_dir = tmp_path_factory.mktemp("attribution_world")
    write_world(data_dir / "raw", world_tables(), first_day=MARCH_1)
    project = DbtProject(data_dir=data_dir, world_start=MARCH_1)
    # Build everything this world feeds, but test only the marketing/product models: finance's
    # tests (recent data, row counts) rightly fail on a world without subscriptions.
    built = project.dbt("build", "--exclude-resource-type", "test", "unit_test")
    assert built.success, built.describe()
    # Recency tests are left out: this world lives in March 2025 on purpose.
    tested = project.dbt(
        "test",
        "--select",
        *DOMAIN_MODELS,
        "--exclude",
        "tag:recency",
        "--exclude-resource-type",
        "unit_test",
    )
    assert tested.success, tested.describe()
    yield project


def test_redelivered_segment_message_is_kept_once(attribution_world: DbtProject) -> None:
    rows = attribution_world.query(
        "select message_id, count(*) from staging.stg_segment__tracks group by all order by 1"
    )
    assert rows == [
        (m, 1)
        for m in [
            "t-1a", "t-1b", "t-1c", "t-1w", "t-2a", "t-2b", "t-2p", "t-2w", "t-4a", "t-5a",
            "t-5b", "t-9a",
        ]
    ]  # fmt: skip


def test_utm_values_are_normalised_before_mapping_to_a_channel(
    attribution_world: DbtProject,
) -> None:
    rows = attribution_world.query(
        "select message_id, utm_source, utm_medium, utm_campaign, channel "
        "from staging.stg_segment__tracks where message_id in ('t-1a', 't-2a', 't-1c', 't-4a') "
        "order by message_id"
    )
    assert rows == [
        ("t-1a", "google", "cpc", "brand_search", "paid_search"),
        ("t-1c", None, None, None, "direct"),
        ("t-2a", "newsletter", "email", "newsletter_weekly", "email"),
        ("t-4a", "tiktok", "paid_social", "tiktok_test", "other"),
    ]


def test_first_touch_spans_every_browser_the_user_identified_on(
    attribution_world: DbtProject,
) -> None:
    rows = attribution_world.query(
        "select user_id, acquisition_channel, acquisition_campaign, first_touch_at "
        "from product.dim_users order by user_id"
    )
    assert rows == [
        (1, "paid_search", "brand_search", at(_day(2), 9)),  # laptop visit before phone visit
        (2, "email", "newsletter_weekly", at(_day(7), 18)),  # the later Google click is ignored
        (3, "direct", "(none)", None),  # never tracked
        (4, "other", "tiktok_test", at(_day(19), 9)),
        (5, "direct", "(none)", at(_day(1), 10)),
    ]


def test_qa_accounts_are_gone_from_staging_and_marts(attribution_world: DbtProject) -> None:
    assert attribution_world.query(
        "select count(*) from staging.stg_segment__identifies where email like '%techflow.test'"
    ) == [(0,)]
    for relation, column in [
        ("product.dim_users", "user_id"),
        ("marketing.fct_customer_acquisition", "user_id"),
        ("staging.stg_salesforce__accounts", "user_id"),
    ]:
        found = attribution_world.query(f"select count(*) from {relation} where {column} = 9")
        assert found == [(0,)], f"QA user 9 leaked into {relation}"


def test_touches_are_counted_per_user_up_to_signup(attribution_world: DbtProject) -> None:
    rows = attribution_world.query(
        "select user_id, touches_before_signup from marketing.fct_customer_acquisition "
        "order by user_id"
    )
    # user 1: laptop ad, phone Facebook visit (once, despite redelivery), the signup page view;
    # user 2: the /pricing view five minutes after landing is the same session, not a touch
    assert rows == [(1, 3), (2, 1), (3, 0), (4, 1), (5, 2)]


def test_campaigns_merge_spend_and_acquisition_on_normalised_names(
    attribution_world: DbtProject,
) -> None:
    rows = attribution_world.query(
        "select channel, campaign, lifetime_spend_usd, lifetime_signups, is_paid_campaign "
        "from marketing.dim_campaigns order by channel, campaign"
    )
    # Facebook and organic search acquired nobody first-touch, but they brought visits.
    assert [(c, n, float(s), u, p) for c, n, s, u, p in rows] == [
        ("direct", "(none)", 0.0, 2, False),
        ("email", "newsletter_weekly", 25.0, 1, True),
        ("organic_search", "(none)", 0.0, 0, False),
        ("other", "tiktok_test", 0.0, 1, False),
        ("paid_search", "brand_search", 233.45, 1, True),
        ("paid_social", "facebook_retargeting", 0.0, 0, False),
    ]


def test_qa_crm_deals_are_dropped_and_the_latest_version_of_a_deal_counts(
    attribution_world: DbtProject,
) -> None:
    deals = attribution_world.query(
        "select opportunity_id, stage, is_won, amount_usd, campaign "
        "from staging.stg_salesforce__opportunities"
    )
    assert deals == [("006A", "Closed Won", True, Decimal("5000.00"), "brand_search")]
    [(account, won, amount)] = attribution_world.query(
        "select u.salesforce_account_id, c.won_opportunities, c.won_amount_usd "
        "from product.dim_users as u, marketing.dim_campaigns as c "
        "where u.user_id = 1 and c.campaign = 'brand_search'"
    )
    assert (account, won, amount) == ("001A", 1, Decimal("5000.00"))


def test_first_and_last_touch_disagree_where_the_journey_crosses_channels(
    attribution_world: DbtProject,
) -> None:
    rows = attribution_world.query(
        "select user_id, channel, last_touch_channel, last_touch_campaign, "
        "is_last_touch_channel_different from marketing.fct_customer_acquisition order by user_id"
    )
    assert rows == [
        # the direct visit right before signing up is not the last touch: Facebook is
        (1, "paid_search", "paid_social", "facebook_retargeting", True),
        (2, "email", "email", "newsletter_weekly", False),  # the ad after signup is ignored
        (3, "direct", "direct", "(none)", False),
        (4, "other", "other", "tiktok_test", False),
        (5, "direct", "organic_search", "(none)", True),
    ]


def test_the_three_attribution_models_credit_each_signup_once(
    attribution_world: DbtProject,
) -> None:
    rows = attribution_world.query(
        "select channel, campaign, lifetime_signups, lifetime_last_touch_signups, "
        "lifetime_linear_signups, lifetime_visits from marketing.dim_campaigns "
        "order by channel, campaign"
    )
    assert [(c, n, f, last, round(float(lin), 2), v) for c, n, f, last, lin, v in rows] == [
        # user 1's signup-page visit (1/3), user 3 (never tracked: 1), user 5's first visit (1/2)
        ("direct", "(none)", 2, 1, 1.83, 2),
        ("email", "newsletter_weekly", 1, 1, 1.0, 1),
        ("organic_search", "(none)", 0, 1, 0.5, 1),
        ("other", "tiktok_test", 1, 1, 1.0, 1),
        # the QA account's and user 2's after-signup ad clicks are visits, not touches
        ("paid_search", "brand_search", 1, 0, 0.33, 3),
        ("paid_social", "facebook_retargeting", 0, 1, 0.33, 1),
    ]
    [(first, last, linear)] = attribution_world.query(
        "select sum(signups), sum(last_touch_signups), sum(linear_signups) "
        "from marketing.rpt_marketing_roi"
    )
    # linear credits are thirds and halves, kept to 6 decimals: 5 up to rounding
    assert first == last == 5 and abs(linear - 5) < Decimal("0.0001")


def test_the_funnel_follows_each_signup_cohort_past_signup(attribution_world: DbtProject) -> None:
    rows = attribution_world.query(
        "select channel, visits, signups, activated, trials, paying_customers "
        "from marketing.rpt_marketing_funnel where report_month = date '2025-03-01' "
        "order by channel"
    )
    assert rows == [
        ("direct", 2, 2, 0, 0, 0),
        ("email", 1, 1, 1, 0, 0),  # user 2 activated but never started a trial
        ("organic_search", 1, 0, 0, 0, 0),
        ("other", 1, 1, 0, 0, 0),
        ("paid_search", 3, 1, 1, 1, 1),  # user 1: activation, trial at activation, paid
        ("paid_social", 1, 0, 0, 0, 0),
    ]
    [(hours, trial_at)] = attribution_world.query(
        "select hours_signup_to_activation, trial_started_at "
        "from marketing.fct_customer_acquisition where user_id = 1"
    )
    assert (hours, trial_at) == (3, USER_1_ACTIVATION)
