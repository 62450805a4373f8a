"""Marketing marts reconcile with the raw world and with finance.

On the session's small generated world (`built_warehouse`): spend in the ROI report is the raw ad
spend to the cent, attributed revenue is finance's net collected revenue to the cent, every
signup is attributed exactly once, and the deprecated version 1 is version 2 plus roi. CAC and
ROAS are recomputed from raw in tests/metrics/test_metrics_match_raw.py, their arithmetic on
hand-made rows in the unit tests.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from tests.support import DbtProject


def read_raw(project: DbtProject, system: str, table: str) -> pl.DataFrame:
    """Every landed row of a raw table, across all daily partitions."""
    return pl.read_parquet(project.raw_dir / system / table / "*" / "*.parquet")


def test_segment_redeliveries_collapse_to_one_row_per_message(
    built_warehouse: DbtProject,
) -> None:
    raw = read_raw(built_warehouse, "segment", "tracks")
    staged = built_warehouse.query(
        "select count(*), count(distinct message_id) from staging.stg_segment__tracks"
    )
    assert staged == [(raw["message_id"].n_unique(), raw["message_id"].n_unique())]


def test_every_known_utm_pair_maps_to_its_seed_channel_whatever_its_case(
    built_warehouse: DbtProject,
) -> None:
    raw = read_raw(built_warehouse, "segment", "tracks").unique("message_id")
    seed = built_warehouse.query_pl("select * from seeds.utm_channel_mapping")

    def normalised(column: str, when_missing: str) -> pl.Expr:
        value = pl.col(column).str.strip_chars().str.to_lowercase()
        return pl.when(value == "").then(None).otherwise(value).fill_null(when_missing)

    expected = (
        raw.with_columns(
            utm_source=normalised("context_campaign_source", "(direct)"),
            utm_medium=normalised("context_campaign_medium", "(none)"),
        )
        .join(seed, on=["utm_source", "utm_medium"], how="left")
        .select("message_id", expected=pl.col("channel").fill_null("other"))
    )
    staged = built_warehouse.query_pl("select message_id, channel from staging.stg_segment__tracks")
    joined = staged.join(expected, on="message_id")
    assert joined.height == staged.height
    assert (joined["channel"] == joined["expected"]).all()


def test_roi_spend_equals_raw_ad_spend_to_the_cent(built_warehouse: DbtProject) -> None:
    raw_cents = read_raw(built_warehouse, "marketing", "ad_spend")["spend_cents"].sum()
    [(report_spend,)] = built_warehouse.query(
        "select sum(spend_usd) from marketing.rpt_marketing_roi"
    )
    assert raw_cents > 0, "the generated world should spend on ads"
    assert report_spend == Decimal(raw_cents) / 100


def test_attributed_revenue_reconciles_with_finance_revenue(built_warehouse: DbtProject) -> None:
    [(finance, attributed, per_customer)] = built_warehouse.query(
        "select (select sum(net_collected) from finance.fct_revenue), "
        "(select sum(attributed_revenue_usd) from marketing.rpt_marketing_roi), "
        "(select sum(net_revenue_to_date_usd) from marketing.fct_customer_acquisition)"
    )
    assert finance is not None and finance > 0, "the generated world should collect revenue"
    assert attributed == finance
    assert per_customer == finance


def test_every_signup_is_attributed_exactly_once(built_warehouse: DbtProject) -> None:
    [(users, acquisitions, report_signups, campaign_signups)] = built_warehouse.query(
        # dim_users holds owners and invited teammates; signups are the account owners.
        "select (select count(*) from product.dim_users where is_account_owner), "
        "(select count(distinct user_id) from marketing.fct_customer_acquisition), "
        "(select sum(signups) from marketing.rpt_marketing_roi), "
        "(select sum(lifetime_signups) from marketing.dim_campaigns)"
    )
    assert users == acquisitions == report_signups == campaign_signups


def test_the_deprecated_version_1_keeps_roi_as_roas_for_its_readers(
    built_warehouse: DbtProject,
) -> None:
    """rpt_marketing_roi v2 (marketing.rpt_marketing_roi) dropped roi; v1 (rpt_marketing_roi_v1)
    is v2 row for row plus roi (defined as roas by the view, so not re-checked here)."""
    columns = {
        name
        for (name,) in built_warehouse.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'marketing' and table_name = 'rpt_marketing_roi'"
        )
    }
    assert "roas" in columns and "roi" not in columns
    v1 = built_warehouse.query(
        "select * exclude (roi) from marketing.rpt_marketing_roi_v1 order by all"
    )
    assert v1 == built_warehouse.query("select * from marketing.rpt_marketing_roi order by all")
