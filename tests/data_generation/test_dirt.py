"""The documented dirt is there by default, and --no-dirt (dirt=False) removes all of it."""

from __future__ import annotations

import pytest

UTM_COLUMNS = ("context_campaign_source", "context_campaign_medium", "context_campaign_name")


def duplicate_messages(world, table):
    return world.scalar(
        f"select count(*) from (select message_id from {{{table}}} "
        "group by message_id having count(*) > 1)"
    )


def late_rows(world, table, column):
    return world.scalar(f"select count(*) from {{{table}}} where cast({column} as date) < date")


def mixed_case_utms(world):
    checks = " or ".join(f"{c} <> lower({c})" for c in UTM_COLUMNS)
    return world.scalar(f"select count(*) from {{tracks}} where {checks}")


def count_test_accounts(world):
    return world.scalar("select count(*) from {users} where email like '%@techflow.test'")


@pytest.mark.parametrize("table", ["tracks", "identifies"])
def test_segment_delivers_some_messages_twice_only_with_dirt(dirty_world, clean_world, table):
    assert duplicate_messages(dirty_world, table) > 0
    assert duplicate_messages(clean_world, table) == 0


def test_duplicates_are_exact_copies_of_the_payload(dirty_world):
    differing = dirty_world.scalar(
        "select count(*) from (select message_id from {tracks} group by message_id "
        "having count(distinct (anonymous_id, event, timestamp, context_page_path)) > 1)"
    )
    assert differing == 0


@pytest.mark.parametrize(
    ("table", "column"),
    [("usage_events", "occurred_at"), ("tracks", "timestamp"), ("identifies", "timestamp")],
)
def test_late_events_land_in_the_next_days_partition_only_with_dirt(
    dirty_world, clean_world, table, column
):
    assert late_rows(dirty_world, table, column) > 0
    assert late_rows(clean_world, table, column) == 0
    too_late = dirty_world.scalar(
        f"select count(*) from {{{table}}} where date - cast({column} as date) > 1"
    )
    assert too_late == 0, "late means the next day's partition, not later"


def test_utm_values_vary_in_case_only_with_dirt(dirty_world, clean_world):
    assert mixed_case_utms(dirty_world) > 0
    assert mixed_case_utms(clean_world) == 0


@pytest.mark.parametrize("world_name", ["dirty_world", "clean_world"])
def test_every_utm_pair_normalises_through_the_seed(request, world_name):
    world = request.getfixturevalue(world_name)
    unmapped = world.scalar(
        """
        select count(*) from {tracks} t
        left join read_csv('techflow_dbt/seeds/utm_channel_mapping.csv') m
          on lower(t.context_campaign_source) = m.utm_source
         and lower(t.context_campaign_medium) = m.utm_medium
        where t.context_campaign_source is not null and m.channel is null
        """
    )
    assert unmapped == 0


def test_internal_test_accounts_exist_only_with_dirt(dirty_world, clean_world):
    assert count_test_accounts(dirty_world) > 0
    assert count_test_accounts(clean_world) == 0
    # without dirt, nothing anywhere belongs to a test account
    assert (
        clean_world.scalar("select count(*) from {identifies} where email like '%@techflow.test'")
        == 0
    )


def test_the_clean_world_is_the_dirty_world_minus_the_dirt(dirty_world, clean_world):
    """Dirt adds defects; it does not change the business underneath.

    Late and corrected versions change when a subscription's rows land, not what the period
    finally is: once settled, each period's latest version in the dirty world is the clean one.
    """
    columns = (
        "subscription_id, user_id, plan_id, quantity, status, trial_ends_at, started_at, "
        "ended_at, ended_reason, previous_subscription_id"
    )
    latest = (
        f"select {columns} from {{subscriptions}} qualify row_number() over ("
        "partition by subscription_id order by updated_at desc, _loaded_at desc) = 1"
    )
    settled = clean_world.settled
    settled = f"started_at < {settled} and (ended_at is null or ended_at < {settled})"
    clean = set(clean_world.sql(f"select * from ({latest}) where {settled}"))
    dirty = {row[0]: row for row in dirty_world.sql(
        f"select s.* from ({latest}) s join {{users}} u using (user_id) "
        "where u.email not like '%@techflow.test'"
    )}  # fmt: skip
    assert len(clean) > 100  # a third of signups never activate, so never subscribe
    assert {dirty[row[0]] for row in clean} == clean
    # and the dirty world has no real customer's period the clean one lacks
    assert set(dirty) <= {
        r[0] for r in clean_world.sql("select subscription_id from {subscriptions}")
    }
