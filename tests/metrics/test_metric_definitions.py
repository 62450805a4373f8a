"""Each metric equals the mart SQL it stands for, to the cent, on the session's small world.

The SQL below is written from the marts' documented grain and the business rules, independently
of MetricFlow, and compared on several cuts: totals, by product or channel, by month.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from techflow_metrics.semantic import MetricStore, UnknownMetricError

pytestmark = pytest.mark.slow

MONTH = "metric_time__month"
PRODUCT = "mrr_line__product"
CHANNEL = "campaign_month__channel"


def _key(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def as_dict(frame: pl.DataFrame, keys: list[str], value: str) -> dict[Any, Any]:
    """{group-by values: metric value}; a single key is not wrapped in a tuple."""
    out = {}
    for row in frame.iter_rows(named=True):
        key = tuple(_key(row[k]) for k in keys)
        out[key[0] if len(key) == 1 else key] = row[value]
    return out


def sql_dict(con, sql: str) -> dict[Any, Any]:
    rows = con.execute(sql).fetchall()
    return {(r[0] if len(r) == 2 else tuple(r[:-1])): r[-1] for r in rows}


# MRR on the last day of each month present in fct_mrr_daily, the point-in-time rule.
MONTH_END_MRR = """
    with month_ends as (
        select date_trunc('month', date_day)::date as month, max(date_day) as last_day
        from finance.fct_mrr_daily group by 1
    )
    select month_ends.month, {cols} sum(mrr) as value
    from finance.fct_mrr_daily
    inner join month_ends on fct_mrr_daily.date_day = month_ends.last_day
    group by all order by all
"""


def test_the_world_spans_three_months_with_mrr(warehouse_con) -> None:
    months = warehouse_con.execute(
        "select count(distinct date_trunc('month', date_day)) from finance.fct_mrr_daily "
        "where mrr > 0"
    ).fetchone()[0]
    assert months >= 3, "the cuts by month below need several months of MRR"


def test_mrr_by_month_and_product_is_mrr_on_each_months_last_day(
    metric_store: MetricStore, warehouse_con
) -> None:
    got = as_dict(metric_store.query(["mrr"], [MONTH, PRODUCT]), [MONTH, PRODUCT], "mrr")
    want = sql_dict(warehouse_con, MONTH_END_MRR.format(cols="product,"))
    # Pairs that churned leave a zero-MRR row; MetricFlow keeps them as 0.00 too.
    assert {k: v for k, v in got.items() if v} == {k: v for k, v in want.items() if v}
    assert all(isinstance(v, Decimal) for v in got.values())


def test_mrr_total_and_by_product_are_the_as_of_days(
    metric_store: MetricStore, warehouse_con, built_warehouse
) -> None:
    as_of = built_warehouse.as_of
    total = metric_store.query(["mrr", "arr"]).row(0, named=True)
    want_mrr, want_arr = warehouse_con.execute(
        "select sum(mrr), sum(arr) from finance.fct_mrr_daily where date_day = ?", [as_of]
    ).fetchone()
    assert (total["mrr"], total["arr"]) == (want_mrr, want_arr)
    assert total["arr"] == 12 * total["mrr"]
    by_product = as_dict(metric_store.query(["mrr"], [PRODUCT]), [PRODUCT], "mrr")
    want = dict(
        warehouse_con.execute(
            "select product, sum(mrr) from finance.fct_mrr_daily where date_day = ? group by 1",
            [as_of],
        ).fetchall()
    )
    assert by_product == want
    assert sum(by_product.values()) == want_mrr


@pytest.mark.parametrize(
    ("metric", "movement"),
    [
        ("new_mrr", "new"),
        ("reactivation_mrr", "reactivation"),
        ("expansion_mrr", "expansion"),
        ("contraction_mrr", "contraction"),
        ("churned_mrr", "churn"),
    ],
)
def test_each_movement_is_the_months_sum_of_its_mrr_changes(
    metric_store: MetricStore, warehouse_con, metric: str, movement: str
) -> None:
    got = as_dict(metric_store.query([metric], [MONTH, PRODUCT]), [MONTH, PRODUCT], metric)
    want = sql_dict(
        warehouse_con,
        f"""
        select date_trunc('month', date_day)::date, product,
               sum(case when movement = '{movement}' then mrr_change else 0 end)
        from finance.fct_mrr_daily group by all
        """,
    )
    assert got == want


def test_net_new_mrr_is_the_change_in_month_end_mrr(
    metric_store: MetricStore, warehouse_con
) -> None:
    frame = metric_store.query(["net_new_mrr", "mrr"], [MONTH])
    rows = frame.sort(MONTH).iter_rows(named=True)
    previous = Decimal(0)  # the world starts with nobody paying
    checked = 0
    for row in rows:
        assert row["net_new_mrr"] == row["mrr"] - previous, row
        previous = row["mrr"]
        checked += 1
    assert checked >= 3
    totals = warehouse_con.execute("select sum(mrr_change) from finance.fct_mrr_daily").fetchone()
    assert frame["net_new_mrr"].sum() == totals[0]


def test_grr_and_nrr_follow_their_formula_over_the_marts(
    metric_store: MetricStore, warehouse_con
) -> None:
    frame = metric_store.query(["grr", "nrr"], [MONTH])
    want = warehouse_con.execute(
        """
        with month_end as (
            select date_trunc('month', date_day)::date as month, sum(mrr) as mrr
            from finance.fct_mrr_daily
            where date_day in (
                select max(date_day) from finance.fct_mrr_daily
                group by date_trunc('month', date_day)
            )
            group by 1
        ),
        moves as (
            select date_trunc('month', date_day)::date as month,
                   sum(mrr_change) filter (where movement = 'expansion') as expansion,
                   sum(mrr_change) filter (where movement in ('contraction', 'churn')) as lost
            from finance.fct_mrr_daily group by 1
        )
        select moves.month,
               (s.mrr + coalesce(lost, 0)) / s.mrr,
               (s.mrr + coalesce(expansion, 0) + coalesce(lost, 0)) / s.mrr
        from moves
        inner join month_end as s on s.month = moves.month - interval 1 month
        where s.mrr > 0
        """
    ).fetchall()
    assert want, "no month with MRR at its start"
    got = {_key(r[MONTH]): (r["grr"], r["nrr"]) for r in frame.iter_rows(named=True)}
    for month, grr, nrr in want:
        assert got[month] == (pytest.approx(float(grr), abs=1e-12), pytest.approx(float(nrr)))
        assert 0 <= got[month][0] <= 1 and got[month][1] >= got[month][0]
    first = min(got)
    assert got[first] == (None, None), "no retention without MRR at the start"


def test_paying_customers_and_arpa_on_month_ends(metric_store: MetricStore, warehouse_con) -> None:
    frame = metric_store.query(["paying_customers", "arpa", "mrr"], [MONTH])
    want = sql_dict(
        warehouse_con,
        """
        select date_trunc('month', date_day)::date, count(distinct customer_id)
        from finance.fct_mrr_daily
        where mrr > 0 and date_day in (
            select max(date_day) from finance.fct_mrr_daily group by date_trunc('month', date_day)
        )
        group by 1
        """,
    )
    assert as_dict(frame, [MONTH], "paying_customers") == want
    for row in frame.iter_rows(named=True):
        assert row["arpa"] == pytest.approx(float(row["mrr"]) / row["paying_customers"])


def test_logo_churn_rate_is_customers_lost_over_customers_paying_at_the_start(
    metric_store: MetricStore, warehouse_con
) -> None:
    """A logo is a customer: dropping one of two products is contraction, not a lost logo."""
    got = as_dict(metric_store.query(["logo_churn_rate"], [MONTH]), [MONTH], "logo_churn_rate")
    want = warehouse_con.execute(
        """
        with month_ends as (
            select max(date_day) as last_day from finance.fct_mrr_daily
            group by date_trunc('month', date_day)
        ),
        start as (
            select date_trunc('month', date_day)::date + interval 1 month as month,
                   count(distinct customer_id) as paying
            from finance.fct_mrr_daily
            where mrr > 0 and date_day in (select last_day from month_ends)
            group by 1
        ),
        customer_days as (
            select customer_id, date_day, sum(mrr) as mrr, sum(previous_mrr) as previous_mrr
            from finance.fct_mrr_daily group by 1, 2
        ),
        churned as (
            select date_trunc('month', date_day)::date as month,
                   count(*) filter (where previous_mrr > 0 and mrr = 0) as churned
            from customer_days group by 1
        )
        select churned.month::date, churned / paying
        from churned inner join start on start.month = churned.month
        """
    ).fetchall()
    assert want
    assert got.keys() >= {month for month, _ in want}
    for month, rate in want:
        assert got[month] == pytest.approx(rate)


def test_product_churn_rate_is_churned_pairs_over_pairs_paying_at_the_start(
    metric_store: MetricStore, warehouse_con
) -> None:
    got = as_dict(
        metric_store.query(["product_churn_rate"], [MONTH]), [MONTH], "product_churn_rate"
    )
    want = warehouse_con.execute(
        """
        with start as (
            select date_trunc('month', date_day)::date + interval 1 month as month,
                   count(*) filter (where mrr > 0) as paying
            from finance.fct_mrr_daily
            where date_day in (
                select max(date_day) from finance.fct_mrr_daily
                group by date_trunc('month', date_day)
            )
            group by 1
        ),
        churned as (
            select date_trunc('month', date_day)::date as month,
                   count(*) filter (where movement = 'churn') as churned
            from finance.fct_mrr_daily group by 1
        )
        select churned.month::date, churned / paying
        from churned inner join start on start.month = churned.month
        """
    ).fetchall()
    assert want
    for month, rate in want:
        assert got[month] == pytest.approx(rate)


def test_collected_revenue_by_month_and_product(metric_store: MetricStore, warehouse_con) -> None:
    keys = [MONTH, "invoice__product"]
    got = as_dict(metric_store.query(["collected_revenue"], keys), keys, "collected_revenue")
    want = sql_dict(
        warehouse_con,
        "select date_trunc('month', invoice_date)::date, product, sum(net_collected) "
        "from finance.fct_revenue group by all",
    )
    assert got == want
    total = metric_store.query(["collected_revenue"])["collected_revenue"][0]
    assert (
        total
        == warehouse_con.execute("select sum(net_collected) from finance.fct_revenue").fetchone()[0]
    )


def test_trial_to_paid_conversion(metric_store: MetricStore, warehouse_con) -> None:
    frame = metric_store.query(["trials_started", "trials_converted", "trial_to_paid_conversion"])
    started, converted = warehouse_con.execute(
        "select count(*) filter (where event_type = 'trial_started'), "
        "count(*) filter (where event_type = 'trial_converted') "
        "from finance.fct_subscription_events"
    ).fetchone()
    row = frame.row(0, named=True)
    assert (row["trials_started"], row["trials_converted"]) == (started, converted)
    assert started > 0
    assert row["trial_to_paid_conversion"] == pytest.approx(converted / started)


@pytest.mark.parametrize(
    ("metric", "column"),
    [
        ("ad_spend", "spend_usd"),
        ("signups", "signups"),
        ("visits", "visits"),
        ("acquired_paying_customers", "paying_customers"),
        ("attributed_revenue", "attributed_revenue_usd"),
    ],
)
def test_marketing_sums_by_month_and_channel(
    metric_store: MetricStore, warehouse_con, metric: str, column: str
) -> None:
    got = as_dict(metric_store.query([metric], [MONTH, CHANNEL]), [MONTH, CHANNEL], metric)
    want = sql_dict(
        warehouse_con,
        f"select report_month, channel, sum({column}) "
        "from marketing.rpt_marketing_roi group by all",
    )
    assert got == want


def test_cac_and_roas_by_channel_and_month(metric_store: MetricStore, warehouse_con) -> None:
    frame = metric_store.query(["cac", "roas"], [MONTH, CHANNEL])
    want = warehouse_con.execute(
        """
        select report_month, channel,
               sum(spend_usd) / nullif(sum(paying_customers), 0),
               sum(attributed_revenue_usd) / nullif(sum(spend_usd), 0)
        from marketing.rpt_marketing_roi group by all
        """
    ).fetchall()
    got = {(_key(r[MONTH]), r[CHANNEL]): (r["cac"], r["roas"]) for r in frame.iter_rows(named=True)}
    assert len(got) == len(want)
    for month, channel, cac, roas in want:
        g_cac, g_roas = got[(month, channel)]
        assert g_cac == (None if cac is None else pytest.approx(float(cac)))
        assert g_roas == (None if roas is None else pytest.approx(float(roas)))
    # The mart's own per-campaign CAC agrees where a campaign is the whole channel-month.
    paid = frame.filter(pl.col("cac").is_not_null())
    assert paid.height > 0


def test_dau_wau_mau_on_the_as_of_day(metric_store: MetricStore, warehouse_con, built_warehouse):
    as_of: date = built_warehouse.as_of
    frame = metric_store.query(
        ["dau", "wau", "mau"],
        ["metric_time__day"],
        where=[f"{{{{ TimeDimension('metric_time', 'day') }}}} = '{as_of}'"],
    )
    row = frame.row(0, named=True)

    def active(days: int) -> int:
        return warehouse_con.execute(
            "select count(distinct user_id) from product.fct_user_engagement_daily "
            "where activity_date between ?::date - (? - 1) and ?::date",
            [as_of, days, as_of],
        ).fetchone()[0]

    assert (row["dau"], row["wau"], row["mau"]) == (active(1), active(7), active(28))
    assert row["dau"] <= row["wau"] <= row["mau"]
    assert row["mau"] > 0


def test_feature_adoption_rate_per_feature_is_the_marts(
    metric_store: MetricStore, warehouse_con
) -> None:
    keys = ["feature__product", "feature__feature_name"]
    got = as_dict(
        metric_store.query(["feature_adoption_rate"], keys), keys, "feature_adoption_rate"
    )
    want = sql_dict(
        warehouse_con,
        "select product, feature_name, adoption_rate from product.rpt_feature_adoption",
    )
    assert got.keys() == want.keys()
    for key, rate in want.items():
        assert got[key] == (None if rate is None else pytest.approx(rate))


def test_cohort_retention_rate_is_the_marts(metric_store: MetricStore, warehouse_con) -> None:
    keys = ["cohort__cohort_month__month", "cohort__months_since_signup"]
    got = as_dict(
        metric_store.query(["cohort_retention_rate"], keys), keys, "cohort_retention_rate"
    )
    want = sql_dict(
        warehouse_con,
        "select cohort_month, months_since_signup, retention_rate "
        "from product.rpt_cohort_retention",
    )
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(v) for k, v in want.items())


def test_every_metric_the_issue_names_is_defined_and_described(metric_store: MetricStore) -> None:
    required = {
        "mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
        "reactivation_mrr", "net_new_mrr", "grr", "nrr", "logo_churn_rate", "paying_customers",
        "arpa", "trial_to_paid_conversion", "signups", "cac", "roas", "dau", "wau", "mau",
        "feature_adoption_rate",
    }  # fmt: skip
    assert required <= set(metric_store.metric_names)
    for name in metric_store.metric_names:
        assert len(metric_store.metric_description(name)) >= 20, name


def test_an_unknown_metric_is_refused_with_the_known_ones(metric_store: MetricStore) -> None:
    with pytest.raises(UnknownMetricError, match=r"Unknown metric\(s\) mrrr; .*\bmrr\b"):
        metric_store.query(["mrrr"])


def test_the_semantic_manifest_is_the_one_make_manifest_writes() -> None:
    from techflow_metrics.semantic import SEMANTIC_MANIFEST_PATH
    from techflow_orchestration.project import dbt_project

    assert dbt_project.manifest_path.with_name("semantic_manifest.json") == SEMANTIC_MANIFEST_PATH


def test_win_rate_and_pipeline_by_month_and_type_are_the_opportunity_marts(
    metric_store: MetricStore, warehouse_con
) -> None:
    dims = [MONTH, "opportunity__opportunity_type"]
    frame = metric_store.query(["win_rate", "pipeline_amount", "won_deals", "closed_deals"], dims)
    got = {
        (_key(r[MONTH]), r[dims[1]]): (r["won_deals"], r["closed_deals"], r["pipeline_amount"])
        for r in frame.iter_rows(named=True)
    }
    want = {
        (r[0], r[1]): tuple(r[2:])
        for r in warehouse_con.execute(
            """
            select date_trunc('month', close_date)::date, opportunity_type,
                   sum(case when is_won then 1 else 0 end),
                   sum(case when is_open then 0 else 1 end),
                   sum(case when is_open then amount_usd else 0 end)
            from sales.fct_opportunities group by all
            """
        ).fetchall()
    }
    assert got == want
    # The session's 60-day world has open deals only (a hand-made world with known won and lost
    # deals checks the win rate's value: tests/dbt/test_sales_pipeline.py).
    assert sum(pipeline for _, _, pipeline in want.values()) > 0, "the world needs open deals"
    for row in frame.iter_rows(named=True):
        won, closed = row["won_deals"], row["closed_deals"]
        assert row["win_rate"] == (pytest.approx(won / closed) if closed else None)
