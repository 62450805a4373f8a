"""Stripe tables of one day: customers, invoices, invoice line items and charges (attempts).

Billing cycles are anchored at a chain's billing anchor (the paid start of its first period; a
period that replaces another by a plan or seat change keeps its predecessor's anchor): boundary k
is anchor + k x billing months. Cycle 0 of a period runs from its paid start to the next boundary,
cycle n from boundary k0 + n (lifecycle.Periods.first_cycle_k). Each cycle is invoiced when it
opens at price x seats, Stripe-style with proration: a mid-cycle change's first invoice
carries a credit for the unused rest of the old plan's cycle and a prorated charge for the new plan
to the end of that cycle (two line items in invoice_line_items; invoice subtotal = sum of lines).

Customers pay in their country's currency (seeds country_billing + fx_rates: USD list prices
converted at the invoice month's rate) plus sales tax where it applies (VAT, GST): invoices carry
subtotal, tax and total in the invoice currency. An invoice whose credit exceeds its charge
(a downgrade or fewer seats) totals below zero: nothing is charged (amount_due 0, paid at once) and
the excess stays on the customer's Stripe credit balance. A few drafts are voided and reissued.

Each invoice due is charged an hour later; a declined charge is retried at +3, +7 and +14 days.
When the last retry fails the invoice is uncollectible and the period ends by dunning
(simulation/lifecycle.py schedules the same cycle). A cycle refunded in full ends its period
(reason `refund`, scheduled in simulation/lifecycle.py); other refunds are partial and leave the
subscription alone.

A period entered late (a backdated plan or seat change, see simulation/late.py) is billed when it
is entered: the cycles that had already begun are invoiced then, for their true service period
and amount.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from data_generation.extracts.frames import Day, kept_users, landed_us, strings, ts
from data_generation.extracts.ids import base62_strings
from data_generation.simulation import rng
from data_generation.simulation.late import subscription_landing
from data_generation.simulation.lifecycle import (
    DUNNING,
    FIRST_ATTEMPT_DELAY_US,
    NEVER,
    REFUND,
    RETRY_OFFSETS_DAYS,
    cycle_start,
)
from data_generation.simulation.pools import COUNTRIES
from data_generation.simulation.timeutil import (
    DAY_US,
    MINUTE_US,
    SECOND_US,
    add_months,
    day_start_us,
)
from data_generation.simulation.world import World

# Declines before success on a normal cycle: 0, 1, 2 or 3 (4 = dunning, scheduled in lifecycle).
FAILURES_BEFORE_SUCCESS = (0.93, 0.045, 0.015, 0.01)
FAILURE_CODES = ("card_declined", "insufficient_funds", "expired_card", "processing_error")
FAILURE_CODE_WEIGHTS = (0.45, 0.3, 0.2, 0.05)
# Partial refunds (half a cycle's charge) that leave the subscription alone; full refunds end the
# period and are scheduled in simulation/lifecycle.py (FULL_REFUND_PER_CYCLE).
PARTIAL_REFUND_SHARE = 0.008
VOID_DRAFT_SHARE = 0.01  # of invoices: a draft issued with an error, voided, then reissued
VOID_AFTER_MINUTES = (10.0, 50.0)  # the draft is voided before the first charge attempt (+1 h)
BILLING_EMAIL_CHANGE_SHARE = 0.08
# A cycle's rows can land up to 14 days (retries) + 30 days (refund) after it is invoiced.
LOOKBACK_DAYS = RETRY_OFFSETS_DAYS[-1] + 32


def customer_ids(seed: int, user_id: np.ndarray) -> pl.Series:
    return base62_strings("cus_", rng.hash64(seed, "stripe:customer", user_id), 14)


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _customer_versions(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(created, email changed, kept) per user: day-independent hashes, drawn once per world
    instead of once per generated day."""
    first_paid = world.first_paid_us
    user_id = world.users.user_id
    created = np.where(first_paid < NEVER, first_paid - 5 * MINUTE_US, NEVER)
    u = rng.uniform(world.seed, "stripe:email_change", user_id)
    changed = np.where(
        (created < NEVER) & (u < BILLING_EMAIL_CHANGE_SHARE),
        created
        + ((20 + 380 * rng.uniform(world.seed, "stripe:email_change_at", user_id)) * DAY_US).astype(
            np.int64
        ),
        NEVER,
    )
    return created, changed, kept_users(world, user_id)


def customers_day(world: World, day: Day) -> pl.DataFrame:
    """A Stripe customer appears when a user first pays; a few later switch to a billing email."""
    user_id = world.users.user_id
    created, changed, keep = _customer_versions(world)
    first = np.flatnonzero(day.contains(created) & keep)
    second = np.flatnonzero(day.contains(changed) & keep)
    idx = np.concatenate([first, second])
    updated = np.concatenate([created[first], changed[second]])
    users = world.users.frame[idx]
    email = pl.concat(
        [users["email"][: len(first)], ("billing@" + users["company_domain"][len(first) :])]
    )
    return pl.DataFrame(
        {
            "customer_id": customer_ids(world.seed, user_id[idx]),
            "email": email,
            "name": users["full_name"],
            "app_user_id": pl.Series(user_id[idx]).cast(pl.String),
            "created_at": ts(created[idx]),
            "updated_at": ts(updated),
            "_loaded_at": ts(
                landed_us(
                    world.seed,
                    "customers",
                    user_id[idx] * 2 + (np.arange(len(idx)) >= len(first)),
                    updated,
                    day,
                )
            ),
        }
    )


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _billing_of_periods(world: World) -> dict[str, np.ndarray]:
    """Per period: its predecessor's index (-1 if none), and per user the currency index and tax
    rate of the country the customer signed up from (a Stripe customer keeps its currency)."""
    p = world.periods
    sid = p.subscription_id
    prev = np.searchsorted(sid, np.maximum(p.previous_id, 0))
    has_prev = (p.previous_id >= 0) & (sid[np.minimum(prev, len(sid) - 1)] == p.previous_id)
    billing = world.seeds.billing
    currencies = sorted(set(billing["currency"].to_list()) | {"usd"})
    by_country = {r[0]: (currencies.index(r[1]), r[2]) for r in billing.select(
        "country_code", "currency", "tax_rate").iter_rows()}  # fmt: skip
    usd = currencies.index("usd")
    country_cur = np.array([by_country.get(c, (usd, 0.0))[0] for c, _ in COUNTRIES])
    country_tax = np.array([by_country.get(c, (usd, 0.0))[1] for c, _ in COUNTRIES])
    fx = world.seeds.fx
    months = np.unique(fx["rate_month"].to_numpy().astype("datetime64[M]").astype(np.int64))
    rates = np.ones((len(months), len(currencies)))
    fx_month = fx["rate_month"].to_numpy().astype("datetime64[M]").astype(np.int64)
    for j, cur in enumerate(currencies):
        mask = fx["currency"].to_numpy() == cur
        if mask.any():
            rates[np.searchsorted(months, fx_month[mask]), j] = fx["usd_per_unit"].to_numpy()[mask]
    return {
        "prev": np.where(has_prev, prev, -1),
        "user_currency": country_cur[world.users.country],
        "user_tax": country_tax[world.users.country],
        "currencies": np.array(currencies, dtype=object),
        "fx_months": months,
        "fx_rates": rates,
    }


def usd_per_unit(world: World, currency: np.ndarray, at_us: np.ndarray) -> np.ndarray:
    """The seed's rate of the month of at_us (months outside the seed use its first/last month)."""
    b = _billing_of_periods(world)
    month = (np.asarray(at_us) // DAY_US).astype("datetime64[D]").astype("datetime64[M]")
    row = np.searchsorted(b["fx_months"], month.astype(np.int64), side="right") - 1
    return b["fx_rates"][np.clip(row, 0, len(b["fx_months"]) - 1), currency]


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _all_cycles(world: World) -> dict[str, np.ndarray]:
    """Every billing cycle of every (kept) period invoiced before the world's horizon ends, in
    invoice-time order: its lines, totals and charge attempts.

    A cycle is invoiced when it opens, or when billing learns of its period if that is later (a
    period entered late); everything Stripe does for the cycle follows from that moment. Its
    values depend only on its period and number, so each is computed once per world; a day
    takes the rows whose times fall on it (_Timeline) among the cycles of its window
    (_in_window)."""
    p = world.periods
    horizon_end = day_start_us(world.start) + (world.horizon + 1) * DAY_US
    billed_from = subscription_landing(world).open_us
    period = np.flatnonzero((p.paid_start_us < horizon_end) & kept_users(world, p.user_id))
    period_idx, cycle_n, cycle_start_us, cycle_issued = [], [], [], []
    n = 0
    while len(period):
        # A period's cycles open one after another: once one opens after the period ended (or
        # after the horizon), so do all later ones.
        start = cycle_start(
            p.anchor_us[period], p.first_cycle_k[period], p.billing_months[period],
            p.paid_start_us[period], np.full(len(period), n),
        )  # fmt: skip
        issued = np.maximum(start, billed_from[period])
        ok = (start < p.ended_us[period]) & (issued < horizon_end)
        period = period[ok]
        period_idx.append(period)
        cycle_n.append(np.full(len(period), n, dtype=np.int64))
        cycle_start_us.append(start[ok])
        cycle_issued.append(issued[ok])
        n += 1
    order = np.argsort(np.concatenate(cycle_issued), kind="stable")
    pi = np.concatenate(period_idx)[order]
    n = np.concatenate(cycle_n)[order]
    start = np.concatenate(cycle_start_us)[order]
    issued = np.concatenate(cycle_issued)[order]
    return _cycle_values(world, pi, n, start, issued)


def _cycle_values(
    world: World, pi: np.ndarray, n: np.ndarray, start: np.ndarray, issued: np.ndarray
) -> dict[str, np.ndarray]:
    """Lines, totals and charge attempts of cycles n of periods pi (opening at `start`,
    invoiced at `issued`)."""
    p = world.periods
    b = _billing_of_periods(world)
    pm, pk0, panchor = p.billing_months[pi], p.first_cycle_k[pi], p.anchor_us[pi]
    end = add_months(panchor, (pk0 + n + 1) * pm)
    # Proration: the stub after a mid-cycle change bills the new plan for the rest of the cycle
    # and credits the old plan's unused rest (its cycle was invoiced in full when it opened).
    cycle_from = add_months(panchor, (pk0 + n) * pm)
    share = (end - start) / (end - cycle_from)
    full_usd = p.price_cents[pi] * p.quantity[pi]
    base_usd = np.round(full_usd * share).astype(np.int64)
    prev = b["prev"][pi]
    credited = (n == 0) & (prev >= 0) & (cycle_from < start)
    prev_full = np.where(credited, p.price_cents[prev] * p.quantity[prev], 0)
    credit_usd = -np.round(prev_full * share).astype(np.int64)
    # Money in the customer's currency at the invoice month's rate, tax on the subtotal.
    user = p.user_id[pi] - 1
    currency = b["user_currency"][user]
    rate = usd_per_unit(world, currency, issued)
    base = np.round(base_usd / rate).astype(np.int64)
    credit = np.round(credit_usd / rate).astype(np.int64)
    subtotal = base + credit
    tax = np.round(subtotal * b["user_tax"][user]).astype(np.int64)
    total = subtotal + tax
    amount_due = np.maximum(total, 0)

    key = p.subscription_id[pi] * 2000 + n
    failures = rng.choice(rng.uniform(world.seed, "invoice:failures", key), FAILURES_BEFORE_SUCCESS)
    dunning = (p.reason[pi] == DUNNING) & (p.dunning_cycle[pi] == n)
    failures = np.where(dunning, len(RETRY_OFFSETS_DAYS), failures)
    failures = np.where(amount_due > 0, failures, 0)  # nothing due: nothing to charge
    jitter = (
        rng.uniform(world.seed, "invoice:jitter", key[:, None], np.arange(4)[None, :])
        * 30
        * MINUTE_US
    ).astype(np.int64)
    jitter[:, 0] = 0
    attempts = (
        issued[:, None] + FIRST_ATTEMPT_DELAY_US + np.array(RETRY_OFFSETS_DAYS) * DAY_US + jitter
    )
    rows = np.arange(len(key))
    final_attempt = np.minimum(failures, len(RETRY_OFFSETS_DAYS) - 1)
    settled_at = attempts[rows, final_attempt] + 5 * SECOND_US
    lo, hi = VOID_AFTER_MINUTES
    voided_at = np.where(
        rng.uniform(world.seed, "invoice:void", key) < VOID_DRAFT_SHARE,
        issued
        + ((lo + (hi - lo) * rng.uniform(world.seed, "invoice:void_at", key)) * MINUTE_US).astype(
            np.int64
        ),
        NEVER,
    )
    return {
        "period": pi,
        "n": n,
        "key": key,
        "start": start,
        "issued": issued,
        "end": end,
        "failures": failures,
        "attempts": attempts,
        "settled_at": settled_at,
        # An invoice's first version: opened by a failed first attempt, or settled.
        "first_version_at": np.where(failures > 0, attempts[:, 0], settled_at),
        "voided_at": voided_at,
        "prev": prev,
        "base": base,
        "credit": credit,
        "credited": credited,
        "currency": currency,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
        "amount_due": amount_due,
    }


@dataclass(frozen=True, eq=False)
class _Timeline:
    """Rows sorted by one of their times, so the rows whose time falls on a day are one slice."""

    order: np.ndarray
    times: np.ndarray

    @classmethod
    def of(cls, times: np.ndarray) -> _Timeline:
        order = np.argsort(times, kind="stable")
        return cls(order, times[order])

    def on(self, day: Day) -> np.ndarray:
        """The rows whose time is on `day`, in row order (as np.flatnonzero would give them)."""
        lo, hi = np.searchsorted(self.times, [day.start_us, day.end_us])
        return np.sort(self.order[lo:hi])


def _in_window(world: World, cycle: np.ndarray, day: Day) -> np.ndarray:
    """Mask of the cycles (rows of _all_cycles) a day's rows may come from: invoiced in its
    lookback window (LOOKBACK_DAYS; a cycle with a row on the day was invoiced before the day
    ended), of a period that had not ended before the window opened."""
    c = _all_cycles(world)
    window_lo = day.start_us - LOOKBACK_DAYS * DAY_US
    return (c["issued"][cycle] >= window_lo) & (
        world.periods.ended_us[c["period"][cycle]] > window_lo
    )


def _on_day(
    world: World, timeline: _Timeline, day: Day, cycle: np.ndarray | None = None
) -> np.ndarray:
    """Rows of `timeline` on `day` whose cycle is in the day's window: `cycle` maps a row to its
    cycle; None when the rows are the cycles themselves."""
    rows = timeline.on(day)
    return rows[_in_window(world, rows if cycle is None else cycle[rows], day)]


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _invoice_timelines(world: World) -> tuple[_Timeline, _Timeline, _Timeline, _Timeline]:
    """Per cycle: when its invoice opened (a failed first attempt), settled, its draft was voided,
    and its first version landed: each a time on one day, so each day looks up its own."""
    c = _all_cycles(world)
    opened = np.where(c["failures"] > 0, c["attempts"][:, 0], NEVER)
    return (
        _Timeline.of(opened),
        _Timeline.of(c["settled_at"]),
        _Timeline.of(c["voided_at"]),
        _Timeline.of(c["first_version_at"]),
    )


def invoice_ids(seed: int, key: np.ndarray) -> pl.Series:
    return base62_strings("in_", rng.hash64(seed, "stripe:invoice", key), 24)


def void_invoice_ids(seed: int, key: np.ndarray) -> pl.Series:
    return base62_strings("in_", rng.hash64(seed, "stripe:void_invoice", key), 24)


def invoices_day(world: World, day: Day) -> pl.DataFrame:
    """Invoice versions of the day: opened (when the first charge fails), settled, and voided
    drafts (a draft is voided before its reissued twin is first charged)."""
    c = _all_cycles(world)
    opened, settled, voided, _ = _invoice_timelines(world)
    open_idx = _on_day(world, opened, day)
    settled_idx = _on_day(world, settled, day)
    void_idx = _on_day(world, voided, day)
    idx = np.concatenate([open_idx, settled_idx, void_idx])
    kind = np.repeat([0, 1, 2], [len(open_idx), len(settled_idx), len(void_idx)])
    settled_status = np.where(
        c["failures"][idx] >= len(RETRY_OFFSETS_DAYS), "uncollectible", "paid"
    )
    status = np.select([kind == 0, kind == 1], ["open", settled_status], "void").astype(object)
    updated = np.select(
        [kind == 0, kind == 1],
        [c["attempts"][idx, 0], c["settled_at"][idx]],
        c["voided_at"][idx],
    )
    p = world.periods
    pi = c["period"][idx]
    key = c["key"][idx]
    due = c["amount_due"][idx]
    ids = invoice_ids(world.seed, key)
    if len(void_idx):
        ids = pl.select(
            pl.when(pl.Series(kind == 2)).then(void_invoice_ids(world.seed, key)).otherwise(ids)
        ).to_series()
    return pl.DataFrame(
        {
            "invoice_id": ids,
            "customer_id": customer_ids(world.seed, p.user_id[pi]),
            "subscription_id": p.subscription_id[pi],
            "period_start": ts(c["start"][idx]),
            "period_end": ts(c["end"][idx]),
            "amount_due": due,
            "amount_paid": np.where(status == "paid", due, 0),
            "currency": strings(_billing_of_periods(world)["currencies"][c["currency"][idx]]),
            "status": strings(status),
            "created_at": ts(c["issued"][idx]),
            "updated_at": ts(updated),
            "subtotal": c["subtotal"][idx],
            "tax": c["tax"][idx],
            "total": c["total"][idx],
            "_loaded_at": ts(landed_us(world.seed, "invoices", key * 4 + kind, updated, day)),
        }
    ).sort("updated_at", "invoice_id")


def invoice_line_items_day(world: World, day: Day) -> pl.DataFrame:
    """Line items of the invoices first landed on the day (they land with the invoice): the plan's
    line (the whole cycle, or its prorated rest after a change) and the old plan's credit."""
    c = _all_cycles(world)
    _, _, voided, first_version = _invoice_timelines(world)
    real = _on_day(world, first_version, day)
    void = _on_day(world, voided, day)
    inv = np.concatenate([real, void])
    is_void = np.arange(len(inv)) >= len(real)
    # One plan line per invoice, then one credit line per credited invoice.
    credit_rows = np.flatnonzero(c["credited"][inv])
    rows = np.concatenate([np.arange(len(inv)), credit_rows])
    is_credit = np.arange(len(rows)) >= len(inv)
    ci = inv[rows]
    p = world.periods
    period = np.where(is_credit, c["prev"][ci], c["period"][ci])
    invoice_key = c["key"][ci] * 2 + is_void[rows]
    plan_ids = pl.Series(np.array(world.seeds.plan_ids()).ravel(), dtype=pl.String)
    invoice_id = invoice_ids(world.seed, c["key"][ci])
    if is_void.any():
        invoice_id = pl.select(
            pl.when(pl.Series(is_void[rows]))
            .then(void_invoice_ids(world.seed, c["key"][ci]))
            .otherwise(invoice_id)
        ).to_series()
    landed_at = np.where(is_void[rows], c["voided_at"][ci], c["first_version_at"][ci])
    return pl.DataFrame(
        {
            "line_item_id": base62_strings(
                "il_", rng.hash64(world.seed, "stripe:line", invoice_key * 2 + is_credit), 24
            ),
            "invoice_id": invoice_id,
            "subscription_id": p.subscription_id[period],
            "plan_id": plan_ids.gather(p.plan[period]),
            "quantity": pl.Series(p.quantity[period]).cast(pl.Int32),
            "amount": np.where(is_credit, c["credit"][ci], c["base"][ci]),
            "currency": strings(_billing_of_periods(world)["currencies"][c["currency"][ci]]),
            "proration": c["credited"][ci],
            "period_start": ts(c["start"][ci]),
            "period_end": ts(c["end"][ci]),
            "created_at": ts(c["issued"][ci]),
            "_loaded_at": ts(
                landed_us(world.seed, "invoice_line_items", invoice_key, landed_at, day)
            ),
        }
    ).sort("created_at", "line_item_id")


def charges_day(world: World, day: Day) -> pl.DataFrame:
    """Charge versions of the day: every attempt when made, and a second version when refunded.

    The charge that paid a cycle the customer got back in full (lifecycle reason `refund`) is
    refunded when the period ends; a few others are refunded by half."""
    c = _all_cycles(world)
    v = _charge_versions(world)
    made_idx = _on_day(world, v["made"], day, v["cycle"])
    refund_idx = _on_day(world, v["refunded"], day, v["cycle"])
    idx = np.concatenate([made_idx, refund_idx])
    cyc, created, succeeded = v["cycle"][idx], v["created"][idx], v["succeeded"][idx]
    charge_key = v["charge_key"][idx]
    is_refund_version = np.arange(len(idx)) >= len(made_idx)
    updated = np.where(is_refund_version, v["refund_at"][idx], created)
    code = np.array(FAILURE_CODES, dtype=object)[
        rng.choice(rng.uniform(world.seed, "charge:code", charge_key), FAILURE_CODE_WEIGHTS)
    ]
    return pl.DataFrame(
        {
            "charge_id": base62_strings(
                "ch_", rng.hash64(world.seed, "stripe:charge", charge_key), 24
            ),
            "invoice_id": invoice_ids(world.seed, c["key"][cyc]),
            "customer_id": customer_ids(world.seed, world.periods.user_id[c["period"][cyc]]),
            "amount": c["amount_due"][cyc],
            "amount_refunded": np.where(is_refund_version, v["refund_amount"][idx], 0),
            "status": strings(np.where(succeeded, "succeeded", "failed")),
            "failure_code": strings(np.where(succeeded, None, code)),
            "created_at": ts(created),
            "updated_at": ts(updated),
            "currency": strings(_billing_of_periods(world)["currencies"][c["currency"][cyc]]),
            "_loaded_at": ts(
                landed_us(world.seed, "charges", charge_key * 2 + is_refund_version, updated, day)
            ),
        }
    ).sort("updated_at", "charge_id")


@functools.lru_cache(maxsize=4)  # per world; bounded so old worlds can be freed
def _charge_versions(world: World) -> dict[str, Any]:
    """Every charge attempt of every cycle of the world, with its refund (NEVER if none) and
    timelines of both, so a day looks its versions up instead of recomputing its window."""
    c = _all_cycles(world)
    attempts_made = np.where(
        c["amount_due"] > 0, np.minimum(c["failures"] + 1, len(RETRY_OFFSETS_DAYS)), 0
    )
    cyc = np.repeat(np.arange(len(c["key"])), attempts_made)
    attempt = np.arange(len(cyc)) - np.repeat(
        np.cumsum(attempts_made) - attempts_made, attempts_made
    )
    created = c["attempts"][cyc, attempt]
    succeeded = attempt == c["failures"][cyc]
    charge_key = c["key"][cyc] * 4 + attempt
    p = world.periods
    pi = c["period"][cyc]
    amount = c["amount_due"][cyc]
    # A full refund ends the period at the refund; should the charge succeed later than that
    # (a late-billed period's retries), it is refunded a minute after it succeeds.
    full = succeeded & (p.reason[pi] == REFUND) & (p.refund_cycle[pi] == c["n"][cyc])
    partial = (
        succeeded
        & ~full
        & (rng.uniform(world.seed, "charge:refund", charge_key) < PARTIAL_REFUND_SHARE)
    )
    refund_at = np.select(
        [full, partial],
        [
            np.maximum(p.ended_us[pi], created + MINUTE_US),
            created
            + ((1 + 29 * rng.uniform(world.seed, "charge:refund_at", charge_key)) * DAY_US).astype(
                np.int64
            ),
        ],
        NEVER,
    )
    refund_amount = np.where(full, amount, amount // 2)
    return {
        "cycle": cyc,
        "created": created,
        "succeeded": succeeded,
        "charge_key": charge_key,
        "refund_at": refund_at,
        "refund_amount": refund_amount,
        "made": _Timeline.of(created),
        "refunded": _Timeline.of(refund_at),
    }
