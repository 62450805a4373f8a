"""The simulated business behaves like one: the rules the marts and dashboards rely on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from data_generation import WorldConfig
from data_generation.simulation.acquisition import (
    CAMPAIGNS,
    MAX_SIGNUP_LAG_DAYS,
    PAID,
    acquisition_day,
    budget_multiplier,
    signups_matrix,
)
from data_generation.simulation.funnel import NEVER
from data_generation.simulation.lifecycle import CHURN, DOWNGRADE, SEAT_CHANGE, UPGRADE
from data_generation.simulation.world import world_for

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


# Effect sizes the generator is built to produce, each held by a test below. Every constant says
# where its size comes from (the generator's parameters, and what the default world measures with
# seed 42 at scale 1) and keeps a margin only for sampling noise: loosening one means the world no
# longer behaves as documented, so change the generator (or this statement, with its reason), not
# the margin.
#
# Signups follow the market (acquisition.GROWTH_PER_DAY: x3 over 730 days, so the last quarter of
# two years against the first is about x2.5 — measured 2.50).
SIGNUP_GROWTH_LAST_VS_FIRST_QUARTER = 2.0
# Weekday pacing of spend and signups, weekends at WEEKEND_RETURN_FACTOR-like levels: measured 2.70.
SIGNUPS_WEEKDAY_VS_WEEKEND = 2.0
# Hill saturation: the top third of budget levels pays more per click than the bottom third,
# for every paid campaign (smallest measured ratio 1.22).
CPC_HIGH_VS_LOW_BUDGET = 1.1
# Visit -> signup rates by campaign intent: brand search converts 2.4x generic search, the partner
# program 3.5x LinkedIn (measured).
BRAND_VS_GENERIC_SIGNUP_RATE = 2.0
PARTNER_VS_LINKEDIN_SIGNUP_RATE = 2.0
# Trial conversion by channel and tier (lifecycle: channel conversion odds and
# CONVERSION_BY_TIER = 0.9 / 1.1 / 1.25): referral converts 24 points above paid social, enterprise
# 14.5 points above starter (measured over 400 days).
REFERRAL_OVER_PAID_SOCIAL_CONVERSION = 0.15
ENTERPRISE_OVER_STARTER_CONVERSION = 0.10
# Trials that lapse were used less in their last week, per active person, than trials that
# convert: conversion odds rise with engagement (CONVERSION_ENGAGEMENT_BETA = 0.35), and engagement
# sets usage, so lapsed trials are the quieter ones — cause, not an echo of the end. Measured 0.83
# on the 120-day dirty world; a weak lever by design (conversion follows engagement, not usage
# fading before a decided churn, which gave 0.6).
LAPSED_VS_CONVERTED_TRIAL_USAGE = 0.85
# Churn hazard falls with tenure (a Weibull hazard with shape < 1): months 0-3 against 6-12,
# and 6-12 against 12-24 (measured 1.85 and 2.64).
EARLY_VS_MID_TENURE_CHURN = 1.5
MID_VS_LATE_TENURE_CHURN = 1.8
# Low-engagement (lowest quartile) accounts churn more than high (top quartile): the hazard is
# x exp(-z) with CHURN_ENGAGEMENT_BETA = 1, about x12 between the quartiles' means (measured 21);
# low seat utilisation likewise through CHURN_UTILISATION_BETA = 2 (measured 12). Three times is the
# signal the churn model needs and the dashboards talk about.
LOW_VS_HIGH_CHURN = 3.0
# Full teams grow seats, half-empty ones shrink about as often as they grow: share of seat changes
# that grow at top-quartile utilisation (measured 0.97) and the gap to the bottom quartile
# (measured 0.46); seat growth per month of exposure x6.4 at high vs low utilisation.
FULL_TEAMS_GROW_SHARE = 0.9
GROW_SHARE_GAP_FULL_VS_EMPTY = 0.3
SEAT_GROWTH_HIGH_VS_LOW_UTILISATION = 3.0
# Upgrades come sooner at high utilisation (x exp(2 (u - 0.6)), UPGRADE_UTILISATION_BETA): among
# team periods that can upgrade (below enterprise, whose upgrade hazard is 0), top against bottom
# quartile measured 1.62.
UPGRADES_HIGH_VS_LOW_UTILISATION = 1.5
# Teams: invited teammates fill seats, so more people than owners use the product.
ACTIVE_TEAMMATES_PER_OWNER = 1.0


def test_scale_one_is_about_20000_users_over_two_years_and_grows_linearly():
    one = signups_matrix(42, 1.0, START, 729).sum()
    two = signups_matrix(42, 2.0, START, 729).sum()
    assert 18_000 <= one <= 22_000
    assert 1.85 <= two / one <= 2.15


def test_signups_grow_and_weekdays_beat_weekends():
    per_day = signups_matrix(42, 1.0, START, 727).sum(axis=1)
    weekday = np.array([(START + dt.timedelta(days=i)).weekday() for i in range(len(per_day))])
    assert per_day[-91:].mean() > SIGNUP_GROWTH_LAST_VS_FIRST_QUARTER * per_day[:91].mean()
    assert per_day[weekday < 5].mean() > SIGNUPS_WEEKDAY_VS_WEEKEND * per_day[weekday >= 5].mean()


# --- Acquisition and funnel: clicks -> visits -> signups -> activation -> trial ---
CAMPAIGN_INDEX = {c.name: i for i, c in enumerate(CAMPAIGNS) if c.name}
DEFAULT_WORLD = WorldConfig(start=START, scale=1.0, seed=42)


def _default_world():
    return world_for(DEFAULT_WORLD, START + dt.timedelta(days=700))


def test_paid_visits_are_the_documented_share_of_ad_clicks_per_campaign(dirty_world):
    rows = dirty_world.sql(
        """
        with clicks as (
            select lower(trim(campaign)) as campaign, sum(clicks) as clicks
            from {ad_spend} group by 1
        ), visits as (
            select lower(trim(context_campaign_name)) as campaign, count(*) as visits
            from (select distinct on (message_id) * from {tracks})
            where event = 'Page Viewed' and context_campaign_name is not null group by 1
        )
        select campaign, clicks, visits from clicks join visits using (campaign)
        """
    )
    checked = 0
    for campaign, clicks, visits in rows:
        share = CAMPAIGNS[CAMPAIGN_INDEX[campaign]].land_share
        assert 0.7 <= share <= 0.95
        if clicks >= 300:  # enough clicks for a ±6 % band (binomial noise ~2 %)
            checked += 1
            assert abs(visits / clicks / share - 1) < 0.06, (campaign, clicks, visits, share)
    assert checked >= 6


def test_spend_buys_clicks_with_diminishing_returns():
    """Four-week budgets vary; in the high-budget periods a click costs more (Hill saturation)."""
    days = range(700)
    acq = [acquisition_day(42, 1.0, START, d) for d in days]
    spend = np.stack([a.spend_cents for a in acq]).astype(float)
    clicks = np.stack([a.clicks for a in acq]).astype(float)
    level = np.stack([budget_multiplier(42, d) for d in days])
    for c in np.flatnonzero(PAID):
        on = spend[:, c] > 0
        low = on & (level[:, c] <= np.quantile(level[on, c], 1 / 3))
        high = on & (level[:, c] >= np.quantile(level[on, c], 2 / 3))
        cpc_low = spend[low, c].sum() / clicks[low, c].sum()
        cpc_high = spend[high, c].sum() / clicks[high, c].sum()
        assert cpc_high > CPC_HIGH_VS_LOW_BUDGET * cpc_low, CAMPAIGNS[c].name


def test_spend_drives_signups_over_the_following_two_weeks():
    users = _default_world().users
    lag = users.visit_lag
    assert 0.3 < (lag == 0).mean() < 0.5
    assert lag.max() == MAX_SIGNUP_LAG_DAYS
    # The launch campaign runs days 90..240: its visitors keep signing up for two weeks after.
    launch = users.signup_index[users.campaign == CAMPAIGN_INDEX["teamchat_launch"]]
    assert launch.min() >= 90
    assert (launch > 240).sum() > 0 and launch.max() <= 240 + MAX_SIGNUP_LAG_DAYS


def test_visits_convert_to_signups_at_a_campaign_dependent_rate():
    world = _default_world()
    visits = np.stack([acquisition_day(42, 1.0, START, d).visits for d in range(680)]).sum(axis=0)
    early = world.users.signup_index < 680
    signups = np.bincount(world.users.campaign[early], minlength=len(CAMPAIGNS))
    rate = signups / visits
    assert 0.03 < signups.sum() / visits.sum() < 0.10
    brand, generic = rate[CAMPAIGN_INDEX["brand_search"]], rate[CAMPAIGN_INDEX["generic_search"]]
    assert brand > BRAND_VS_GENERIC_SIGNUP_RATE * generic
    partner, linkedin = (
        rate[CAMPAIGN_INDEX["partner_program"]],
        rate[CAMPAIGN_INDEX["linkedin_b2b"]],
    )
    assert partner > PARTNER_VS_LINKEDIN_SIGNUP_RATE * linkedin


def test_only_activated_users_subscribe_and_the_trial_starts_at_activation():
    world = _default_world()
    users, p = world.users, world.periods
    activated = users.activated_us < NEVER
    for name in ("brand_search", "facebook_retargeting", "partner_program"):
        mine = users.campaign == CAMPAIGN_INDEX[name]
        expected = CAMPAIGNS[CAMPAIGN_INDEX[name]].activation_rate
        assert abs(activated[mine].mean() - expected) < 0.04, name
    assert 0.55 < activated.mean() < 0.75
    first_start = np.full(len(users.user_id), NEVER)
    np.minimum.at(first_start, p.user_id - 1, p.started_us)
    subscribed = first_start < NEVER
    assert not (subscribed & ~activated).any()  # nobody subscribes without activating
    # Every activated user's first period opens at activation (unless after the horizon).
    opened = activated & subscribed
    assert opened.sum() > 0.95 * activated[users.signup_index < 600].sum()
    assert (first_start[opened] == users.activated_us[opened]).all()
    lag_h = (users.activated_us[activated] - users.signup_us[activated]) / 3.6e9
    assert lag_h.min() >= 1 / 6 and lag_h.max() <= 12 * 24
    assert 2 < np.median(lag_h) < 12


def test_activation_is_a_segment_track_at_the_first_subscription_start(dirty_world):
    rows = dirty_world.sql(
        """
        with act as (
            select cast(user_id as bigint) as user_id, min(timestamp) as activated_at
            from {tracks} where event = 'Workspace Activated' group by 1
        ), first_sub as (
            -- Activation on the range's last day may be a late Segment event landing the next
            -- day (dirt): count the users whose first subscription opened before it.
            select user_id, min(started_at) as started_at from {subscriptions} group by 1
            having min(started_at) < (select max(_loaded_at)::date from {subscriptions})
        ), signups as (
            -- account owners: invited teammates do not sign up
            select user_id, count(*) as n from {users} where account_owner_id is null group by 1
        )
        select count(*) as signups, count(act.user_id), count(first_sub.user_id),
               count(*) filter (where first_sub.started_at <> act.activated_at),
               count(*) filter (where first_sub.user_id is not null and act.user_id is null)
        from signups left join act using (user_id) left join first_sub using (user_id)
        """
    )
    [(signups, activated, subscribed, mismatched, subscribed_unactivated)] = rows
    assert 0.5 * signups < activated < 0.8 * signups
    assert subscribed <= activated and mismatched == subscribed_unactivated == 0


def test_journeys_cross_channels_so_first_and_last_touch_disagree():
    world = _default_world()
    j, channels = world.journeys, np.array(world.channels)
    n = len(world.users.user_id)
    sessions = np.bincount(j.user_index, minlength=n)
    assert (sessions >= 1).all() and 0.4 < (sessions > 1).mean() < 0.8 and sessions.max() <= 4
    first = np.empty(n, dtype=object)
    last = np.full(n, "direct", dtype=object)
    order = np.lexsort((j.ts_us, j.user_index))
    for i in order[::-1]:  # latest first: the first write per user wins for first touch below
        first[j.user_index[i]] = channels[j.campaign[i]]
    for i in order:  # in time order, the last non-direct session wins
        if channels[j.campaign[i]] != "direct":
            last[j.user_index[i]] = channels[j.campaign[i]]
    differ = first != last
    assert 0.2 < differ.mean() < 0.5
    # A single session is both first and last touch: only multi-session journeys can disagree.
    assert not differ[sessions == 1].any()


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

    assert rate(channel == "referral") > (
        rate(channel == "paid_social") + REFERRAL_OVER_PAID_SOCIAL_CONVERSION
    )
    assert rate(p.tier == 2) > rate(p.tier == 0) + ENTERPRISE_OVER_STARTER_CONVERSION


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
    # On the anniversary of the billing anchor: a period that replaced another by a plan or seat
    # change keeps its predecessor's anchor (proration), so churn lands on a cycle boundary.
    starts = p.anchor_us[annual].astype("datetime64[us]").astype("datetime64[D]")
    ends = p.ended_us[annual].astype("datetime64[us]").astype("datetime64[D]")
    same_day_of_year = [
        (e.item().month, e.item().day) == (s.item().month, s.item().day)
        for s, e in zip(starts, ends, strict=True)
        if (s.item().month, s.item().day) != (2, 29)
    ]
    assert all(same_day_of_year)


def test_every_billing_cycle_of_a_paid_period_is_invoiced_once(dirty_world):
    """Cycle boundaries are the billing anchor + k x billing months; a period's cycles are its
    paid start (cycle 0) and every boundary before it ends, and each one has one invoice (voided
    drafts aside). The anchor is the paid start of the first period of a run of plan or seat
    changes: a replacing period keeps its predecessor's anchor (proration).

    Counted up to the settled horizon: after it, a late cancellation may not have landed yet, so
    the raw subscription still looks open while Stripe (the true timeline) stopped billing it.
    """
    settled = dirty_world.settled
    missing = dirty_world.scalar(
        f"""
        with recursive latest as (
            select * from {{subscriptions}}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ), paid as (
            select subscription_id, previous_subscription_id,
                   coalesce(trial_ends_at, started_at) as paid_start,
                   least(coalesce(ended_at, timestamp '9999-01-01'), {settled}) as until,
                   case when plan_id like '%annual' then 12 else 1 end as months
            from latest
            -- paid periods: past their trial (if any), and not a trial that lapsed unpaid
            where status <> 'trialing'
              and (trial_ends_at is null or ended_at is null or ended_at > trial_ends_at)
        ), anchored as (
            select subscription_id, paid_start as anchor from paid
            where previous_subscription_id is null
            union all
            select p.subscription_id, a.anchor
            from anchored a join paid p on p.previous_subscription_id = a.subscription_id
        ), cycles as (
            select subscription_id, paid_start as cycle_start, until from paid
            union all
            select subscription_id, anchor + to_months(n * months), until
            from paid join anchored using (subscription_id), range(1, 40) r(n)
            where anchor + to_months(n * months) > paid_start
        ), expected as (
            select subscription_id, count(*) as n from cycles where cycle_start < until group by 1
        ), actual as (
            -- every invoice counts, also one for a period missing from the subscriptions
            select subscription_id, count(distinct invoice_id) as n
            from {{invoices}} i left join paid using (subscription_id)
            where i.period_start < coalesce(paid.until, timestamp '9999-01-01')
              and invoice_id not in (select invoice_id from {{invoices}} where status = 'void')
            group by 1
        )
        select count(*) from expected e full join actual a using (subscription_id)
        where coalesce(e.n, 0) <> coalesce(a.n, 0)
        """
    )
    assert missing == 0


def test_invoices_add_up_their_line_items_and_tax(dirty_world):
    """subtotal = the sum of the lines; total = subtotal + tax at the customer's country's rate
    (seed country_billing, by the country the user signed up from); amount_due = max(total, 0)."""
    rows = dirty_world.sql(
        """
        with lines as (
            select invoice_id, sum(amount) as amount, count(*) as n from {invoice_line_items}
            group by 1
        ), inv as (
            select distinct i.invoice_id, i.subtotal, i.tax, i.total, i.amount_due, i.currency,
                   coalesce(b.tax_rate, 0) as rate, coalesce(b.currency, 'usd') as country_currency
            from {invoices} i
            join {customers} c using (customer_id)
            join (select * from {users} qualify row_number() over (
                    partition by user_id order by updated_at) = 1) u
              on u.user_id = cast(c.app_user_id as bigint)
            left join read_csv('techflow_dbt/seeds/country_billing.csv') b
              on b.country_code = u.country
        )
        select
            count(*) filter (where l.invoice_id is null or l.amount <> inv.subtotal),
            count(*) filter (where inv.total <> inv.subtotal + inv.tax
                             or inv.amount_due <> greatest(inv.total, 0)),
            count(*) filter (where abs(inv.tax - inv.subtotal * inv.rate) > 0.5),
            count(*) filter (where inv.currency <> inv.country_currency),
            count(*) filter (where inv.tax > 0),
            count(distinct inv.currency),
            count(*)
        from inv left join lines l using (invoice_id)
        """
    )[0]
    assert rows[:4] == (0, 0, 0, 0), rows
    assert rows[4] > 100 and rows[5] == 5, "taxed invoices in all five currencies"


def test_a_replaced_period_is_billed_exactly_for_the_time_it_was_used(dirty_world):
    """Proration: a mid-cycle change credits the old plan's unused rest of its cycle and charges
    the new plan to the cycle's end. So the old period's last cycle, net of the credit, bills the
    old plan's full-cycle price x seats times the share of the cycle it was used, to the cent, and
    the new plan's line is the same share of its own price (USD invoices: no conversion)."""
    rows = dirty_world.sql(
        """
        with lines as (
            select distinct l.*, p.price_per_period_cents * l.quantity as full_cycle,
                   p.billing_months as months
            from {invoice_line_items} l
            join read_csv('techflow_dbt/seeds/plan_catalog.csv') p using (plan_id)
            where l.currency = 'usd'
              and l.invoice_id not in (select invoice_id from {invoices} where status = 'void')
        ), credits as (
            select * from lines where proration and amount < 0
        ), pairs as (
            select c.amount as credit, c.full_cycle, c.period_start as changed_at,
                   c.period_end as cycle_end, c.months, old.amount as old_amount,
                   old.period_start as old_start,
                   new.amount as new_amount, new.full_cycle as new_full
            from credits c
            join lines old on old.subscription_id = c.subscription_id and not old.amount < 0
                and old.period_start < c.period_start and old.period_end = c.period_end
            join lines new on new.invoice_id = c.invoice_id and new.amount >= 0
        ), shares as (
            -- The cycle's length from its end: exact while the anchor day is < 28 (a cycle
            -- anchored on the 31st ends on April 30th, one month after March 31st, not 30th).
            -- The old line covers old_start..cycle_end (old_start is the cycle start, or an
            -- earlier change's time when the old period was itself prorated).
            select *,
                epoch(changed_at - old_start) / epoch(cycle_end - (cycle_end - to_months(months)))
                    as used_old,
                epoch(cycle_end - changed_at) / epoch(cycle_end - (cycle_end - to_months(months)))
                    as rest
            from pairs
            where day(cycle_end) < 28
        )
        select
            count(*) filter (where abs(old_amount + credit - full_cycle * used_old) > 1),
            count(*) filter (where abs(new_amount - new_full * rest) > 1),
            count(*)
        from shares
        """
    )[0]
    # Several pairs in the small dirty world (8 since only activated signups subscribe).
    assert rows[:2] == (0, 0) and rows[2] >= 5, rows


def test_a_full_refund_ends_its_period_and_a_partial_one_does_not(dirty_world):
    """A period ended for `refund` had the charge of one cycle refunded in full when it ended;
    every other refund is partial and its period goes on (or ends for another reason)."""
    rows = dirty_world.sql(
        """
        with latest_sub as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ), refunds as (
            select c.charge_id, c.amount, c.amount_refunded, c.updated_at as refunded_at,
                   i.subscription_id
            from {charges} c
            join (select distinct invoice_id, subscription_id from {invoices}) i using (invoice_id)
            where c.amount_refunded > 0
        )
        select
            count(*) filter (where s.ended_reason = 'refund'
                and not exists (select 1 from refunds r where r.subscription_id = s.subscription_id
                    and r.amount_refunded = r.amount and r.refunded_at >= s.ended_at)),
            (select count(*) from refunds r join latest_sub s using (subscription_id)
              where r.amount_refunded = r.amount and s.ended_reason is distinct from 'refund'),
            (select count(*) from refunds r join latest_sub s using (subscription_id)
              where r.amount_refunded < r.amount and s.ended_reason = 'refund'
                and r.refunded_at = s.ended_at),
            count(*) filter (where s.ended_reason = 'refund'),
            (select count(*) from refunds where amount_refunded < amount)
        from latest_sub s
        """
    )[0]
    assert rows[:3] == (0, 0, 0), rows
    assert rows[3] >= 2 and rows[4] >= 1, "the world has refunds of both kinds"


def test_voided_drafts_are_reissued_and_never_charged(dirty_world):
    rows = dirty_world.sql(
        """
        with void as (
            select * from {invoices} where status = 'void'
        )
        select
            count(*),
            count(*) filter (where amount_paid <> 0),
            count(*) filter (where exists (select 1 from {charges} c
                                           where c.invoice_id = void.invoice_id)),
            count(*) filter (where not exists (select 1 from {invoices} i
                where i.subscription_id = void.subscription_id
                  and i.period_start = void.period_start and i.status <> 'void')),
            count(*) filter (where not exists (select 1 from {invoice_line_items} l
                                               where l.invoice_id = void.invoice_id))
        from void
        """
    )[0]
    assert rows[0] >= 2 and rows[1:] == (0, 0, 0, 0), rows


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
            -- Per person active in the trial's last week: how many people an account has is
            -- mostly its teammates from other products, not this trial's engagement.
            select t.lapsed, count(e.event_id) / count(distinct (t.user_id, t.product, e.user_id))
            from trials t left join account_events e
              on e.account_id = t.user_id and e.product = t.product
             and e.occurred_at >= t.trial_ends_at - interval 7 day
             and e.occurred_at < t.trial_ends_at
            group by 1
            """.replace("ACCOUNT_EVENTS", ACCOUNT_EVENTS)
        )
    )
    assert rows[True] < LAPSED_VS_CONVERTED_TRIAL_USAGE * rows[False]


# Behaviour: churn, seat changes and teams follow engagement, tenure and utilisation.


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

    assert hazard(0, 3) > EARLY_VS_MID_TENURE_CHURN * hazard(6, 12)
    assert hazard(6, 12) > MID_VS_LATE_TENURE_CHURN * hazard(12, 24)


def test_low_engagement_and_low_utilisation_accounts_churn_more():
    p, end_us, paid, churned = _paid_world()
    team = paid & (p.quantity > 1)  # a single seat has no utilisation to speak of
    for level, among in ((p.engagement, paid), (p.seat_utilisation, team)):
        q1, q3 = np.quantile(level[among], [0.25, 0.75])
        low = _monthly_hazard(p, end_us, among & (level <= q1), churned)
        high = _monthly_hazard(p, end_us, among & (level >= q3), churned)
        assert low > LOW_VS_HIGH_CHURN * high


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
    assert grew_high > FULL_TEAMS_GROW_SHARE
    assert grew_low < grew_high - GROW_SHARE_GAP_FULL_VS_EMPTY
    growth = np.zeros(len(p), dtype=bool)
    growth[before[grew]] = True
    high = _monthly_hazard(p, end_us, team & (util >= q3), growth)
    low = _monthly_hazard(p, end_us, team & (util <= q1), growth)
    assert high > SEAT_GROWTH_HIGH_VS_LOW_UTILISATION * low
    # Enterprise periods cannot upgrade (their hazard is 0): comparing them too would only dilute
    # the effect with periods it cannot touch.
    upgrades = p.reason == UPGRADE
    can_upgrade = team & (p.tier < 2)
    assert _monthly_hazard(p, end_us, can_upgrade & (util >= q3), upgrades) > (
        UPGRADES_HIGH_VS_LOW_UTILISATION
        * _monthly_hazard(p, end_us, can_upgrade & (util <= q1), upgrades)
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
    assert teams[0][0] > ACTIVE_TEAMMATES_PER_OWNER, "most usage comes from teams, not lone owners"
