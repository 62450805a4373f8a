"""Late and corrected subscription versions (late.py): backdated changes land in the partition of
the day they were entered, and some versions carry a wrong value that a later version corrects.

Specifications, checked on the raw Parquet the generator writes:
- by default (dirt), a share of cancellations and plan and seat changes lands 1..45 days after it
  took effect, with updated_at and _loaded_at on the landing day; deterministically;
- some periods get a later version correcting ended_at or the seats of an earlier one;
- the world stays consistent in every partition prefix (chains, overlaps, invoices → periods);
- prefix consistency holds for a day that receives late rows;
- dirt=False has neither.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from data_generation import RAW_TABLES, WorldConfig, generate_day, generate_range
from data_generation.simulation.late import MAX_LATE_DAYS, subscription_landing
from data_generation.simulation.lifecycle import CHURN, NEVER, SEAT_CHANGE, UPGRADE
from data_generation.simulation.timeutil import DAY_US, day_of
from data_generation.simulation.world import world_for
from tests.data_generation.conftest import SETTLE_DAYS, RawWorld

START = dt.date(2025, 1, 1)
LATE_SHARE_BAND = (0.08, 0.15)  # documented in data_generation/README.md

# The effective time a version describes: the end for an ending version (or a corrected one), the
# trial's end for a conversion, the start for an opening (or a corrected seat count). past_due
# versions are never late (dunning is automatic): they describe their own updated_at.
EFFECTIVE = """
    case when ended_at is not null then ended_at
         when status = 'past_due' then updated_at
         when trial_ends_at is not null and updated_at >= trial_ends_at then trial_ends_at
         else started_at end
"""
LATEST = (
    "qualify row_number() over ("
    "partition by subscription_id order by updated_at desc, _loaded_at desc) = 1"
)


@pytest.fixture(scope="module")
def big_world(tmp_path_factory: pytest.TempPathFactory) -> RawWorld:
    """Scale 1 over 300 days: enough changes to measure the late share (subscriptions only)."""
    root = tmp_path_factory.mktemp("late_big") / "raw"
    cfg = WorldConfig(start=START, scale=1.0, seed=7, out_dir=root)
    last = START + dt.timedelta(days=299)
    generate_range(cfg, START, last, tables=["subscriptions", "invoices"])
    return RawWorld(root, cfg, START, last, 300)


def lags(world: RawWorld) -> dict[int, int]:
    """Rows by (landing day - effective day)."""
    return dict(
        world.sql(
            f"select date - cast({EFFECTIVE} as date), count(*) from {{subscriptions}} group by 1"
        )
    )


def corrected_periods(world: RawWorld, column: str) -> int:
    """Periods with a later version that changes `column` of an already-landed version."""
    return world.scalar(
        f"""
        select count(distinct a.subscription_id) from {{subscriptions}} a
        join {{subscriptions}} b on a.subscription_id = b.subscription_id
         and a.updated_at < b.updated_at and a.date < b.date
        where a.{column} is not null and b.{column} is not null and a.{column} <> b.{column}
        """
    )


def bytes_by_file(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def test_late_rows_exist_by_default_and_are_deterministic(tmp_path, dirty_world):
    late = sum(n for lag, n in lags(dirty_world).items() if lag > 0)
    assert late > 0, "a modest world has late subscription rows by default"
    first_day, last_day = START + dt.timedelta(days=70), START + dt.timedelta(days=99)
    for name in ("a", "b"):
        # Scale 0.6: a month with late changes, now that only activated signups subscribe.
        cfg = WorldConfig(start=START, scale=0.6, seed=5, out_dir=tmp_path / name)
        generate_range(cfg, first_day, last_day)
    first, second = bytes_by_file(tmp_path / "a"), bytes_by_file(tmp_path / "b")
    assert len(first) == 30 * len(RAW_TABLES)
    assert first == second
    world = RawWorld(tmp_path / "a", cfg, first_day, last_day, 30)
    assert sum(n for lag, n in lags(world).items() if lag > 0) > 0, "the range has late rows"


@pytest.mark.parametrize("world_name", ["dirty_world", "big_world"])
def test_late_rows_land_1_to_45_days_after_they_took_effect(request, world_name):
    world = request.getfixturevalue(world_name)
    by_lag = lags(world)
    assert min(by_lag) == 0
    assert 1 < max(by_lag) <= MAX_LATE_DAYS
    assert sum(n for lag, n in by_lag.items() if lag >= 1) > (
        100 if world_name == "big_world" else 0
    )
    if world_name == "big_world":
        assert max(by_lag) > 30, "a tail of changes entered weeks late"
    # updated_at (when the change was entered) and _loaded_at are on the landing day
    misplaced = world.scalar(
        "select count(*) from {subscriptions} where cast(updated_at as date) <> date "
        "or cast(_loaded_at as date) <> date or _loaded_at < updated_at"
    )
    assert misplaced == 0


def test_late_changes_keep_their_true_effective_times(dirty_world):
    """A late ending version says when the period really ended: its chain and trial agree."""
    rows = dirty_world.sql(
        f"""
        select status, ended_reason, ended_at > started_at,
               coalesce(ended_at >= trial_ends_at, true)
        from {{subscriptions}} where date > cast({EFFECTIVE} as date)
        """
    )
    assert rows
    assert all(ended_after_start is not False for _, _, ended_after_start, _ in rows)
    assert {reason for status, reason, _, _ in rows if status == "canceled"} <= {
        "churn", "upgrade", "downgrade", "seat_change"
    }  # fmt: skip


def test_the_late_share_is_in_the_documented_band(big_world):
    """Of the cancellations (paid churn) and plan and seat changes that have all landed, 8-15 %
    landed after the day they took effect; most within days, a tail up to 45."""
    share, median, changes = big_world.sql(
        f"""
        with latest as (select * from {{subscriptions}} {LATEST}),
        first_end as (
            select subscription_id, date from {{subscriptions}} where ended_at is not null
            qualify row_number() over (partition by subscription_id order by updated_at) = 1
        ), changes as (
            select f.date - cast(l.ended_at as date) as delay
            from first_end f join latest l using (subscription_id)
            where (l.ended_reason in ('upgrade', 'downgrade', 'seat_change')
                   or (l.ended_reason = 'churn' and coalesce(l.ended_at > l.trial_ends_at, true)))
              and l.ended_at < timestamp '{big_world.last - dt.timedelta(days=MAX_LATE_DAYS)}'
        )
        select avg((delay > 0)::int), median(delay) filter (where delay > 0), count(*) from changes
        """
    )[0]
    assert changes > 300  # only activated signups subscribe (funnel)
    assert LATE_SHARE_BAND[0] <= share <= LATE_SHARE_BAND[1]
    assert 1 <= median <= 5


def test_delays_are_skewed_over_a_large_world():
    """The model behind it, over two years at scale 1: ~12 % late, median a few days, max 45."""
    world = world_for(WorldConfig(start=START, scale=1.0, seed=42), START + dt.timedelta(days=690))
    p, landing = world.periods, subscription_landing(world)
    changes = p.converted & (p.reason >= UPGRADE) & (p.reason <= CHURN)
    late = landing.end_us != p.ended_us
    assert not (late & ~changes).any(), "only cancellations and plan and seat changes are late"
    assert LATE_SHARE_BAND[0] <= late[changes].mean() <= LATE_SHARE_BAND[1]
    delay = day_of(landing.end_us[late]) - day_of(p.ended_us[late])
    assert delay.min() == 1 and delay.max() == MAX_LATE_DAYS
    assert np.median(delay) <= 4
    assert 0.05 <= (delay > 14).mean() <= 0.25
    # a successor's opening is written with its predecessor's (possibly late) ending
    successors = np.flatnonzero(p.previous_id >= 0)
    previous = np.searchsorted(p.subscription_id, p.previous_id[successors])
    assert (landing.open_us[successors] == landing.end_us[previous]).all()
    # corrections: wrong end dates of paid churns, wrong seat counts after seat changes
    corrected = landing.correction_us < NEVER
    wrong_end = landing.ended_shown_us != p.ended_us
    wrong_seats = landing.quantity_shown != p.quantity
    assert wrong_end.sum() > 50 and wrong_seats.sum() > 50
    assert ((wrong_end | wrong_seats) == corrected).all()
    assert (p.reason[wrong_end] == CHURN).all()
    assert (
        p.reason[previous[np.isin(successors, np.flatnonzero(wrong_seats))]] == SEAT_CHANGE
    ).all()


@pytest.mark.parametrize("column", ["ended_at", "quantity"])
def test_some_periods_get_a_later_version_correcting_an_earlier_one(big_world, column):
    # A few per 300 days: only activated signups subscribe, so paid cancellations and
    # seat changes — what gets corrected — are fewer than before the funnel.
    assert corrected_periods(big_world, column) >= 2


def test_corrections_make_the_latest_version_the_truth(big_world):
    """The wrong value is a little earlier than the truth (a cancellation dated when it was asked
    for) or a mistyped seat count; the latest version states the simulated truth."""
    wrong_end = big_world.sql(
        """
        select a.ended_at < b.ended_at, b.ended_at - a.ended_at <= interval 14 day,
               a.ended_at > coalesce(a.trial_ends_at, a.started_at), b.ended_reason
        from {subscriptions} a join {subscriptions} b using (subscription_id)
        where a.ended_at <> b.ended_at and a.updated_at < b.updated_at
        """
    )
    assert wrong_end and all(row == (True, True, True, "churn") for row in wrong_end)
    world = world_for(big_world.cfg, big_world.last)
    p = world.periods
    latest = big_world.sql(
        f"""
        select subscription_id, quantity, epoch_us(ended_at) from {{subscriptions}} {LATEST}
        """
    )
    settled_us = (big_world.last + dt.timedelta(days=1 - SETTLE_DAYS) - dt.date(1970, 1, 1)).days
    settled_us *= DAY_US
    sid = np.array([row[0] for row in latest])
    quantity = np.array([row[1] for row in latest])
    ended = np.array([NEVER if row[2] is None else row[2] for row in latest])
    at = np.searchsorted(p.subscription_id, sid)
    assert (p.subscription_id[at] == sid).all()
    settled = p.started_us[at] < settled_us
    assert settled.sum() > 3000  # only activated signups subscribe (funnel)
    assert (quantity[settled] == p.quantity[at][settled]).all()
    # A period that opened before the settled horizon may still end after it, and then its
    # correction (of an early, wrong ended_at) may not have landed yet: only settled ends count.
    landed_end = settled & (ended < NEVER) & (p.ended_us[at] < settled_us)
    assert (ended[landed_end] == p.ended_us[at][landed_end]).all()
    assert (p.ended_us[at][settled & (ended == NEVER)] >= settled_us).all()


def test_versions_of_a_period_are_strictly_ordered(dirty_world, big_world):
    """No two versions of a period share updated_at, and a later version never lands in an
    earlier partition, so "latest version" is never a tie and a prefix holds the earlier ones."""
    for world in (dirty_world, big_world):
        ties = world.scalar(
            "select count(*) from (select subscription_id, updated_at from {subscriptions} "
            "group by all having count(*) > 1)"
        )
        assert ties == 0
        out_of_order = world.scalar(
            "select count(*) from {subscriptions} a join {subscriptions} b "
            "on a.subscription_id = b.subscription_id and a.updated_at < b.updated_at "
            "and a.date > b.date"
        )
        assert out_of_order == 0


@pytest.mark.parametrize("world_name", ["dirty_world", "big_world"])
def test_every_partition_prefix_is_consistent(request, world_name):
    """Whatever day the raw data has landed up to, its latest versions form a consistent world:
    a successor's predecessor has landed and ended when it started, a seat change changed the
    seats, no two periods of a customer's product overlap, and every invoice's period has landed.
    """
    world = request.getfixturevalue(world_name)
    step = 2 if world.days < 200 else 5
    cuts = f"""
        cuts as (select cast(unnest(range(date '{world.first}' + 20, date '{world.last}' + 1,
                                         interval {step} day)) as date) as cut),
        latest as (
            select s.*, c.cut, split_part(plan_id, '_', 1) as product
            from {{subscriptions}} s join cuts c on s.date <= c.cut
            qualify row_number() over (
                partition by c.cut, subscription_id order by updated_at desc, _loaded_at desc) = 1
        )
    """
    broken_chains = world.scalar(
        f"""
        with {cuts}
        select count(*) from latest n left join latest p
          on p.cut = n.cut and p.subscription_id = n.previous_subscription_id
        where n.previous_subscription_id is not null
          and (p.subscription_id is null or p.ended_at is distinct from n.started_at
               or p.ended_reason = 'seat_change'
                  and (p.quantity = n.quantity or p.plan_id <> n.plan_id))
        """
    )
    assert broken_chains == 0
    overlaps = world.scalar(
        f"""
        with {cuts}
        select count(*) from latest a join latest b
          on a.cut = b.cut and a.user_id = b.user_id and a.product = b.product
         and a.subscription_id < b.subscription_id
         and a.started_at < coalesce(b.ended_at, timestamp '9999-12-31')
         and b.started_at < coalesce(a.ended_at, timestamp '9999-12-31')
        """
    )
    assert overlaps == 0
    orphan_invoices = world.scalar(
        f"""
        with {cuts}
        select count(*) from {{invoices}} i join cuts c on i.date <= c.cut
        where not exists (select 1 from latest s
                          where s.cut = c.cut and s.subscription_id = i.subscription_id)
        """
    )
    assert orphan_invoices == 0
    assert world.scalar("select count(*) from {subscriptions} where ended_at <= started_at") == 0


def test_a_late_billed_period_is_invoiced_for_its_true_service_period(big_world):
    """Stripe bills the cycles of a period entered late when it learns of it, for their true
    service period: such an invoice is created after its period started, never before."""
    late_billed, early = big_world.sql(
        """
        select count(*) filter (where created_at > period_start),
               count(*) filter (where created_at < period_start)
        from (select distinct invoice_id, period_start, created_at from {invoices})
        """
    )[0]
    assert late_billed > 0 and early == 0


def test_a_day_receiving_late_rows_is_the_same_alone_and_inside_a_range(tmp_path):
    """Prefix consistency holds for a day whose partition has late subscription rows and
    late-billed invoices."""
    alone = WorldConfig(start=START, scale=0.3, seed=9, out_dir=tmp_path / "alone")
    world = world_for(alone, START + dt.timedelta(days=120))
    landing, p = subscription_landing(world), world.periods
    late_open = landing.open_us != p.started_us
    days = np.unique(day_of(landing.open_us[late_open])) - (START - dt.date(1970, 1, 1)).days
    day = START + dt.timedelta(days=int(days[(days >= 40) & (days <= 110)][0]))
    ranged = dataclasses.replace(alone, out_dir=tmp_path / "ranged")
    generate_day(alone, day)
    generate_range(ranged, day - dt.timedelta(days=2), day + dt.timedelta(days=10))
    alone_files = bytes_by_file(tmp_path / "alone")
    ranged_files = bytes_by_file(tmp_path / "ranged")
    assert len(alone_files) == len(RAW_TABLES)
    for name, content in alone_files.items():
        assert ranged_files[name] == content, name
    one_day = RawWorld(tmp_path / "alone", alone, day, day, 1)
    assert sum(n for lag, n in lags(one_day).items() if lag > 0) > 0
    assert one_day.scalar("select count(*) from {invoices} where created_at > period_start") > 0


def test_without_dirt_nothing_is_late_or_corrected(clean_world):
    assert set(lags(clean_world)) == {0}
    for column in ("ended_at", "quantity"):
        assert corrected_periods(clean_world, column) == 0
    assert (
        clean_world.scalar("select count(*) from {subscriptions} where created_at <> started_at")
        == 0
    )
    assert (
        clean_world.scalar(
            "select count(*) from (select distinct invoice_id, created_at, period_start "
            "from {invoices}) where created_at <> period_start"
        )
        == 0
    )
