"""The simulated business behaves like one: the rules the marts and dashboards rely on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from data_generation import WorldConfig
from data_generation.acquisition import signups_matrix
from data_generation.lifecycle import CHURN, DOWNGRADE, SEAT_CHANGE, UPGRADE
from data_generation.world import world_for

START = dt.date(2025, 1, 1)
# Usage belongs to people, subscriptions to the account (the owner's user_id): a CTE of every
# usage event with the account of the person (owner or invited teammate) who did it.
ACCOUNT_EVENTS = """
    , account_events as (
        select e.*, coalesce(u.account_owner_id, e.user_id) as account_id
        from {usage_events} e
        join (select distinct user_id, account_owner_id from {users}) u using (user_id)
    )
"""


def test_scale_one_is_about_20000_users_over_two_years_and_grows_linearly():
    one = signups_matrix(42, 1.0, START, 729).sum()
    two = signups_matrix(42, 2.0, START, 729).sum()
    assert 18_000 <= one <= 22_000
    assert 1.85 <= two / one <= 2.15


def test_signups_grow_and_weekdays_beat_weekends():
    per_day = signups_matrix(42, 1.0, START, 727).sum(axis=1)
    weekday = np.array([(START + dt.timedelta(days=i)).weekday() for i in range(len(per_day))])
    assert per_day[-91:].mean() > 2 * per_day[:91].mean()
    assert per_day[weekday < 5].mean() > 1.4 * per_day[weekday >= 5].mean()


def test_trials_last_14_days(dirty_world):
    lengths = dirty_world.sql(
        "select distinct date_diff('day', started_at, trial_ends_at) from {subscriptions} "
        "where trial_ends_at is not null"
    )
    assert lengths == [(14,)]


def test_trial_conversion_depends_on_channel_and_tier():
    world = world_for(WorldConfig(start=START, scale=1.0, seed=42), START + dt.timedelta(days=400))
    p = world.periods
    trials = p.trial_ends_us >= 0
    channel = np.array(world.channels)[world.users.campaign[p.user_id - 1]]

    def rate(mask):
        return p.converted[trials & mask].mean()

    assert rate(channel == "referral") > rate(channel == "paid_social") + 0.15
    assert rate(p.tier == 2) > rate(p.tier == 0) + 0.05


def test_upgrades_raise_and_downgrades_lower_the_tier():
    world = world_for(WorldConfig(start=START, scale=0.5, seed=42), START + dt.timedelta(days=700))
    p = world.periods
    index = {sid: i for i, sid in enumerate(p.subscription_id)}
    successors = np.flatnonzero(p.previous_id >= 0)
    previous = np.array([index[s] for s in p.previous_id[successors]])
    up = p.reason[previous] == UPGRADE
    down = p.reason[previous] == DOWNGRADE
    assert up.sum() > 50 and down.sum() > 20
    assert (p.tier[successors[up]] == p.tier[previous[up]] + 1).all()
    assert (p.tier[successors[down]] == p.tier[previous[down]] - 1).all()


def test_every_seat_change_changes_the_seats_and_keeps_the_plan():
    # At scale 1 a shrinking enterprise seat change used to be clipped back to the tier's floor,
    # leaving plan and seats unchanged (caught by dbt's lifecycle test).
    world = world_for(WorldConfig(start=START, scale=1.0, seed=42), START + dt.timedelta(days=700))
    p = world.periods
    index = {sid: i for i, sid in enumerate(p.subscription_id)}
    successors = np.flatnonzero(p.previous_id >= 0)
    previous = np.array([index[s] for s in p.previous_id[successors]])
    seat = p.reason[previous] == SEAT_CHANGE
    assert seat.sum() > 100
    assert (p.plan[successors[seat]] == p.plan[previous[seat]]).all()
    assert (p.quantity[successors[seat]] != p.quantity[previous[seat]]).all()


def test_annual_plans_churn_less_and_on_their_anniversary():
    world = world_for(WorldConfig(start=START, scale=1.0, seed=42), START + dt.timedelta(days=700))
    p = world.periods
    paid = p.converted
    churned = paid & (p.reason == CHURN)
    assert churned[p.billing == 1].mean() < churned[p.billing == 0].mean()
    annual = np.flatnonzero(churned & (p.billing == 1))
    starts = p.paid_start_us[annual].astype("datetime64[us]").astype("datetime64[D]")
    ends = p.ended_us[annual].astype("datetime64[us]").astype("datetime64[D]")
    same_day_of_year = [
        (e.item().month, e.item().day) == (s.item().month, s.item().day)
        for s, e in zip(starts, ends, strict=True)
        if (s.item().month, s.item().day) != (2, 29)
    ]
    assert all(same_day_of_year)


def test_every_billing_cycle_of_a_paid_period_is_invoiced_once(dirty_world):
    """Cycle n opens at paid start + n x billing months; each one that opened has an invoice.

    Counted up to the settled horizon: after it, a late cancellation may not have landed yet, so
    the raw subscription still looks open while Stripe (the true timeline) stopped billing it.
    """
    settled = dirty_world.settled
    missing = dirty_world.scalar(
        f"""
        with latest as (
            select * from {{subscriptions}}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ), paid as (
            select subscription_id, coalesce(trial_ends_at, started_at) as paid_start,
                   least(coalesce(ended_at, timestamp '9999-01-01'), {settled}) as until,
                   case when plan_id like '%annual' then 12 else 1 end as months
            from latest
            -- paid periods: past their trial (if any), and not a trial that lapsed unpaid
            where status <> 'trialing'
              and (trial_ends_at is null or ended_at is null or ended_at > trial_ends_at)
        ), cycles as (
            select subscription_id, paid_start + to_months(n * months) as cycle_start, until
            from paid, range(0, 24) r(n)
        ), expected as (
            select subscription_id, count(*) as n from cycles where cycle_start < until group by 1
        ), actual as (
            -- every invoice counts, also one for a period missing from the subscriptions
            select subscription_id, count(distinct invoice_id) as n
            from {{invoices}} i left join paid using (subscription_id)
            where i.period_start < coalesce(paid.until, timestamp '9999-01-01')
            group by 1
        )
        select count(*) from expected e full join actual a using (subscription_id)
        where coalesce(e.n, 0) <> coalesce(a.n, 0)
        """
    )
    assert missing == 0


def test_dunning_means_four_declines_an_uncollectible_invoice_and_a_cancellation(dirty_world):
    rows = dirty_world.sql(
        """
        with dunned as (
            select subscription_id, ended_at from {subscriptions} where ended_reason = 'dunning'
        ), bad as (
            select i.subscription_id, i.invoice_id from {invoices} i
            where i.status = 'uncollectible'
        )
        select d.subscription_id,
               (select count(*) from bad b where b.subscription_id = d.subscription_id),
               (select count(*) from {charges} c join bad b using (invoice_id)
                 where b.subscription_id = d.subscription_id and c.status = 'failed')
        from dunned d
        """
    )
    assert rows, "the world has dunning"
    assert all(invoices == 1 and declines == 4 for _, invoices, declines in rows)


def test_usage_only_touches_features_the_plan_includes(dirty_world):
    outside = dirty_world.scalar(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ), periods as (
            select user_id, split_part(plan_id, '_', 1) as product,
                   split_part(plan_id, '_', 2) as tier, started_at,
                   coalesce(ended_at, timestamp '9999-01-01') as until
            from latest
        ), features as (
            select * from read_csv('techflow_dbt/seeds/product_features.csv')
        ), rank as (select * from (values ('starter', 0), ('pro', 1), ('enterprise', 2)) t(tier, r))
        ACCOUNT_EVENTS
        select count(*) from account_events e
        join features f using (product, feature)
        join periods p on p.user_id = e.account_id and p.product = e.product
         and e.occurred_at >= p.started_at and e.occurred_at < p.until
        join rank plan_rank on plan_rank.tier = p.tier
        join rank feature_rank on feature_rank.tier = f.min_tier
        where feature_rank.r > plan_rank.r
        """.replace("ACCOUNT_EVENTS", ACCOUNT_EVENTS)
    )
    assert outside == 0
    unattached = dirty_world.scalar(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ) ACCOUNT_EVENTS
        select count(*) from account_events e where e.occurred_at < SETTLED and not exists (
            select 1 from latest s where s.user_id = e.account_id
              and split_part(s.plan_id, '_', 1) = e.product and e.occurred_at >= s.started_at
              and e.occurred_at < coalesce(s.ended_at, timestamp '9999-01-01'))
        """.replace("SETTLED", dirty_world.settled).replace("ACCOUNT_EVENTS", ACCOUNT_EVENTS)
    )
    assert unattached == 0, "only members of an account with a live subscription use the product"


def test_trials_that_will_not_convert_are_used_less(dirty_world):
    """Engaged accounts convert more (lifecycle.CONVERSION_ENGAGEMENT_BETA), and engagement also
    sets usage, so the trials that lapse were the quieter ones: cause, not an echo of the end."""
    rows = dict(
        dirty_world.sql(
            """
            with latest as (
                select * from {subscriptions}
                qualify row_number() over (
                    partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
            ), trials as (
                select user_id, split_part(plan_id, '_', 1) as product, trial_ends_at,
                       ended_at = trial_ends_at as lapsed
                from latest where trial_ends_at is not null and status <> 'trialing'
            ) ACCOUNT_EVENTS
            select t.lapsed, count(e.event_id) / count(distinct (t.user_id, t.product))
            from trials t left join account_events e
              on e.account_id = t.user_id and e.product = t.product
             and e.occurred_at >= t.trial_ends_at - interval 7 day
             and e.occurred_at < t.trial_ends_at
            group by 1
            """.replace("ACCOUNT_EVENTS", ACCOUNT_EVENTS)
        )
    )
    assert rows[True] < 0.8 * rows[False]


# Behaviour (issue 13 C): churn, seat changes and teams follow engagement, tenure and utilisation.


def _default_world():
    return world_for(WorldConfig(start=START, scale=1.0, seed=42), START + dt.timedelta(days=700))


def _monthly_hazard(p, end_us, mask, event):
    """Events per customer-month of paid exposure of the periods in `mask`."""
    exposure = np.clip(np.minimum(p.ended_us, end_us) - p.paid_start_us, 0, None)[mask].sum()
    return event[mask].sum() / (exposure / (30.44 * 86_400e6))


def _paid_world():
    p = _default_world().periods
    end_us = int(np.datetime64(str(START + dt.timedelta(days=700)), "us").astype(np.int64))
    paid = p.converted & (p.paid_start_us < end_us)
    churned = paid & (p.reason == CHURN) & (p.ended_us < end_us)
    return p, end_us, paid, churned


def test_churn_hazard_falls_with_tenure():
    p, end_us, paid, churned = _paid_world()
    first_paid = np.full(p.chain_id.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first_paid, p.chain_id[paid], p.paid_start_us[paid])
    month = 30.44 * 86_400e6
    t0 = (p.paid_start_us - first_paid[p.chain_id]) / month
    t1 = (np.minimum(p.ended_us, end_us) - first_paid[p.chain_id]) / month

    def hazard(lo, hi):
        exposure = np.clip(np.minimum(t1, hi) - np.maximum(t0, lo), 0, None)[paid].sum()
        return (churned & (t1 >= lo) & (t1 < hi)).sum() / exposure

    assert hazard(0, 3) > 1.5 * hazard(6, 12) > 1.5 * 1.2 * hazard(12, 24)


def test_low_engagement_and_low_utilisation_accounts_churn_more():
    p, end_us, paid, churned = _paid_world()
    team = paid & (p.quantity > 1)  # a single seat has no utilisation to speak of
    for level, among in ((p.engagement, paid), (p.seat_utilisation, team)):
        q1, q3 = np.quantile(level[among], [0.25, 0.75])
        low = _monthly_hazard(p, end_us, among & (level <= q1), churned)
        high = _monthly_hazard(p, end_us, among & (level >= q3), churned)
        assert low > 2.5 * high


def test_seats_grow_at_high_utilisation_and_shrink_at_low():
    p, end_us, paid, _ = _paid_world()
    index = {sid: i for i, sid in enumerate(p.subscription_id)}
    successors = np.flatnonzero(p.previous_id >= 0)
    previous = np.array([index[s] for s in p.previous_id[successors]])
    seat = p.reason[previous] == SEAT_CHANGE
    grew = p.quantity[successors[seat]] > p.quantity[previous[seat]]
    team = paid & (p.quantity > 1)  # a single seat has no utilisation to speak of
    util = p.seat_utilisation
    q1, q3 = np.quantile(util[team], [0.25, 0.75])
    before = previous[seat]
    teams = p.quantity[before] > 1
    # Full teams almost always grow; half-empty ones shrink about as often as they grow (a team
    # at its tier's seat floor cannot shrink, so some low-utilisation changes still grow).
    grew_high = grew[teams & (util[before] >= q3)].mean()
    grew_low = grew[teams & (util[before] <= q1)].mean()
    assert grew_high > 0.9 and grew_low < grew_high - 0.3
    growth = np.zeros(len(p), dtype=bool)
    growth[before[grew]] = True
    high = _monthly_hazard(p, end_us, team & (util >= q3), growth)
    low = _monthly_hazard(p, end_us, team & (util <= q1), growth)
    assert high > 3 * low
    upgrades = p.reason == UPGRADE
    assert _monthly_hazard(p, end_us, team & (util >= q3), upgrades) > 1.5 * (
        _monthly_hazard(p, end_us, team & (util <= q1), upgrades)
    )


def test_company_identities_are_unique_per_account():
    world = _default_world()
    owners = world.users.frame.filter(~pl.col("email").str.ends_with("@techflow.test"))
    assert owners.height > 15_000
    assert owners["company_domain"].n_unique() == owners.height
    assert owners["company_name"].n_unique() == owners.height


def test_teammates_share_their_owners_company_and_are_not_signups(dirty_world):
    rows = dirty_world.sql(
        """
        with users as (select distinct * exclude (updated_at, _loaded_at, date, country)
                       from {users})
        select count(*), count(*) filter (where t.company_domain <> o.company_domain
                                            or t.company_name <> o.company_name
                                            or t.signup_at < o.signup_at),
               count(*) filter (where (t.user_id - 1000000000000) // 1000 <> o.user_id),
               (select count(*) from {identifies} i join users x
                  on i.user_id = cast(x.user_id as varchar) where x.account_owner_id is not null),
               (select count(*) from {customers} c join users x
                  on c.app_user_id = cast(x.user_id as varchar)
                  where x.account_owner_id is not null)
        from users t join users o on t.account_owner_id = o.user_id
        """
    )
    teammates, other_company, bad_id, identified, billed = rows[0]
    assert teammates > 500
    assert other_company == 0 and bad_id == 0
    assert identified == 0 and billed == 0, "teammates never sign up nor pay"


def test_an_accounts_daily_users_never_exceed_its_seats(dirty_world):
    over = dirty_world.scalar(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ) ACCOUNT_EVENTS
        , daily as (
            select account_id, product, occurred_at::date as day, count(distinct user_id) as users,
                   max(occurred_at) as last_at
            from account_events group by all
        )
        select count(*) from daily d
        where d.users > (
            select max(s.quantity) from latest s
            where s.user_id = d.account_id and split_part(s.plan_id, '_', 1) = d.product
              and s.started_at < d.day + interval 1 day
              and coalesce(s.ended_at, timestamp '9999-01-01') > d.day)
        """.replace("ACCOUNT_EVENTS", ACCOUNT_EVENTS)
    )
    assert over == 0
    teams = dirty_world.sql(
        """
        select count(distinct user_id) filter (where account_owner_id is not null)
               / count(distinct user_id) filter (where account_owner_id is null)
        from {users} where user_id in (select user_id from {usage_events})
           or account_owner_id is null
        """
    )
    assert teams[0][0] > 1.0, "most usage comes from teams, not lone owners"
