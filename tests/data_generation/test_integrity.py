"""Referential integrity across systems, as the warehouse will join them."""

from __future__ import annotations


def test_every_invoice_bills_a_subscription_period(dirty_world):
    orphans = dirty_world.scalar(
        "select count(*) from {invoices} where subscription_id not in "
        "(select subscription_id from {subscriptions})"
    )
    assert orphans == 0
    assert dirty_world.scalar("select count(distinct invoice_id) from {invoices}") > 50


def test_every_charge_belongs_to_an_invoice_of_the_same_customer(dirty_world):
    orphans = dirty_world.scalar(
        "select count(*) from {charges} c left join "
        "(select distinct invoice_id, customer_id from {invoices}) i using (invoice_id) "
        "where i.invoice_id is null or i.customer_id <> c.customer_id"
    )
    assert orphans == 0


def test_every_stripe_customer_is_an_app_user_and_every_invoice_has_a_customer(dirty_world):
    assert (
        dirty_world.scalar(
            "select count(*) from {customers} where cast(app_user_id as bigint) not in "
            "(select user_id from {users})"
        )
        == 0
    )
    assert (
        dirty_world.scalar(
            "select count(*) from {invoices} "
            "where customer_id not in (select customer_id from {customers})"
        )
        == 0
    )


def test_every_plan_id_is_in_the_plan_catalog(dirty_world):
    unknown = dirty_world.scalar(
        "select count(*) from {subscriptions} where plan_id not in "
        "(select plan_id from read_csv('techflow_dbt/seeds/plan_catalog.csv'))"
    )
    assert unknown == 0


def test_no_two_periods_of_one_user_and_product_overlap(dirty_world):
    overlaps = dirty_world.scalar(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        ), periods as (
            select s.*, split_part(plan_id, '_', 1) as product,
                   coalesce(ended_at, timestamp '9999-12-31') as until
            from latest s
        )
        select count(*) from periods a join periods b
          on a.user_id = b.user_id and a.product = b.product
         and a.subscription_id < b.subscription_id
         and a.started_at < b.until and b.started_at < a.until
        """
    )
    assert overlaps == 0


def test_previous_subscription_ids_exist_and_end_when_their_successor_starts(dirty_world):
    broken = dirty_world.scalar(
        """
        with latest as (
            select * from {subscriptions}
            qualify row_number() over (
                partition by subscription_id order by updated_at desc, _loaded_at desc) = 1
        )
        select count(*) from latest n left join latest p
          on p.subscription_id = n.previous_subscription_id
        where n.previous_subscription_id is not null
          and (p.subscription_id is null or p.ended_at <> n.started_at)
        """
    )
    assert broken == 0
    assert (
        dirty_world.scalar(
            "select count(*) from {subscriptions} where previous_subscription_id is not null"
        )
        > 0
    )


def test_accounts_and_opportunities_point_at_app_users_and_accounts(dirty_world):
    assert (
        dirty_world.scalar(
            "select count(*) from {accounts} where cast(app_user_id as bigint) not in "
            "(select user_id from {users})"
        )
        == 0
    )
    assert (
        dirty_world.scalar(
            "select count(*) from {opportunities} "
            "where account_id not in (select account_id from {accounts})"
        )
        == 0
    )


def test_identifies_link_segment_anonymous_ids_to_app_users(dirty_world):
    assert (
        dirty_world.scalar(
            "select count(*) from {identifies} "
            "where cast(user_id as bigint) not in (select user_id from {users})"
        )
        == 0
    )
    # every signup (account owner; invited teammates never sign up) was identified exactly once
    # (duplicates share the message_id)
    assert dirty_world.scalar(
        "select count(distinct user_id) from {identifies}"
    ) == dirty_world.scalar(
        "select count(distinct user_id) from {users} where account_owner_id is null"
    )


def test_opportunity_stages_advance_in_time_and_close_last(dirty_world):
    out_of_order = dirty_world.scalar(
        """
        with ranked as (
            select opportunity_id, stage, updated_at,
                   case stage when 'Prospecting' then 0 when 'Qualification' then 1
                        when 'Proposal' then 2 when 'Negotiation' then 3 else 4 end as step
            from {opportunities}
        )
        select count(*) from ranked a join ranked b using (opportunity_id)
        where a.step < b.step and a.updated_at >= b.updated_at
        """
    )
    assert out_of_order == 0
    assert (
        dirty_world.scalar(
            "select count(*) from {accounts} a join {users} u "
            "on cast(a.app_user_id as bigint) = u.user_id where a.created_at < u.signup_at"
        )
        == 0
    )
