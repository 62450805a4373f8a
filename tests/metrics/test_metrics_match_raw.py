"""The headline metrics, asked of the semantic layer the way the dashboards ask, equal the same
metrics recomputed in Python straight from the raw Parquet (tests/reference/), month by month, on
the reference world (over a year of paying customers). Nothing on the reference side reads the
warehouse: a definition changed in a model or in the semantic YAML shows up here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
import pytest

from techflow_metrics.semantic import MetricStore
from tests.reference import acquisition, cohorts, retention, revenue, trials
from tests.reference.mrr import customer_mrr_by_day, movements, mrr_by_day
from tests.support import AS_OF, DbtProject, reference_world_start

pytestmark = pytest.mark.slow

MONTH = "metric_time__month"
# The last month that has ended by the as-of day (AS_OF is mid-June).
LAST_COMPLETE_MONTH = (AS_OF.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def month_of(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def cents(value: Decimal | None) -> int:
    return round((value or Decimal(0)) * 100)


@pytest.fixture(scope="module")
def store(reference_world: DbtProject, semantic_manifest) -> Iterator[MetricStore]:
    """The semantic layer as `make metrics` and the dashboards read it: the published warehouse,
    read-only."""
    with duckdb.connect(str(reference_world.published), read_only=True) as con:
        yield MetricStore(con, semantic_manifest)


@pytest.fixture(scope="module")
def raw_mrr(reference_world: DbtProject) -> pl.DataFrame:
    """MRR per customer x product x day recomputed from raw (days with MRR > 0)."""
    return mrr_by_day(reference_world.raw_dir, reference_world_start(), AS_OF)


def by_month(store: MetricStore, metrics: list[str], *dims: str) -> dict[Any, dict[str, Any]]:
    frame = store.query(metrics, [MONTH, *dims])
    out = {}
    for row in frame.iter_rows(named=True):
        key = (month_of(row[MONTH]), *(row[d] for d in dims))
        out[key[0] if not dims else key] = row
    return out


def test_the_reference_world_has_more_than_a_year_of_paying_customers(
    raw_mrr: pl.DataFrame,
) -> None:
    customers = raw_mrr.filter(pl.col("date_day") == AS_OF)["customer_id"].n_unique()
    assert customers >= 150, "enough customers for retention rates to mean something"
    first_paid = raw_mrr["date_day"].min()
    assert (LAST_COMPLETE_MONTH - first_paid).days > 365, "trailing-12-month cohorts need a year"


def test_mrr_by_month_and_product_is_raw_mrr_on_each_months_last_day(
    store: MetricStore, raw_mrr: pl.DataFrame
) -> None:
    """Point in time: a month's MRR is its last day's, the month in progress the as-of day's."""
    got = by_month(store, ["mrr"], "mrr_line__product")
    checked = 0
    for end in [*retention.month_ends(reference_world_start(), AS_OF), AS_OF]:
        on_day = (
            raw_mrr.filter(pl.col("date_day") == end)
            .group_by("product")
            .agg(pl.col("mrr_cents").sum())
        )
        for product, mrr_cents in on_day.iter_rows():
            assert cents(got[(end.replace(day=1), product)]["mrr"]) == mrr_cents, (end, product)
            checked += 1
    assert checked >= 3 * 15


def test_product_movements_equal_raw_row_for_row(
    reference_world: DbtProject, raw_mrr: pl.DataFrame
) -> None:
    """fct_mrr_daily's every row — MRR, previous MRR and movement of a customer x product on a
    day — equals the movements recomputed from raw."""
    expected = movements(raw_mrr, ["customer_id", "product"], AS_OF).sort(
        "customer_id", "product", "date_day"
    )
    actual = reference_world.query_pl(
        "select customer_id, product, date_day, cast(mrr * 100 as bigint) as mrr_cents, "
        "cast(previous_mrr * 100 as bigint) as previous_mrr_cents, movement "
        "from finance.fct_mrr_daily order by customer_id, product, date_day"
    )
    assert actual.select(expected.columns).rows() == expected.rows()


def test_customer_movements_and_their_metrics_equal_raw(
    reference_world: DbtProject, store: MetricStore, raw_mrr: pl.DataFrame
) -> None:
    """Customer level (all products summed): fct_customer_mrr_daily row for row, and each
    movement metric by month, equal raw — a product switch is no churn, a cross-sell expansion."""
    expected = movements(customer_mrr_by_day(raw_mrr), ["customer_id"], AS_OF)
    actual = reference_world.query_pl(
        "select customer_id, date_day, cast(mrr * 100 as bigint) as mrr_cents, "
        "cast(previous_mrr * 100 as bigint) as previous_mrr_cents, movement "
        "from finance.fct_customer_mrr_daily order by customer_id, date_day"
    )
    assert actual.rows() == expected.sort("customer_id", "date_day").select(actual.columns).rows()
    sums = (
        expected.with_columns(
            month=pl.col("date_day").dt.truncate("1mo"),
            change=pl.col("mrr_cents") - pl.col("previous_mrr_cents"),
        )
        .group_by("month", "movement")
        .agg(pl.col("change").sum())
    )
    names = {
        "new": "new_mrr",
        "reactivation": "reactivation_mrr",
        "expansion": "expansion_mrr",
        "contraction": "contraction_mrr",
        "churn": "churned_mrr",
    }
    got = by_month(store, [*names.values(), "net_new_mrr"])
    for month, movement, change in sums.filter(pl.col("movement") != "unchanged").iter_rows():
        assert cents(got[month][names[movement]]) == change, (month, movement)
    assert any(m == "expansion" for _, m, _ in sums.iter_rows())


def test_nrr_grr_and_logo_churn_by_month_equal_raw(
    store: MetricStore, raw_mrr: pl.DataFrame
) -> None:
    """Every complete month: customers paying at its start, their MRR at its end vs then."""
    expected = retention.monthly_retention(
        customer_mrr_by_day(raw_mrr), ["customer_id"], reference_world_start(), AS_OF
    )
    got = by_month(
        store,
        [
            "nrr",
            "grr",
            "logo_churn_rate",
            "customers_at_start",
            "churned_customers",
            "retention_start_mrr",
            "retention_end_mrr",
            "retained_mrr",
        ],
    )
    assert len(expected) >= 14 and max(expected) == LAST_COMPLETE_MONTH
    assert set(got) == set(expected), "one value per complete month with a cohort, no other"
    for month, want in expected.items():
        row = got[month]
        assert row["customers_at_start"] == want["members"], month
        assert row["churned_customers"] == want["churned"], month
        assert cents(row["retention_start_mrr"]) == want["start_mrr_cents"], month
        assert cents(row["retention_end_mrr"]) == want["end_mrr_cents"], month
        assert cents(row["retained_mrr"]) == want["retained_mrr_cents"], month
        assert row["nrr"] == pytest.approx(float(want["nrr"]), rel=1e-12), month
        assert row["grr"] == pytest.approx(float(want["grr"]), rel=1e-12), month
        assert row["logo_churn_rate"] == pytest.approx(float(want["logo_churn"]), rel=1e-12)
        assert 0 <= row["grr"] <= 1 and 0 <= row["logo_churn_rate"] <= 1


def test_trailing_12_month_nrr_and_grr_equal_raw(store: MetricStore, raw_mrr: pl.DataFrame) -> None:
    expected = retention.trailing_12m_retention(
        customer_mrr_by_day(raw_mrr), reference_world_start(), AS_OF
    )
    got = by_month(store, ["nrr_trailing_12m", "grr_trailing_12m"])
    assert len(expected) >= 3, "the reference world has months with a year-earlier cohort"
    for month, want in expected.items():
        assert got[month]["nrr_trailing_12m"] == pytest.approx(float(want["nrr"]), rel=1e-12)
        assert got[month]["grr_trailing_12m"] == pytest.approx(float(want["grr"]), rel=1e-12)
    without = {m for m, row in got.items() if row["nrr_trailing_12m"] is None}
    assert without == set(got) - set(expected), "null exactly where nobody paid a year earlier"


def test_product_level_retention_equals_raw(store: MetricStore, raw_mrr: pl.DataFrame) -> None:
    """product_nrr / product_grr / product_churn_rate: customer x product pairs, per product."""
    got = by_month(
        store, ["product_nrr", "product_grr", "product_churn_rate"], "product_month__product"
    )
    checked = 0
    for product in ("cloudsync", "datahub", "teamchat"):
        pairs = raw_mrr.filter(pl.col("product") == product)
        expected = retention.monthly_retention(
            pairs, ["customer_id", "product"], reference_world_start(), AS_OF
        )
        for month, want in expected.items():
            row = got[(month, product)]
            assert row["product_nrr"] == pytest.approx(float(want["nrr"]), rel=1e-12)
            assert row["product_grr"] == pytest.approx(float(want["grr"]), rel=1e-12)
            assert row["product_churn_rate"] == pytest.approx(float(want["logo_churn"]), rel=1e-12)
            checked += 1
    assert checked >= 3 * 12


def test_the_month_in_progress_is_never_shown_as_a_month(
    store: MetricStore, reference_world: DbtProject
) -> None:
    """The mart keeps the as-of month, flagged partial; no retention, cohort or adoption metric
    returns it."""
    [(flag,)] = reference_world.query(
        "select distinct is_complete_month from finance.fct_customer_retention_monthly "
        "where retention_month = ?",
        [AS_OF.replace(day=1)],
    )
    assert flag is False
    for metrics in (
        ["nrr", "grr", "logo_churn_rate", "nrr_trailing_12m"],
        ["product_nrr", "product_churn_rate"],
        ["cohort_retention_rate", "cohort_size"],
        ["feature_adoption_rate"],
    ):
        months = {month_of(m) for m in store.query(metrics, [MONTH])[MONTH]}
        assert max(months) == LAST_COMPLETE_MONTH, metrics


def test_trial_to_paid_conversion_by_start_month_equals_raw(
    store: MetricStore, reference_world: DbtProject
) -> None:
    """A trial belongs to the month it started; the rate is over the trials decided by the
    as-of day, so it can never exceed 1."""
    expected = trials.conversion_by_start_month(reference_world.raw_dir, AS_OF)
    got = by_month(
        store, ["trials_started", "trials_decided", "trials_converted", "trial_to_paid_conversion"]
    )
    assert expected.height >= 12
    for month, started, decided, converted in expected.iter_rows():
        row = got[month]
        assert (row["trials_started"], row["trials_decided"], row["trials_converted"]) == (
            started,
            decided,
            converted,
        )
        rate = row["trial_to_paid_conversion"]
        assert rate == (pytest.approx(converted / decided, rel=1e-12) if decided else None)
        assert rate is None or 0 <= rate <= 1


def test_cac_and_roas_by_month_and_channel_equal_raw(
    store: MetricStore, reference_world: DbtProject, raw_mrr: pl.DataFrame
) -> None:
    """CAC = spend / paying customers acquired (first touch, signup month); ROAS = revenue
    collected to date from them / spend — both from raw Segment, app, Stripe and ad data."""
    raw = reference_world.raw_dir
    first_paid = raw_mrr.select("customer_id").unique()
    expected = acquisition.cac_by_month_and_channel(raw, first_paid)
    got = by_month(
        store, ["ad_spend", "acquired_paying_customers", "cac", "roas"], "campaign_month__channel"
    )
    touches = acquisition.first_touches(raw)
    net_by_customer = revenue.net_collected_by_customer(raw)
    checked = 0
    for month, channel, spend_cents, paying in expected.iter_rows():
        row = got[(month, channel)]
        assert cents(row["ad_spend"]) == spend_cents, (month, channel)
        assert (row["acquired_paying_customers"] or 0) == (paying or 0), (month, channel)
        if paying:
            assert row["cac"] == pytest.approx(spend_cents / 100 / paying, rel=1e-9)
            checked += 1
        cohort = touches.filter(
            (pl.col("acquisition_month") == month) & (pl.col("channel") == channel)
        )["user_id"]
        attributed = sum((net_by_customer.get(u, Decimal(0)) for u in cohort), Decimal(0))
        assert row["roas"] == pytest.approx(float(attributed) / (spend_cents / 100), rel=1e-9)
    assert checked >= 10, "paid channels acquire paying customers in most months"


def test_collected_revenue_equals_cash_converted_at_its_own_dates(
    store: MetricStore, reference_world: DbtProject
) -> None:
    """Per invoice and by month: charges at their charge month's rate, refunds at theirs."""
    expected = revenue.net_collected_by_invoice(reference_world.raw_dir)
    actual = dict(
        reference_world.query("select invoice_id, net_collected from finance.fct_revenue")
    )
    assert actual == expected
    dates = dict(reference_world.query("select invoice_id, invoice_date from finance.fct_revenue"))
    monthly: dict[dt.date, Decimal] = {}
    for invoice_id, net in expected.items():
        month = dates[invoice_id].replace(day=1)
        monthly[month] = monthly.get(month, Decimal(0)) + net
    got = by_month(store, ["collected_revenue"])
    assert {m: row["collected_revenue"] for m, row in got.items()} == monthly


def test_cohort_retention_by_months_since_signup_equals_raw(
    store: MetricStore, reference_world: DbtProject
) -> None:
    """Accounts active in a month since signup / accounts of the signup month; the cohort's size
    is counted once, the same in every month since signup."""
    expected = cohorts.cohort_retention(reference_world.raw_dir, LAST_COMPLETE_MONTH)
    frame = store.query(
        ["cohort_size", "cohort_active_users", "cohort_retention_rate"],
        [MONTH, "cohort_member_month__months_since_signup"],
    )
    got = {
        (month_of(r[MONTH]), r["cohort_member_month__months_since_signup"]): r
        for r in frame.iter_rows(named=True)
    }
    assert expected.height >= 100
    for cohort, month, members, active in expected.iter_rows():
        since = (month.year - cohort.year) * 12 + month.month - cohort.month
        row = got[(cohort, since)]
        assert (row["cohort_size"], row["cohort_active_users"]) == (members, active)
        assert row["cohort_retention_rate"] == pytest.approx(active / members, rel=1e-12)
    assert len(got) == expected.height
    sizes = store.query(["cohort_size"], [MONTH])
    by_cohort = expected.group_by("cohort_month").agg(pl.col("members").first())
    assert {month_of(m): s for m, s in sizes.iter_rows()} == dict(by_cohort.iter_rows())


def test_visit_to_signup_rate_is_the_visit_months_first_touches_over_its_visits(
    store: MetricStore, reference_world: DbtProject
) -> None:
    raw = reference_world.raw_dir
    visits = acquisition.sessions(raw)
    firsts = acquisition.first_touches(raw).filter(pl.col("session_id").is_not_null())
    per_month = (
        visits.join(
            firsts.select("session_id").unique().with_columns(first=pl.lit(True)),
            on="session_id",
            how="left",
        )
        .group_by(month=pl.col("started_at").dt.truncate("1mo").dt.date(), channel="channel")
        .agg(visits=pl.len(), signup_visits=pl.col("first").fill_null(False).sum())
    )
    got = by_month(
        store, ["visits", "signup_visits", "visit_to_signup_rate"], "campaign_month__channel"
    )
    for month, channel, n_visits, n_signup in per_month.iter_rows():
        row = got[(month, channel)]
        assert (row["visits"], row["signup_visits"]) == (n_visits, n_signup), (month, channel)
        assert row["visit_to_signup_rate"] == pytest.approx(n_signup / n_visits, rel=1e-12)
        assert row["visit_to_signup_rate"] <= 1


def test_feature_adoption_by_month_covers_every_feature_and_equals_raw(
    store: MetricStore, reference_world: DbtProject
) -> None:
    """Users of a feature in a month / the product's active users that month; a feature nobody
    used that month is there with 0, not missing."""
    from tests.reference.raw import read_raw, read_seed, real_users

    users = real_users(reference_world.raw_dir).select("user_id")
    events = (
        read_raw(reference_world.raw_dir, "app_db", "usage_events")
        .join(users, on="user_id", how="semi")
        .with_columns(month=pl.col("occurred_at").dt.truncate("1mo").dt.date())
        .filter(pl.col("month") <= LAST_COMPLETE_MONTH)
    )
    product_users = events.group_by("month", "product").agg(active=pl.col("user_id").n_unique())
    feature_users = events.group_by("month", "product", "feature").agg(
        adopters=pl.col("user_id").n_unique()
    )
    catalog = read_seed("product_features").select("product", "feature", "feature_name")
    months = events.select("month").unique()
    expected = (
        catalog.join(months, how="cross")
        .join(feature_users, on=["month", "product", "feature"], how="left")
        .join(product_users, on=["month", "product"], how="left")
        .with_columns(pl.col("adopters").fill_null(0))
    )
    got = by_month(
        store, ["feature_adopters", "feature_adoption_rate"], "feature_month__feature_name"
    )
    assert expected["adopters"].eq(0).any(), "some feature goes unused in some month"
    for row in expected.iter_rows(named=True):
        metric = got[(row["month"], row["feature_name"])]
        assert metric["feature_adopters"] == row["adopters"]
        rate = metric["feature_adoption_rate"]
        assert rate == (pytest.approx(row["adopters"] / row["active"]) if row["active"] else None)
