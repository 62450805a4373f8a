"""Cash in USD by the FX rules (METRICS.md, "Money and FX"), from the raw Stripe tables and the
fx_rates seed: each succeeded charge converted at the rate of the month it was charged, its
refund at the rate of the month it was refunded (a charge's latest version, written when it is
refunded), both excluding tax (times the invoice's subtotal / total). Per invoice, to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl

from tests.reference.raw import is_qa, latest_versions, read_raw, read_seed

CENT = Decimal("0.01")


def _rates() -> dict[tuple[str, str], Decimal]:
    return {
        (row["currency"], row["rate_month"]): Decimal(str(row["usd_per_unit"]))
        for row in read_seed("fx_rates").iter_rows(named=True)
    }


def _usd(amount_cents: int, share: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(amount_cents) / 100 * share * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def net_collected_by_invoice(raw_dir: Path) -> dict[str, Decimal]:
    """{invoice_id: net collected USD excluding tax} for every non-void invoice of a real
    customer's Stripe account."""
    return {invoice: net for invoice, (_, net) in _invoices(raw_dir).items()}


def net_collected_by_customer(raw_dir: Path) -> dict[int, Decimal]:
    """{app user_id: net collected USD excluding tax over all their invoices} (the customer is
    the Stripe customer's app_user_id metadata)."""
    out: dict[int, Decimal] = {}
    for customer, net in _invoices(raw_dir).values():
        out[customer] = out.get(customer, Decimal(0)) + net
    return out


def _invoices(raw_dir: Path) -> dict[str, tuple[int, Decimal]]:
    rates = _rates()
    customers = latest_versions(read_raw(raw_dir, "stripe", "customers"), "customer_id").filter(
        ~is_qa(pl.col("email"))
    )
    invoices = (
        latest_versions(read_raw(raw_dir, "stripe", "invoices"), "invoice_id")
        .filter(pl.col("status") != "void")
        .join(customers.select("customer_id"), on="customer_id", how="semi")
    )
    charges = latest_versions(read_raw(raw_dir, "stripe", "charges"), "charge_id").filter(
        pl.col("status") == "succeeded"
    )

    def rate(currency: str, at) -> Decimal:
        currency = (currency or "usd").strip().lower()
        return Decimal(1) if currency == "usd" else rates[(currency, at.strftime("%Y-%m-01"))]

    app_user = {
        row["customer_id"]: int(row["app_user_id"]) for row in customers.iter_rows(named=True)
    }
    shares = {}
    out: dict[str, Decimal] = {}
    owner: dict[str, int] = {}
    for invoice in invoices.iter_rows(named=True):
        subtotal = invoice["subtotal"] if invoice["subtotal"] is not None else invoice["amount_due"]
        total = invoice["total"] if invoice["total"] is not None else invoice["amount_due"]
        shares[invoice["invoice_id"]] = (
            (Decimal(subtotal) / Decimal(total)).quantize(Decimal("1e-10"), ROUND_HALF_UP)
            if total > 0
            else Decimal(1)
        )
        out[invoice["invoice_id"]] = Decimal("0.00")
        owner[invoice["invoice_id"]] = app_user[invoice["customer_id"]]
    for charge in charges.iter_rows(named=True):
        share = shares.get(charge["invoice_id"])
        if share is None:
            continue
        net = _usd(charge["amount"], share, rate(charge["currency"], charge["created_at"]))
        if charge["amount_refunded"]:
            net -= _usd(
                charge["amount_refunded"], share, rate(charge["currency"], charge["updated_at"])
            )
        out[charge["invoice_id"]] += net
    return {invoice: (owner[invoice], net) for invoice, net in out.items()}
