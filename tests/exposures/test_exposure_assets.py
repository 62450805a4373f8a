"""The exposures as Dagster assets: what they read, what they write, what they record."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey

from techflow_dashboards import finance, marketing
from techflow_metrics import MetricStore
from techflow_ml.churn import (
    FEATURES,
    LABEL_DAYS,
    NotEnoughHistoryError,
    load_signals,
    train_and_score,
)
from techflow_orchestration.defs.exposures.manifest import exposure_deps
from techflow_orchestration.lib.keys import (
    CHURN_PREDICTION_MODEL,
    CHURN_SCORES_TABLE,
    DASHBOARD_KEYS,
    MARKETING_ROI_DASHBOARD,
    MRR_FINANCE_DASHBOARD,
)
from tests.exposures.conftest import (
    CHURN_EVAL_WEEKS,
    CHURN_SEED,
    ExposureWorld,
    warehouse_resources,
)
from tests.support import AS_OF

pytestmark = pytest.mark.slow

BUILDERS = {MRR_FINANCE_DASHBOARD: finance.build, MARKETING_ROI_DASHBOARD: marketing.build}


def metadata(world: ExposureWorld, key: AssetKey) -> dict:
    event = world.instance.get_latest_materialization_event(key)
    assert event is not None, f"{key.to_user_string()} was not materialized"
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}


class RecordingStore(MetricStore):
    """Keeps the SQL of every query, to see which tables a dashboard reads."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.statements: list[str] = []

    def sql(self, *args, **kwargs) -> str:
        statement = super().sql(*args, **kwargs)
        self.statements.append(statement)
        return statement


@pytest.mark.parametrize("key", DASHBOARD_KEYS, ids=lambda k: k.to_user_string())
def test_a_dashboard_reads_exactly_the_models_its_exposure_lists(
    exposure_world: ExposureWorld, key: AssetKey
) -> None:
    import duckdb

    with duckdb.connect(str(exposure_world.project.published), read_only=True) as con:
        store = RecordingStore(con)
        BUILDERS[key](store, AS_OF)
    read = {
        table
        for sql in store.statements
        for table in re.findall(r"\btechflow\.\w+\.(\w+)\b", sql.replace('"', ""))
    }
    assert read == {dep.path[-1] for dep in exposure_deps(key.path[-1])}


@pytest.mark.parametrize("key", DASHBOARD_KEYS, ids=lambda k: k.to_user_string())
def test_a_dashboard_materialization_records_its_file_kpis_and_summary(
    exposure_world: ExposureWorld, key: AssetKey
) -> None:
    meta = metadata(exposure_world, key)
    path = Path(meta["path"])
    assert path == exposure_world.data_dir / "dashboards" / f"{key.path[-1]}.html"
    page = path.read_text(encoding="utf-8")
    # Offline: plotly.js is inlined, and no script or stylesheet is fetched from anywhere.
    assert len(page) > 3_000_000
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:", page)
    assert meta["as_of"] == AS_OF.isoformat()
    with exposure_world.store() as store:
        expected = BUILDERS[key](store, AS_OF).headline()
    recorded = {k.removeprefix("kpi/"): v for k, v in meta.items() if k.startswith("kpi/")}
    assert recorded == {m: ("n/a" if v is None else pytest.approx(v)) for m, v in expected.items()}
    assert str(path) in meta["summary"] and "| KPI |" in meta["summary"]


def test_the_finance_kpis_are_the_metrics_on_the_as_of_day(exposure_world: ExposureWorld) -> None:
    meta = metadata(exposure_world, MRR_FINANCE_DASHBOARD)
    mrr, paying = exposure_world.project.query(
        "select sum(mrr), count(distinct customer_id) filter (where mrr > 0) "
        "from finance.fct_mrr_daily where date_day = ?",
        [AS_OF],
    )[0]
    assert meta["kpi/mrr"] == pytest.approx(float(mrr)) and mrr > 0
    assert meta["kpi/arr"] == pytest.approx(12 * float(mrr))
    assert meta["kpi/paying_customers"] == paying
    assert meta["kpi/arpa"] == pytest.approx(float(mrr) / paying)


def test_the_finance_month_tiles_are_the_last_complete_month(
    exposure_world: ExposureWorld,
) -> None:
    """AS_OF is mid-June: the month tiles show May, the month in progress never."""
    with exposure_world.store() as store:
        dashboard = finance.build(store, AS_OF)
    months = {k.metric: k.month for k in dashboard.kpis}
    may = AS_OF.replace(day=1).replace(month=AS_OF.month - 1)
    for metric in ("net_new_mrr", "nrr", "grr", "logo_churn_rate", "nrr_trailing_12m"):
        assert months[metric] == may, metric
    assert months["trial_to_paid_conversion"] <= may
    assert all(months[m] is None for m in ("mrr", "arr", "paying_customers", "arpa"))


def test_the_churn_model_records_held_out_metrics_in_range(exposure_world: ExposureWorld) -> None:
    meta = metadata(exposure_world, CHURN_PREDICTION_MODEL)
    # Low engagement and empty seats raise the churn hazard in this world, and both show in
    # usage and seat utilisation before the churn: the model must beat chance clearly.
    assert 0.6 < meta["heldout_auc"] < 1.0
    assert meta["precision_at_top_decile"] > meta["heldout_base_rate"] > 0
    importance = meta["feature_importance"]
    assert {row["feature"] for row in importance} == set(FEATURES)
    drops = [row["auc_drop"] for row in importance]
    assert drops == sorted(drops, reverse=True) and drops[0] > 0
    # Time-based split: the last training week's label window closes before evaluation starts.
    last_train = meta["train_weeks"].split("..")[1]
    first_eval = meta["eval_weeks"].split("..")[0]
    gap = pl.Series([first_eval]).str.to_date()[0] - pl.Series([last_train]).str.to_date()[0]
    assert gap.days > LABEL_DAYS
    assert meta["seed"] == CHURN_SEED
    assert "Held-out AUC" in meta["summary"]


def test_the_churn_scores_cover_todays_paying_customers(exposure_world: ExposureWorld) -> None:
    meta = metadata(exposure_world, CHURN_PREDICTION_MODEL)
    scores = exposure_world.project.query_pl(f"select * from {CHURN_SCORES_TABLE}")
    paying = exposure_world.project.query(
        "select customer_id from finance.fct_mrr_daily where date_day = ? "
        "group by customer_id having sum(mrr) > 0",
        [AS_OF],
    )
    # AS_OF is a Sunday: the newest complete week ends on it.
    assert set(scores["scored_week_end"].unique().to_list()) == {AS_OF}
    assert sorted(scores["customer_id"].to_list()) == sorted(r[0] for r in paying)
    assert scores.height == meta["scored_customers"] > 100
    assert scores["churn_probability"].is_between(0, 1).all()
    assert sorted(scores["risk_rank"].to_list()) == list(range(1, scores.height + 1))


def test_the_churn_model_is_deterministic_with_its_seed(exposure_world: ExposureWorld) -> None:
    import duckdb

    with duckdb.connect(str(exposure_world.project.published), read_only=True) as con:
        signals = load_signals(con, AS_OF)
    again = train_and_score(signals, CHURN_SEED, CHURN_EVAL_WEEKS)
    written = exposure_world.project.query_pl(
        f"select customer_id, churn_probability, risk_rank from {CHURN_SCORES_TABLE} "
        "order by risk_rank"
    )
    assert again.scores.select(written.columns).equals(written)
    meta = metadata(exposure_world, CHURN_PREDICTION_MODEL)
    assert again.evaluation.auc == meta["heldout_auc"]


def test_too_little_history_is_refused_naming_the_table(exposure_world: ExposureWorld) -> None:
    import duckdb

    with duckdb.connect(str(exposure_world.project.published), read_only=True) as con:
        signals = load_signals(con, AS_OF)
    recent = signals.filter(pl.col("week_end") > pl.col("week_end").max() - pl.duration(days=70))
    with pytest.raises(NotEnoughHistoryError, match=r"product\.fct_churn_signals has \d+ labelled"):
        train_and_score(recent)


def test_a_world_too_young_for_the_model_skips_it_with_a_warning(
    built_warehouse, semantic_manifest_ready, tmp_path
) -> None:
    """60 days hold no labelled weeks to speak of: the step succeeds, materializes nothing and
    says why, so `make run` and the weekly job do not fail on a young deployment."""
    import shutil

    from dagster import DagsterEventType, DagsterInstance, materialize

    from techflow_orchestration.defs.exposures.churn import build_churn_asset
    from tests.support import environment

    warehouse = tmp_path / "techflow.duckdb"
    shutil.copy(built_warehouse.published, warehouse)
    instance = DagsterInstance.ephemeral()
    with environment({**built_warehouse.env, "TECHFLOW_WAREHOUSE": str(warehouse)}):
        result = materialize(
            [build_churn_asset()],
            instance=instance,
            resources=warehouse_resources(warehouse),
        )
    assert result.success
    assert instance.get_latest_materialization_event(CHURN_PREDICTION_MODEL) is None
    warnings = [
        e.message
        for e in instance.all_logs(result.run_id)
        if e.dagster_event is None and e.level >= 30
    ]
    assert any("not trained" in w and "product.fct_churn_signals has" in w for w in warnings)
    assert DagsterEventType.ASSET_MATERIALIZATION not in {
        e.dagster_event_type for e in instance.all_logs(result.run_id)
    }
