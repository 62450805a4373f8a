"""Read and validate the dbt seeds the generator shares with the warehouse.

techflow_dbt/seeds/ is the single source of truth for plans, features and UTM normalisation; the
generator reads them instead of keeping its own copy, so a price change lands in both at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from data_generation.errors import InvalidInputError

DEFAULT_SEEDS_DIR = Path(__file__).resolve().parents[1] / "techflow_dbt" / "seeds"

PRODUCTS: tuple[str, ...] = ("cloudsync", "teamchat", "datahub")
TIERS: tuple[str, ...] = ("starter", "pro", "enterprise")
BILLING_PERIODS: tuple[str, ...] = ("monthly", "annual")

_REQUIRED_COLUMNS = {
    "plan_catalog": {
        "plan_id": pl.String,
        "product": pl.String,
        "tier": pl.String,
        "billing_period": pl.String,
        "billing_months": pl.Int64,
        "price_per_period_cents": pl.Int64,
    },
    "product_features": {
        "product": pl.String,
        "feature": pl.String,
        "min_tier": pl.String,
        "usage_weight": pl.Float64,
    },
    "utm_channel_mapping": {"utm_source": pl.String, "utm_medium": pl.String, "channel": pl.String},
    # Billing: the currency and sales tax of a customer's country, and monthly rates
    # to USD; the revenue marts read the same files to report USD net of tax.
    "country_billing": {
        "country_code": pl.String,
        "currency": pl.String,
        "tax_type": pl.String,
        "tax_rate": pl.Float64,
    },
    "fx_rates": {"rate_month": pl.String, "currency": pl.String, "usd_per_unit": pl.Float64},
}


@dataclass(frozen=True)
class Seeds:
    """The validated seeds.

    plans: one row per (product, tier, billing_period) with plan_id, billing_months and
    price_per_period_cents; features: product, feature, min_tier, usage_weight;
    utm_channels: {(utm_source, utm_medium): channel}.
    """

    plans: pl.DataFrame
    features: pl.DataFrame
    utm_channels: dict[tuple[str, str], str]
    billing: pl.DataFrame  # country_code, currency, tax_type, tax_rate (unlisted: usd, no tax)
    fx: pl.DataFrame  # rate_month (Date), currency, usd_per_unit

    def plan_ids(self) -> list[list[list[str]]]:
        """plan_id indexed [product][tier][billing] in PRODUCTS/TIERS/BILLING_PERIODS order."""
        lookup = {
            (r["product"], r["tier"], r["billing_period"]): r["plan_id"]
            for r in self.plans.iter_rows(named=True)
        }
        return [[[lookup[(p, t, b)] for b in BILLING_PERIODS] for t in TIERS] for p in PRODUCTS]

    def prices_cents(self) -> list[list[list[int]]]:
        """price_per_period_cents indexed [product][tier][billing]."""
        lookup = {
            (r["product"], r["tier"], r["billing_period"]): r["price_per_period_cents"]
            for r in self.plans.iter_rows(named=True)
        }
        return [[[lookup[(p, t, b)] for b in BILLING_PERIODS] for t in TIERS] for p in PRODUCTS]


def _validate_billing(billing: pl.DataFrame, fx: pl.DataFrame, seeds_dir: Path) -> pl.DataFrame:
    """Check country_billing and fx_rates together; return fx with rate_month as a Date."""
    path = seeds_dir / "country_billing.csv"
    if billing["country_code"].is_duplicated().any():
        raise InvalidInputError(
            f"seed file {path}: a country_code appears twice; keep one row each"
        )
    bad_rate = billing.filter((pl.col("tax_rate") < 0) | (pl.col("tax_rate") >= 1))
    if bad_rate.height:
        raise InvalidInputError(
            f"seed file {path}: tax_rate of {bad_rate['country_code'][0]} must be in [0, 1)"
        )
    fx_path = seeds_dir / "fx_rates.csv"
    month = pl.col("rate_month").str.to_date("%Y-%m-%d", strict=False)
    bad_month = fx.filter(month.is_null() | (month.dt.day() != 1))
    if bad_month.height:
        raise InvalidInputError(
            f"seed file {fx_path}: rate_month {bad_month['rate_month'][0]!r} must be the first "
            "day of a month as YYYY-MM-01"
        )
    fx = fx.with_columns(month.alias("rate_month"))
    if (fx["usd_per_unit"] <= 0).any():
        raise InvalidInputError(f"seed file {fx_path}: usd_per_unit must be positive")
    if fx.select("rate_month", "currency").is_duplicated().any():
        raise InvalidInputError(f"seed file {fx_path}: one rate per rate_month and currency")
    months = fx["rate_month"].unique()
    for currency in billing["currency"].unique().to_list():
        have = fx.filter(pl.col("currency") == currency)["rate_month"]
        if have.len() != months.len():
            raise InvalidInputError(
                f"seed file {fx_path}: currency {currency!r} (used in {path.name}) needs a rate "
                f"for every rate_month ({months.len()}), has {have.len()}"
            )
    return fx.sort("rate_month", "currency")


def _read_seed(seeds_dir: Path, name: str) -> pl.DataFrame:
    path = seeds_dir / f"{name}.csv"
    if not path.is_file():
        raise InvalidInputError(
            f"seed file {path} is missing; restore it from git or pass --seeds-dir pointing at "
            "techflow_dbt/seeds"
        )
    try:
        frame = pl.read_csv(path, infer_schema_length=0)  # all text; typed below with clear errors
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InvalidInputError(
            f"seed file {path} is not a readable CSV ({exc}); fix its format"
        ) from exc
    wanted = _REQUIRED_COLUMNS[name]
    missing = sorted(set(wanted) - set(frame.columns))
    if missing:
        raise InvalidInputError(
            f"seed file {path} lacks column(s) {', '.join(missing)}; its header must include "
            f"{', '.join(wanted)}"
        )
    if frame.height == 0:
        raise InvalidInputError(f"seed file {path} has no rows; restore it from git")
    for column, dtype in wanted.items():
        if dtype == pl.String:
            invalid = pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")
        else:
            invalid = pl.col(column).cast(dtype, strict=False).is_null()
        bad = frame.with_row_index("row").filter(invalid)
        if bad.height:
            line = int(bad["row"][0]) + 2  # 1-based, after the header line
            kind = "value" if dtype == pl.String else "number"
            raise InvalidInputError(
                f"seed file {path}, line {line}: column {column} must be a non-empty {kind}; "
                "fix that row"
            )
    return frame.with_columns(pl.col(c).cast(t) for c, t in wanted.items())


def _validate_plans(plans: pl.DataFrame, path: Path) -> None:
    duplicates = plans.filter(pl.col("plan_id").is_duplicated())["plan_id"].unique().to_list()
    if duplicates:
        raise InvalidInputError(
            f"seed file {path}: plan_id {duplicates[0]} appears twice; ids must be unique"
        )
    for column, allowed in (
        ("product", PRODUCTS),
        ("tier", TIERS),
        ("billing_period", BILLING_PERIODS),
    ):
        unknown = sorted(set(plans[column].to_list()) - set(allowed))
        if unknown:
            raise InvalidInputError(
                f"seed file {path}: column {column} has unknown value {unknown[0]!r}; "
                f"allowed: {', '.join(allowed)}"
            )
    expected = {(p, t, b) for p in PRODUCTS for t in TIERS for b in BILLING_PERIODS}
    present = set(plans.select("product", "tier", "billing_period").iter_rows())
    if present != expected or plans.height != len(expected):
        missing = sorted(expected - present)
        detail = (
            f"missing {'/'.join(missing[0])}" if missing else "duplicate product/tier/billing rows"
        )
        raise InvalidInputError(
            f"seed file {path}: needs exactly one plan per product x tier x billing period "
            f"({len(expected)} rows), {detail}"
        )
    months = plans.select(
        pl.col("billing_months")
        == pl.when(pl.col("billing_period") == "annual").then(12).otherwise(1)
    ).to_series()
    if not months.all():
        raise InvalidInputError(
            f"seed file {path}: billing_months must be 1 for monthly and 12 for annual plans"
        )
    if (plans["price_per_period_cents"] <= 0).any():
        raise InvalidInputError(
            f"seed file {path}: price_per_period_cents must be a positive integer"
        )


def load_seeds(seeds_dir: Path = DEFAULT_SEEDS_DIR) -> Seeds:
    """Read every seed the generator shares with dbt; InvalidInputError if one is broken."""
    seeds_dir = Path(seeds_dir)
    plans = _read_seed(seeds_dir, "plan_catalog")
    _validate_plans(plans, seeds_dir / "plan_catalog.csv")
    features = _read_seed(seeds_dir, "product_features")
    bad_tier = features.filter(
        ~pl.col("min_tier").is_in(TIERS) | ~pl.col("product").is_in(PRODUCTS)
    )
    if bad_tier.height:
        raise InvalidInputError(
            f"seed file {seeds_dir / 'product_features.csv'}: feature "
            f"{bad_tier['feature'][0]!r} has an "
            f"unknown product or min_tier; use one of {', '.join(PRODUCTS)} / {', '.join(TIERS)}"
        )
    for product in PRODUCTS:
        if (
            features.filter(
                (pl.col("product") == product) & (pl.col("min_tier") == "starter")
            ).height
            == 0
        ):
            raise InvalidInputError(
                f"seed file {seeds_dir / 'product_features.csv'}: product {product} "
                "needs at least one "
                "starter feature"
            )
    mapping = _read_seed(seeds_dir, "utm_channel_mapping")
    utm_channels = {
        (r[0], r[1]): r[2]
        for r in mapping.select("utm_source", "utm_medium", "channel").iter_rows()
    }
    billing = _read_seed(seeds_dir, "country_billing")
    fx = _validate_billing(billing, _read_seed(seeds_dir, "fx_rates"), seeds_dir)
    return Seeds(plans=plans, features=features, utm_channels=utm_channels, billing=billing, fx=fx)
