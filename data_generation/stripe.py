"""Stripe tables of one day: customers, invoices (one per billing cycle) and charges (attempts).

Billing cycles are anchored at a period's paid start (the trial's end, or its start): cycle n
covers [start + n·months, start + (n+1)·months) and is invoiced at price x seats when it opens
(no proration on mid-cycle changes). Each invoice is charged an hour later; a declined charge is
retried at +3, +7 and +14 days. When the last retry fails the invoice is uncollectible and the
subscription period ends by dunning (lifecycle.py schedules the same cycle). Some paid charges are
refunded (fully or half) within a month.

A period entered late (a backdated plan or seat change, see late.py) is billed when it is entered:
the cycles that had already begun are invoiced then, for their true service period and amount.
"""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from data_generation import rng
from data_generation.frames import Day, kept_users, landed_us, strings, ts
from data_generation.ids import base62_strings
from data_generation.late import subscription_landing
from data_generation.lifecycle import DUNNING, FIRST_ATTEMPT_DELAY_US, NEVER, RETRY_OFFSETS_DAYS
from data_generation.timeutil import DAY_US, MINUTE_US, SECOND_US, add_months, months_between
from data_generation.world import World

# Declines before success on a normal cycle: 0, 1, 2 or 3 (4 = dunning, scheduled in lifecycle).
FAILURES_BEFORE_SUCCESS = (0.93, 0.045, 0.015, 0.01)
FAILURE_CODES = ("card_declined", "insufficient_funds", "expired_card", "processing_error")
FAILURE_CODE_WEIGHTS = (0.45, 0.3, 0.2, 0.05)
REFUND_SHARE, FULL_REFUND_SHARE = 0.02, 0.6
BILLING_EMAIL_CHANGE_SHARE = 0.08
# A cycle's rows can land up to 14 days (retries) + 30 days (refund) after it is invoiced.
LOOKBACK_DAYS = RETRY_OFFSETS_DAYS[-1] + 32
# Cycles of one period whose invoice may be issued in a window: the window spans < 2 months, and
# a late-entered period's cycles may have begun up to MAX_LATE_DAYS (45) days before it was billed.
CYCLE_CANDIDATES = 6


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


@functools.lru_cache(maxsize=8)
def _cycles(world: World, day: Day) -> dict[str, np.ndarray]:
    """Every billing cycle invoiced in the lookback window, with its charge attempts.

    A cycle is invoiced when it opens, or when billing learns of its period if that is later (a
    period entered late); everything Stripe does for the cycle follows from that moment.
    """
    p = world.periods
    window_lo = day.start_us - LOOKBACK_DAYS * DAY_US
    cand = np.flatnonzero(
        (p.paid_start_us < day.end_us) & (p.ended_us > window_lo) & kept_users(world, p.user_id)
    )
    months = p.billing_months[cand]
    paid_start = p.paid_start_us[cand]
    billed_from = subscription_landing(world).open_us[cand]
    # Cycles that began before their period was billed are invoiced later: look back further.
    first_start = window_lo - np.maximum(billed_from - paid_start, 0)
    first_n = np.maximum(
        months_between(paid_start, np.maximum(paid_start, first_start)) // months - 1, 0
    )
    billed_late = np.flatnonzero(billed_from > paid_start)
    period_idx, cycle_n, cycle_start, cycle_issued = [], [], [], []
    for offset in range(CYCLE_CANDIDATES):
        # The window spans < 2 months: 4 candidates cover it, more only for the few billed late.
        rows = slice(None) if offset < 4 else billed_late
        n = first_n[rows] + offset
        start = add_months(paid_start[rows], n * months[rows])
        issued = np.maximum(start, billed_from[rows])
        ok = (issued >= window_lo) & (issued < day.end_us) & (start < p.ended_us[cand[rows]])
        period_idx.append(cand[rows][ok])
        cycle_n.append(n[ok])
        cycle_start.append(start[ok])
        cycle_issued.append(issued[ok])
    pi = np.concatenate(period_idx)
    n = np.concatenate(cycle_n)
    start = np.concatenate(cycle_start)
    issued = np.concatenate(cycle_issued)
    key = p.subscription_id[pi] * 2000 + n
    failures = rng.choice(rng.uniform(world.seed, "invoice:failures", key), FAILURES_BEFORE_SUCCESS)
    dunning = (p.reason[pi] == DUNNING) & (p.dunning_cycle[pi] == n)
    failures = np.where(dunning, len(RETRY_OFFSETS_DAYS), failures)
    jitter = (
        rng.uniform(world.seed, "invoice:jitter", key[:, None], np.arange(4)[None, :])
        * 30
        * MINUTE_US
    ).astype(np.int64)
    jitter[:, 0] = 0
    attempts = (
        issued[:, None] + FIRST_ATTEMPT_DELAY_US + np.array(RETRY_OFFSETS_DAYS) * DAY_US + jitter
    )
    return {
        "period": pi,
        "n": n,
        "key": key,
        "start": start,
        "issued": issued,
        "end": add_months(p.paid_start_us[pi], (n + 1) * p.billing_months[pi]),
        "failures": failures,
        "attempts": attempts,
        "amount": p.price_cents[pi] * p.quantity[pi],
    }


def invoice_ids(seed: int, key: np.ndarray) -> pl.Series:
    return base62_strings("in_", rng.hash64(seed, "stripe:invoice", key), 24)


def invoices_day(world: World, day: Day) -> pl.DataFrame:
    """Invoice versions of the day: opened (when the first charge fails) and settled."""
    c = _cycles(world, day)
    rows = np.arange(len(c["key"]))
    failed_first = c["failures"] > 0
    final_attempt = np.minimum(c["failures"], len(RETRY_OFFSETS_DAYS) - 1)
    settled_at = c["attempts"][rows, final_attempt] + 5 * SECOND_US
    settled_status = np.where(c["failures"] >= len(RETRY_OFFSETS_DAYS), "uncollectible", "paid")
    open_idx = np.flatnonzero(failed_first & day.contains(c["attempts"][:, 0]))
    settled_idx = np.flatnonzero(day.contains(settled_at))
    idx = np.concatenate([open_idx, settled_idx])
    status = np.concatenate([np.full(len(open_idx), "open"), settled_status[settled_idx]])
    updated = np.concatenate([c["attempts"][open_idx, 0], settled_at[settled_idx]])
    p = world.periods
    pi = c["period"][idx]
    amount = c["amount"][idx]
    return pl.DataFrame(
        {
            "invoice_id": invoice_ids(world.seed, c["key"][idx]),
            "customer_id": customer_ids(world.seed, p.user_id[pi]),
            "subscription_id": p.subscription_id[pi],
            "period_start": ts(c["start"][idx]),
            "period_end": ts(c["end"][idx]),
            "amount_due": amount,
            "amount_paid": np.where(status == "paid", amount, 0),
            "currency": strings(["usd"] * len(idx)),
            "status": strings(status),
            "created_at": ts(c["issued"][idx]),
            "updated_at": ts(updated),
            "_loaded_at": ts(
                landed_us(
                    world.seed,
                    "invoices",
                    c["key"][idx] * 2 + (np.arange(len(idx)) >= len(open_idx)),
                    updated,
                    day,
                )
            ),
        }
    ).sort("updated_at", "invoice_id")


def charges_day(world: World, day: Day) -> pl.DataFrame:
    """Charge versions of the day: every attempt when made, and a second version when refunded."""
    c = _cycles(world, day)
    attempts_made = np.minimum(c["failures"] + 1, len(RETRY_OFFSETS_DAYS))
    cyc = np.repeat(np.arange(len(c["key"])), attempts_made)
    attempt = np.arange(len(cyc)) - np.repeat(
        np.cumsum(attempts_made) - attempts_made, attempts_made
    )
    created = c["attempts"][cyc, attempt]
    succeeded = attempt == c["failures"][cyc]
    charge_key = c["key"][cyc] * 4 + attempt
    u_refund = rng.uniform(world.seed, "charge:refund", charge_key)
    refunded = succeeded & (u_refund < REFUND_SHARE)
    refund_at = np.where(
        refunded,
        created
        + ((1 + 29 * rng.uniform(world.seed, "charge:refund_at", charge_key)) * DAY_US).astype(
            np.int64
        ),
        NEVER,
    )
    amount = c["amount"][cyc]
    refund_amount = np.where(
        rng.uniform(world.seed, "charge:refund_full", charge_key) < FULL_REFUND_SHARE,
        amount,
        amount // 2,
    )
    made_idx = np.flatnonzero(day.contains(created))
    refund_idx = np.flatnonzero(day.contains(refund_at))
    idx = np.concatenate([made_idx, refund_idx])
    is_refund_version = np.arange(len(idx)) >= len(made_idx)
    updated = np.where(is_refund_version, refund_at[idx], created[idx])
    code = np.array(FAILURE_CODES, dtype=object)[
        rng.choice(rng.uniform(world.seed, "charge:code", charge_key[idx]), FAILURE_CODE_WEIGHTS)
    ]
    p = world.periods
    return pl.DataFrame(
        {
            "charge_id": base62_strings(
                "ch_", rng.hash64(world.seed, "stripe:charge", charge_key[idx]), 24
            ),
            "invoice_id": invoice_ids(world.seed, c["key"][cyc[idx]]),
            "customer_id": customer_ids(world.seed, p.user_id[c["period"][cyc[idx]]]),
            "amount": amount[idx],
            "amount_refunded": np.where(is_refund_version, refund_amount[idx], 0),
            "status": strings(np.where(succeeded[idx], "succeeded", "failed")),
            "failure_code": strings(np.where(succeeded[idx], None, code)),
            "created_at": ts(created[idx]),
            "updated_at": ts(updated),
            "_loaded_at": ts(
                landed_us(
                    world.seed, "charges", charge_key[idx] * 2 + is_refund_version, updated, day
                )
            ),
        }
    ).sort("updated_at", "charge_id")
