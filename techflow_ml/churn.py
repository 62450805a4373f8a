"""Churn model: who among today's paying customers loses all MRR in the next 30 days?

Trained on product.fct_churn_signals (one row per paying customer and complete ISO week, features
as of the week's Sunday, label known once 30 days have passed). The split is by time, as the model
is used: train on earlier labelled weeks, evaluate on the latest labelled weeks, with a 30-day gap
so no training label looks into the evaluation weeks. The evaluated model is then refitted on all
labelled weeks and scores the newest week up to the as-of day: one row per paying customer.

Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier: missing values, e.g. no
usage history, are a branch of their own), deterministic for a given seed. Feature importance is
permutation importance on the evaluation weeks: the drop in AUC when a feature is shuffled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

FEATURES = (
    "mrr",
    "seats",
    # Seat use: teams that leave seats empty churn more and shrink.
    "active_users_last_7_days",
    "active_users_last_28_days",
    "seat_utilisation_last_28_days",
    "events_per_seat_last_28_days",
    "events_per_active_user_last_28_days",
    "paid_products",
    "mrr_change_28_days",
    "tenure_days",
    "active_days_last_7_days",
    "active_days_last_28_days",
    "events_last_7_days",
    "events_prior_21_days",
    "engagement_trend",
    "max_daily_features_last_28_days",
    "days_since_last_activity",
    "failed_payments_last_30_days",
)
LABEL = "churned_next_30_days"
LABEL_DAYS = 30
DEFAULT_SEED = 42
# The newest labelled weeks held out for evaluation (≈ a quarter of a year).
DEFAULT_EVAL_WEEKS = 12
MIN_TRAIN_WEEKS = 8
SIGNALS_SQL = f"""
    select customer_id, week_end, is_label_observable, {LABEL}, {", ".join(FEATURES)}
    from product.fct_churn_signals
    where week_end <= ?
"""


class NotEnoughHistoryError(ValueError):
    """fct_churn_signals holds too few labelled weeks (or churners) to train and evaluate."""


@dataclass(frozen=True)
class Evaluation:
    auc: float
    precision_at_top_decile: float
    base_rate: float  # churn share among the evaluation rows
    train_rows: int
    eval_rows: int
    train_weeks: tuple[date, date]
    eval_weeks: tuple[date, date]
    feature_importance: dict[str, float]  # mean AUC drop when shuffled, largest first


@dataclass(frozen=True)
class ChurnRun:
    evaluation: Evaluation
    scores: pl.DataFrame  # customer_id, week_end, churn_probability, risk_rank, mrr
    scored_week: date


def _matrix(frame: pl.DataFrame) -> np.ndarray:
    return frame.select(pl.col(f).cast(pl.Float64) for f in FEATURES).to_numpy()


def _model(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=200, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0,
        early_stopping=False, random_state=seed,
    )  # fmt: skip


def precision_at_top(y_true: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """Churn share among the top `share` of rows by score (ties broken by row order)."""
    top = max(1, round(len(scores) * share))
    order = np.argsort(-scores, kind="stable")[:top]
    return float(y_true[order].mean())


def split_weeks(labelled_weeks: list[date], eval_weeks: int) -> tuple[list[date], list[date]]:
    """Latest `eval_weeks` labelled weeks to evaluate; training weeks end 30+ days earlier."""
    gap_weeks = -(-LABEL_DAYS // 7)  # weeks whose labels would reach into the evaluation
    needed = eval_weeks + gap_weeks + MIN_TRAIN_WEEKS
    if len(labelled_weeks) < needed:
        raise NotEnoughHistoryError(
            f"product.fct_churn_signals has {len(labelled_weeks)} labelled weeks; the churn "
            f"model needs at least {needed} ({eval_weeks} to evaluate, {MIN_TRAIN_WEEKS} to "
            f"train, {gap_weeks} between them so no training label sees the evaluation "
            "weeks). Build a longer world."
        )
    evaluation = labelled_weeks[-eval_weeks:]
    cutoff = evaluation[0] - timedelta(days=LABEL_DAYS)
    train = [w for w in labelled_weeks if w < cutoff]
    return train, evaluation


def train_and_score(
    signals: pl.DataFrame, seed: int = DEFAULT_SEED, eval_weeks: int = DEFAULT_EVAL_WEEKS
) -> ChurnRun:
    # One OpenMP thread: on cores shared with a dbt build or other runs, spinning worker threads
    # made training 5-10x slower, and one thread gives the same model on any machine.
    with threadpool_limits(limits=1):
        return _train_and_score(signals, seed, eval_weeks)


def _train_and_score(signals: pl.DataFrame, seed: int, eval_weeks: int) -> ChurnRun:
    labelled = signals.filter(pl.col("is_label_observable")).sort("week_end", "customer_id")
    weeks = sorted(labelled["week_end"].unique().to_list())
    train_weeks, test_weeks = split_weeks(weeks, eval_weeks)
    train = labelled.filter(pl.col("week_end").is_in(train_weeks))
    test = labelled.filter(pl.col("week_end").is_in(test_weeks))
    y_train = train[LABEL].cast(pl.Int8).to_numpy()
    y_test = test[LABEL].cast(pl.Int8).to_numpy()
    if y_train.sum() == 0 or y_test.sum() == 0 or y_test.sum() == len(y_test):
        raise NotEnoughHistoryError(
            "product.fct_churn_signals: the training or evaluation weeks have no churners "
            f"({int(y_train.sum())} / {int(y_test.sum())}); the model cannot be evaluated."
        )
    model = _model(seed).fit(_matrix(train), y_train)
    x_test = _matrix(test)
    proba = model.predict_proba(x_test)[:, 1]
    importance = permutation_importance(
        model, x_test, y_test, scoring="roc_auc", n_repeats=3, random_state=seed
    )
    ranked = sorted(zip(FEATURES, importance.importances_mean, strict=True), key=lambda p: -p[1])
    evaluation = Evaluation(
        auc=float(roc_auc_score(y_test, proba)),
        precision_at_top_decile=precision_at_top(y_test, proba),
        base_rate=float(y_test.mean()),
        train_rows=train.height,
        eval_rows=test.height,
        train_weeks=(train_weeks[0], train_weeks[-1]),
        eval_weeks=(test_weeks[0], test_weeks[-1]),
        feature_importance={name: round(float(v), 6) for name, v in ranked},
    )
    # Refit on every labelled week, then score the newest week (today's paying customers).
    final = _model(seed).fit(_matrix(labelled), labelled[LABEL].cast(pl.Int8).to_numpy())
    scored_week = signals["week_end"].max()
    newest = signals.filter(pl.col("week_end") == scored_week).sort("customer_id")
    scores = (
        newest.select("customer_id", "week_end", "mrr")
        .with_columns(churn_probability=pl.Series(final.predict_proba(_matrix(newest))[:, 1]))
        .with_columns(
            risk_rank=pl.col("churn_probability").rank("ordinal", descending=True).cast(pl.Int32)
        )
        .sort("risk_rank")
    )
    return ChurnRun(evaluation=evaluation, scores=scores, scored_week=scored_week)


def load_signals(con, as_of: date) -> pl.DataFrame:
    """fct_churn_signals up to the as-of day (a week ending later would peek past it)."""
    with con.cursor() as cursor:
        return cursor.sql(SIGNALS_SQL, params=[as_of]).pl()
