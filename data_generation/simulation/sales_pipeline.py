"""The sales pipeline as a schedule: which deals exist, how they walk the stages, how they end.

Every outcome is read from app_db's truth (world.periods), never drawn on its own:

- New business. Sales opens an opportunity for a large prospect a few days after the signup: a
  signup whose first subscription asks for at least LARGE_SEATS seats, or one from a large
  company (ENTERPRISE_PROSPECT_SHARE of the other signups, whatever plan they try). The deal is
  Closed Won at the paid start of the user's first paid period with at least LARGE_SEATS seats
  (paid on at least one UTC day, the platform's date rule: Periods.paid_a_day) if that comes
  within MAX_CYCLE_DAYS of the opening (amount: that period's ARR); otherwise the
  prospect never bought a sales-sized contract (the trial lapsed, or they stayed small
  self-serve) and the deal is Closed Lost 21..MAX_CYCLE_DAYS days after opening. A deal whose
  end lies after the generated range simply stays open. A self-serve large purchase made at
  signup is logged won the moment it happens (opened and closed at once).
- Expansion. A sales-managed account (new business won) gets an expansion opportunity ahead of
  each later seat increase or upgrade in app_db: opened 14..60 days before the new period starts
  (never before the account was won), Closed Won the moment it starts, amount = the ARR increase
  (plan catalog price x seats, annualised, cents). Some accounts are also pitched an expansion
  that nothing follows: sales opens it while the account pays, and loses it when no seat growth
  came within EXPANSION_LOST_WINDOW_DAYS.
- Stages. A won deal walks all four open stages; a lost one drops out after the stage drawn from
  LOST_AT_STAGE_WEIGHTS (most losses happen early). Open stages are spread evenly over the
  cycle, so the last stage reached lingers until the deal closes.

Prefix consistency: a deal opened by day D is decided by periods starting at most
MAX_CYCLE_DAYS (or the expansion window) after D; the world simulates periods PERIOD_MARGIN_DAYS
past its horizon, which covers that, so a day's versions never depend on the range generated.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import polars as pl

from data_generation.simulation import rng
from data_generation.simulation.lifecycle import NEVER, SEAT_CHANGE, UPGRADE
from data_generation.simulation.timeutil import DAY_US
from data_generation.simulation.world import PERIOD_MARGIN_DAYS, World

LARGE_SEATS = 25  # a sales-sized contract
ENTERPRISE_PROSPECT_SHARE = 0.09  # of the other signups: large companies sales works anyway
PICKUP_DAYS = (0.5, 5.0)  # a rep opens the deal this long after the signup
MAX_CYCLE_DAYS = 75  # a deal not won by then is lost (no decision)
LOST_CYCLE_MIN_DAYS = 21
LOST_AT_STAGE_WEIGHTS = (0.35, 0.30, 0.20, 0.15)  # Prospecting … Negotiation
EXPANSION_LEAD_DAYS = (14, 60)
EXPANSION_PITCH_SHARE = 0.5  # of sales-managed accounts: one pitch at a random time
EXPANSION_PITCH_AFTER_DAYS = (60, 300)  # after the new business was won
EXPANSION_LOST_WINDOW_DAYS = 60  # lost when no seat growth starts this soon after the pitch
OPEN_STAGES = 4
WON, LOST = 4, 5  # indices into STAGES
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
NEW_BUSINESS, EXPANSION_WON, EXPANSION_LOST = 0, 1, 2  # deal kinds (also in the opportunity key)

assert MAX_CYCLE_DAYS + PICKUP_DAYS[1] <= PERIOD_MARGIN_DAYS, "deals must be decided in the world"
assert EXPANSION_LEAD_DAYS[1] <= PERIOD_MARGIN_DAYS
assert EXPANSION_LOST_WINDOW_DAYS <= PERIOD_MARGIN_DAYS


@dataclass(frozen=True)
class Pipeline:
    """Every opportunity of the world (numpy columns, one entry per opportunity)."""

    user_id: np.ndarray
    kind: np.ndarray  # NEW_BUSINESS, EXPANSION_WON or EXPANSION_LOST
    key: np.ndarray  # unique per (user, kind): hashed into the opportunity id
    created_us: np.ndarray
    closed_us: np.ndarray  # when it is won or lost (possibly after the generated range)
    expected_close_us: np.ndarray  # close date shown while the deal is open
    final_stage: np.ndarray  # WON or LOST
    last_open_stage: np.ndarray  # 0..3: the stage a lost deal dropped out of (3 when won)
    open_amount: np.ndarray  # cents, the pitched ARR shown while open
    amount: np.ndarray  # cents, on the closing version (won: the real ARR bought)

    def __len__(self) -> int:
        return len(self.user_id)


@dataclass(frozen=True)
class Prospects(Pipeline):
    """New-business deals, one per prospect, with the company's true headcount."""

    employees: np.ndarray


def _days(u: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return ((bounds[0] + (bounds[1] - bounds[0]) * u) * DAY_US).astype(np.int64)


def _arr(world: World, idx: np.ndarray) -> np.ndarray:
    """Annual recurring revenue of periods (cents): price per billing period x seats, annualised."""
    p = world.periods
    return p.price_cents[idx] * p.quantity[idx] * 12 // p.billing_months[idx]


def _lost_stage(seed: int, stream: str, key: np.ndarray) -> np.ndarray:
    return rng.choice(rng.uniform(seed, stream, key), LOST_AT_STAGE_WEIGHTS)


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def new_business(world: World) -> Prospects:
    p, users = world.periods, world.users
    n = len(users.user_id)
    # The first period of each user: the earliest to start (the primary product's, at signup;
    # periods are ordered by id, and a cross-sell of a lower-numbered product starts later).
    first_start = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(first_start, p.user_id - 1, p.started_us)
    earliest = np.flatnonzero(p.started_us == first_start[p.user_id - 1])
    first = np.full(n, len(p), dtype=np.int64)
    np.minimum.at(first, p.user_id[earliest] - 1, earliest)
    has_first = first < len(p)
    first_idx = np.where(has_first, first, 0)
    large_ask = has_first & (p.quantity[first_idx] >= LARGE_SEATS)
    uid_all = users.user_id
    enterprise = rng.uniform(world.seed, "sf:enterprise", uid_all) < ENTERPRISE_PROSPECT_SHARE
    prospect = large_ask | (enterprise & has_first)
    uid = uid_all[prospect]
    first_idx = first_idx[prospect]

    # When each user first paid for a sales-sized contract (any product, any link). Paid means
    # paid on at least one day (the platform's date rule): a trial converted and upsized the same
    # day is booked as the upsized contract, the purchase the warehouse and finance see.
    big = (p.quantity >= LARGE_SEATS) & p.paid_a_day
    big_paid = np.full(n, NEVER, dtype=np.int64)
    np.minimum.at(big_paid, p.user_id[big] - 1, p.paid_start_us[big])
    big_period = np.full(n, -1, dtype=np.int64)
    hit = big & (p.paid_start_us == big_paid[p.user_id - 1])
    big_period[p.user_id[hit] - 1] = np.flatnonzero(hit)  # ties: any one of them, same ARR rule

    signup = users.signup_us[uid - 1]
    won_at = big_paid[uid - 1]
    created = np.minimum(
        signup + _days(rng.uniform(world.seed, "sf:pickup", uid), PICKUP_DAYS), won_at
    )
    won = won_at <= created + MAX_CYCLE_DAYS * DAY_US
    lost_at = created + _days(
        rng.uniform(world.seed, "sf:lost_after", uid), (LOST_CYCLE_MIN_DAYS, MAX_CYCLE_DAYS)
    )
    # Pitched: the seats the prospect asked for (at least a sales-sized contract) on their plan.
    pitched_seats = np.maximum(p.quantity[first_idx], LARGE_SEATS)
    pitched = (p.price_cents[first_idx] * pitched_seats * 12 // p.billing_months[first_idx]).astype(
        np.int64
    )
    won_period = big_period[uid - 1]
    actual = np.where(won, _arr(world, np.maximum(won_period, 0)), pitched)
    expected = created + _days(rng.uniform(world.seed, "sf:expected", uid), (30, 60))
    # Headcount: a few to 20 employees per seat asked; large companies 250..5,000 whatever the ask.
    per_seat = p.quantity[first_idx] * (3 + 17 * rng.uniform(world.seed, "sf:employees", uid))
    company = 250 * np.exp(np.log(20) * rng.uniform(world.seed, "sf:company_size", uid))
    employees = np.round(np.where(enterprise[prospect], np.maximum(per_seat, company), per_seat))
    return Prospects(
        user_id=uid,
        kind=np.full(len(uid), NEW_BUSINESS),
        key=uid * 10 + NEW_BUSINESS,
        created_us=created,
        closed_us=np.where(won, won_at, lost_at),
        expected_close_us=np.where(won & (won_at == created), won_at, expected),
        final_stage=np.where(won, WON, LOST),
        last_open_stage=np.where(won, OPEN_STAGES - 1, _lost_stage(world.seed, "sf:lost_at", uid)),
        open_amount=np.where(won & (won_at == created), actual, pitched),
        amount=actual.astype(np.int64),
        employees=employees.astype(np.int64),
    )


def _growth_periods(world: World) -> tuple[np.ndarray, np.ndarray]:
    """Periods that opened by a seat increase or an upgrade (ARR grew), and the ARR increase."""
    p = world.periods
    prev = p.previous_id
    has_prev = prev >= 0
    pos = np.searchsorted(p.subscription_id, np.where(has_prev, prev, 0))
    pos = np.minimum(pos, len(p) - 1)
    has_prev &= p.subscription_id[pos] == prev
    idx = np.flatnonzero(has_prev)
    before = pos[idx]
    grew = np.isin(p.reason[before], (UPGRADE, SEAT_CHANGE))
    idx, before = idx[grew], before[grew]
    delta = _arr(world, idx) - _arr(world, before)
    keep = delta > 0
    return idx[keep], delta[keep].astype(np.int64)


@functools.lru_cache(maxsize=4)
def expansions(world: World) -> Pipeline:
    p = world.periods
    nb = new_business(world)
    account_won = np.full(len(world.users.user_id), NEVER, dtype=np.int64)
    is_won = nb.final_stage == WON
    account_won[nb.user_id[is_won] - 1] = nb.closed_us[is_won]

    # Won: one deal ahead of each growth period of a sales-managed account.
    growth, delta = _growth_periods(world)
    starts = p.started_us[growth]
    managed = starts > account_won[p.user_id[growth] - 1]
    growth, delta, starts = growth[managed], delta[managed], starts[managed]
    g_uid = p.user_id[growth]
    g_key = p.subscription_id[growth]
    lead = _days(rng.uniform(world.seed, "sf:exp_lead", g_key), EXPANSION_LEAD_DAYS)
    g_created = np.maximum(starts - lead, account_won[g_uid - 1])

    # Lost: a pitch to a paying sales-managed account that no seat growth followed.
    won_uid = nb.user_id[is_won]
    pitched = rng.uniform(world.seed, "sf:exp_pitch", won_uid) < EXPANSION_PITCH_SHARE
    l_uid = won_uid[pitched]
    l_created = account_won[l_uid - 1] + _days(
        rng.uniform(world.seed, "sf:exp_pitch_at", l_uid), EXPANSION_PITCH_AFTER_DAYS
    )
    window = EXPANSION_LOST_WINDOW_DAYS * DAY_US
    periods = pl.DataFrame({"user_id": p.user_id, "paid": p.paid_start_us, "ended": p.ended_us})
    pitches = pl.DataFrame({"user_id": l_uid, "at": l_created, "row": np.arange(len(l_uid))})
    paying = (
        pitches.join(periods, on="user_id")
        .filter((pl.col("paid") <= pl.col("at")) & (pl.col("ended") > pl.col("at")))
        .get_column("row")
        .unique()
        .to_numpy()
    )
    grows = pl.DataFrame({"user_id": g_uid, "start": starts})
    followed = (
        pitches.join(grows, on="user_id")
        .filter((pl.col("start") >= pl.col("at")) & (pl.col("start") < pl.col("at") + window))
        .get_column("row")
        .unique()
        .to_numpy()
    )
    lost = np.zeros(len(l_uid), dtype=bool)
    lost[paying] = True
    lost[followed] = False
    l_uid, l_created = l_uid[lost], l_created[lost]
    l_closed = l_created + _days(
        rng.uniform(world.seed, "sf:exp_lost_after", l_uid), (21, EXPANSION_LOST_WINDOW_DAYS)
    )
    # The pitch: a fifth to a half more on top of the ARR the account was won with.
    won_arr = np.zeros(len(world.users.user_id), dtype=np.int64)
    won_arr[won_uid - 1] = nb.amount[is_won]
    share = 0.2 + 0.3 * rng.uniform(world.seed, "sf:exp_pitch_amount", l_uid)
    l_amount = (won_arr[l_uid - 1] * share).astype(np.int64)
    n_won, n_lost = len(g_uid), len(l_uid)
    return Pipeline(
        user_id=np.concatenate([g_uid, l_uid]),
        kind=np.concatenate([np.full(n_won, EXPANSION_WON), np.full(n_lost, EXPANSION_LOST)]),
        # a won expansion is keyed by the growth period it sells (unique), a lost pitch by user
        key=np.concatenate([g_key * 10 + EXPANSION_WON, l_uid * 10 + EXPANSION_LOST]),
        created_us=np.concatenate([g_created, l_created]),
        closed_us=np.concatenate([starts, l_closed]),
        expected_close_us=np.concatenate([starts, l_created + window]),
        final_stage=np.concatenate([np.full(n_won, WON), np.full(n_lost, LOST)]),
        last_open_stage=np.concatenate(
            [np.full(n_won, OPEN_STAGES - 1), _lost_stage(world.seed, "sf:exp_lost_at", l_uid)]
        ),
        open_amount=np.concatenate([delta, l_amount]),
        amount=np.concatenate([delta, l_amount]),
    )
