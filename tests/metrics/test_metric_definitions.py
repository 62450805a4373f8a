"""Each metric equals the mart SQL it stands for, to the cent, on the session's small world.

The SQL below is written from the marts' documented grain and the business rules, independently
of MetricFlow, and compared on several cuts: totals, by product or channel, by month.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from techflow_core.paths import DBT_PROJECT_DIR
from techflow_metrics.semantic import MetricStore, UnknownMetricError

pytestmark = pytest.mark.slow

MONTH = "metric_time__month"
PRODUCT = "mrr_line__product"
CHANNEL = "campaign_month__channel"
METRICS_MD = DBT_PROJECT_DIR / "models" / "METRICS.md"


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
        ("product_new_mrr", "new"),
        ("product_reactivation_mrr", "reactivation"),
        ("product_expansion_mrr", "expansion"),
        ("product_contraction_mrr", "contraction"),
        ("product_churned_mrr", "churn"),
    ],
)
def test_each_product_level_movement_is_the_months_sum_of_its_mrr_changes(
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


@pytest.mark.parametrize(
    ("metric", "column"),
    [
        ("ad_spend", "spend_usd"),
        ("signups", "signups"),
        ("visits", "visits"),
        ("signup_visits", "signup_visits"),
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
    # Where a campaign is its channel's whole month, the metric is the mart's own per-campaign
    # CAC (rounded to the cent there): the two are computed separately, by MetricFlow and dbt.
    single = warehouse_con.execute(
        """
        select report_month, channel, max(cac_usd)
        from marketing.rpt_marketing_roi
        group by all
        having count(*) = 1 and max(cac_usd) is not null
        """
    ).fetchall()
    assert single, "the world has channel-months with a single paying campaign"
    for month, channel, mart_cac in single:
        assert got[(month, channel)][0] == pytest.approx(float(mart_cac), abs=0.005)


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


def test_feature_adoption_rate_per_feature_is_the_latest_complete_months(
    metric_store: MetricStore, warehouse_con
) -> None:
    """Without a time group-by, a month-grain adoption rate is the latest complete month's."""
    keys = ["feature_month__product", "feature_month__feature_name"]
    got = as_dict(
        metric_store.query(["feature_adoption_rate"], keys), keys, "feature_adoption_rate"
    )
    want = sql_dict(
        warehouse_con,
        "select product, feature_name, adoption_rate from product.rpt_feature_adoption_monthly "
        "where adoption_month = (select max(adoption_month) "
        "from product.rpt_feature_adoption_monthly)",
    )
    assert got.keys() == want.keys()
    for key, rate in want.items():
        assert got[key] == (None if rate is None else pytest.approx(rate))


def test_cohort_retention_rate_is_the_reports_on_complete_months(
    metric_store: MetricStore, warehouse_con
) -> None:
    keys = [MONTH, "cohort_member_month__months_since_signup"]
    got = as_dict(
        metric_store.query(["cohort_retention_rate"], keys), keys, "cohort_retention_rate"
    )
    want = sql_dict(
        warehouse_con,
        "select cohort_month, months_since_signup, retention_rate "
        "from product.rpt_cohort_retention where is_complete_month",
    )
    assert got.keys() == want.keys()
    assert all(got[k] == pytest.approx(v) for k, v in want.items())


def test_every_metric_the_issue_names_is_defined_and_described(metric_store: MetricStore) -> None:
    required = {
        "mrr", "arr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
        "reactivation_mrr", "net_new_mrr", "grr", "nrr", "logo_churn_rate", "paying_customers",
        "arpa", "trial_to_paid_conversion", "signups", "cac", "roas", "dau", "wau", "mau",
        "feature_adoption_rate", "nrr_trailing_12m", "grr_trailing_12m", "product_nrr",
        "product_grr", "product_churn_rate", "cohort_retention_rate",
    }  # fmt: skip
    assert required <= set(metric_store.metric_names)
    for name in metric_store.metric_names:
        assert len(metric_store.metric_description(name)) >= 20, name


def metrics_md_sections() -> dict[str, str]:
    """{metric name: its METRICS.md entry} from the `### `name`` headings of the reference."""
    text = METRICS_MD.read_text(encoding="utf-8")
    parts = re.split(r"^### `(\w+)`\s*$", text, flags=re.MULTILINE)
    return {
        name: body.split("\n## ")[0] for name, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def semantic_sources(manifest: dict) -> dict[str, tuple[set[str], list[str]]]:
    """{metric: (the marts it reads, its input metrics)} from MetricFlow's semantic manifest."""
    measure_mart = {
        measure["name"]: model["node_relation"]["alias"]
        for model in manifest["semantic_models"]
        for measure in model["measures"]
    }
    metrics = {m["name"]: m["type_params"] for m in manifest["metrics"]}

    def inputs(name: str) -> list[str]:
        params = metrics[name]
        named = [params[k]["name"] for k in ("numerator", "denominator") if params.get(k)]
        return named + [m["name"] for m in params.get("metrics") or []]

    def marts(name: str) -> set[str]:
        measure = metrics[name].get("measure")
        if measure:
            return {measure_mart[measure["name"]]}
        return set().union(*(marts(i) for i in inputs(name)))

    return {name: (marts(name), inputs(name)) for name in metrics}


def test_every_metric_is_written_out_in_metrics_md_and_agrees_with_its_yaml(
    semantic_manifest,
) -> None:
    """METRICS.md has one entry per metric — formula, grain, which customers, edge cases — and no
    entry for a metric that does not exist; each entry names the mart the YAML reads and, for a
    ratio or derived metric, the metrics it is built from."""
    sources = semantic_sources(json.loads(semantic_manifest.read_text()))
    sections = metrics_md_sections()
    assert set(sections) == set(sources)
    for name, (marts, inputs) in sources.items():
        entry = sections[name]
        for field in ("**Formula:**", "**Grain / mart:**", "**Counts:**", "**Edge cases:**"):
            assert field in entry, (name, field)
        for mart in marts:
            assert f"`{mart}`" in entry, f"METRICS.md's {name} does not name its mart {mart}"
        for metric in inputs:
            assert f"`{metric}`" in entry, f"METRICS.md's {name} does not name its input {metric}"


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
