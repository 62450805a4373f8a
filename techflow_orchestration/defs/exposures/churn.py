"""churn_prediction_model: trains on fct_churn_signals (time-based split), writes today's churn
scores per paying customer to ml.churn_scores, and records held-out AUC, precision at the top
decile and feature importances as metadata. Deterministic for a given seed (run config).

It reads the published warehouse (read-only, like every reader) and trains without holding
anything; only writing the scores takes a write session of the warehouse writer: the table goes
into the build file, which is then published (publish.py), so the scores appear to readers
atomically, with the marts they were computed from.
"""

# No `from __future__ import annotations`: Dagster inspects the context/resource type hints.

from collections.abc import Iterator

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from techflow_orchestration.defs.exposures.manifest import (
    exposure_deps,
    exposure_node,
    exposure_owners,
)
from techflow_orchestration.lib.keys import (
    CHURN_PREDICTION_MODEL,
    CHURN_SCORES_SCHEMA,
    CHURN_SCORES_TABLE,
    DUCKDB_POOL,
    EXPOSURES_GROUP,
)
from techflow_orchestration.lib.resources import WarehouseWriterResource
from techflow_orchestration.lib.run_context import step_as_of


class ChurnModelConfig(Config):
    seed: int = 42
    # Newest labelled weeks held out for evaluation.
    eval_weeks: int = 12


def build_churn_asset() -> AssetsDefinition:
    name = CHURN_PREDICTION_MODEL.path[-1]

    @asset(
        key=CHURN_PREDICTION_MODEL,
        deps=exposure_deps(name),
        group_name=EXPOSURES_GROUP,
        owners=exposure_owners(name),
        description=exposure_node(name).get("description"),
        kinds={"scikitlearn", "duckdb"},
        pool=DUCKDB_POOL,  # writes the warehouse (queued in the UI; the writer's lock serializes)
        # A world younger than the model needs (months of labelled weeks) is not a failure of the
        # run: the step says why in a warning and materializes nothing, keeping earlier scores.
        output_required=False,
    )
    def churn_prediction_model(
        context: AssetExecutionContext,
        config: ChurnModelConfig,
        warehouse: DuckDBResource,
        warehouse_writer: WarehouseWriterResource,
    ) -> Iterator[MaterializeResult]:
        from techflow_ml.churn import NotEnoughHistoryError, load_signals, train_and_score

        as_of = step_as_of(context)
        with warehouse.get_connection() as con:  # the published warehouse, read-only
            signals = load_signals(con, as_of)
        try:
            run = train_and_score(signals, config.seed, config.eval_weeks)
        except NotEnoughHistoryError as exc:
            context.log.warning(f"churn_prediction_model not trained: {exc}")
            return
        holder = f"run {context.run.run_id}, step churn_prediction_model"
        with (
            warehouse_writer.writing(holder, context.log.info) as write,
            duckdb.connect(str(write.build_path)) as con,
        ):
            con.register("churn_scores_frame", run.scores.to_arrow())
            con.execute(f"create schema if not exists {CHURN_SCORES_SCHEMA}")
            con.execute(
                f"""
                create or replace table {CHURN_SCORES_TABLE} as
                select customer_id, week_end as scored_week_end,
                       cast(? as date) as as_of_date, mrr, churn_probability, risk_rank,
                       cast(? as integer) as model_seed
                from churn_scores_frame order by risk_rank
                """,
                [as_of, config.seed],
            )
            con.unregister("churn_scores_frame")
            con.close()  # before the publish checkpoints the file
            write.publish()
        ev = run.evaluation
        top = run.scores.head(10)
        top_md = "\n".join(
            f"| {r['risk_rank']} | {r['customer_id']} | {r['churn_probability']:.3f} | "
            f"${r['mrr']:,.2f} |"
            for r in top.iter_rows(named=True)
        )
        lift = ev.precision_at_top_decile / ev.base_rate if ev.base_rate else None
        summary = (
            f"Held-out AUC **{ev.auc:.3f}**, precision at the top decile "
            f"**{ev.precision_at_top_decile:.3f}** (base rate {ev.base_rate:.3f}, lift "
            f"{lift:.1f}x); trained on weeks {ev.train_weeks[0]}..{ev.train_weeks[1]} "
            f"({ev.train_rows:,} rows), evaluated on {ev.eval_weeks[0]}..{ev.eval_weeks[1]} "
            f"({ev.eval_rows:,} rows). {run.scores.height:,} paying customers scored for the "
            f"week ending {run.scored_week} into `{CHURN_SCORES_TABLE}`.\n\n"
            "| risk rank | customer | churn probability | MRR |\n|---|---|---|---|\n"
            f"{top_md}\n"
        )
        yield MaterializeResult(
            metadata={
                "heldout_auc": MetadataValue.float(ev.auc),
                "precision_at_top_decile": MetadataValue.float(ev.precision_at_top_decile),
                "heldout_base_rate": MetadataValue.float(ev.base_rate),
                "train_rows": MetadataValue.int(ev.train_rows),
                "eval_rows": MetadataValue.int(ev.eval_rows),
                "train_weeks": MetadataValue.text(f"{ev.train_weeks[0]}..{ev.train_weeks[1]}"),
                "eval_weeks": MetadataValue.text(f"{ev.eval_weeks[0]}..{ev.eval_weeks[1]}"),
                # A list, largest first: a JSON object's keys would be stored sorted by name.
                "feature_importance": MetadataValue.json(
                    [{"feature": f, "auc_drop": v} for f, v in ev.feature_importance.items()]
                ),
                "scores_table": MetadataValue.text(CHURN_SCORES_TABLE),
                "scored_customers": MetadataValue.int(run.scores.height),
                "scored_week_end": MetadataValue.text(run.scored_week.isoformat()),
                "seed": MetadataValue.int(config.seed),
                "summary": MetadataValue.md(summary),
            }
        )

    return churn_prediction_model
