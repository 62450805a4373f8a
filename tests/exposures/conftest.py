"""A world long enough for the exposures, materialized through Dagster once per session.

`exposure_world`: 180 days at scale 0.5 ending on the suite's as-of day (AS_OF, a Sunday) —
hundreds of paying customers and 21 labelled weeks of churn signals, so the churn model has
earlier weeks to train on and later ones to be judged on. `dbt seed` + `dbt run` build the
warehouse (the marts' tests run elsewhere) and publish it, then the three exposure assets —
mrr_finance_dashboard,
marketing_roi_dashboard, churn_prediction_model — are materialized with Dagster's `materialize`
into an ephemeral instance whose event log the tests read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult, materialize

from techflow_core.settings import TechflowSettings
from techflow_metrics.semantic import SEMANTIC_MANIFEST_PATH, MetricStore
from techflow_orchestration.lib.resources import warehouse_resource, warehouse_writer_resource
from techflow_orchestration.project import (
    FINGERPRINT_PATH,
    changed_since_manifest,
    prepare_manifest,
)
from tests.orchestration.test_ui import chromium  # noqa: F401 (the browser test's fixture)
from tests.support import AS_OF, DbtProject, environment, generate_world

EXPOSURE_WORLD_DAYS = 180
EXPOSURE_WORLD_SCALE = 0.5
CHURN_SEED = 42
CHURN_EVAL_WEEKS = 4


@dataclass
class ExposureWorld:
    project: DbtProject
    instance: DagsterInstance
    result: ExecuteInProcessResult

    @property
    def data_dir(self) -> Path:
        return self.project.data_dir

    @property
    def env(self) -> dict[str, str]:
        return self.project.env

    @contextmanager
    def store(self) -> Iterator[MetricStore]:
        """The semantic layer over this world's warehouse, read-only."""
        with duckdb.connect(str(self.project.published), read_only=True) as con:
            yield MetricStore(con)


@pytest.fixture(scope="session")
def semantic_manifest_ready() -> Path:
    if not (
        SEMANTIC_MANIFEST_PATH.exists()
        and FINGERPRINT_PATH.exists()
        and not changed_since_manifest()
    ):
        prepare_manifest()
    return SEMANTIC_MANIFEST_PATH


@pytest.fixture(scope="session")
def exposure_world(semantic_manifest_ready, tmp_path_factory) -> ExposureWorld:
    from techflow_orchestration.defs.exposures.assets import build_exposure_assets

    data_dir = tmp_path_factory.mktemp("exposure_world")
    start = AS_OF - dt.timedelta(days=EXPOSURE_WORLD_DAYS - 1)
    generate_world(data_dir / "raw", start, AS_OF, scale=EXPOSURE_WORLD_SCALE)
    project = DbtProject(data_dir=data_dir, world_start=start)
    for args in (("seed",), ("run",)):
        invocation = project.dbt(*args)
        assert invocation.success, invocation.describe()
    project.publish()
    instance = DagsterInstance.ephemeral()
    with environment(project.env):
        result = materialize(
            build_exposure_assets(),
            instance=instance,
            resources=warehouse_resources(project.published),
            run_config={
                "ops": {
                    "churn_prediction_model": {
                        "config": {"seed": CHURN_SEED, "eval_weeks": CHURN_EVAL_WEEKS}
                    }
                }
            },
        )
    assert result.success
    return ExposureWorld(project=project, instance=instance, result=result)


def warehouse_resources(published: Path) -> dict[str, Any]:
    """The two warehouse resources as the code location binds them for a published warehouse:
    reads through a read-only connection to it, the churn scores written through the writer
    (its build file beside it, then published)."""
    settings = TechflowSettings(
        data_dir=published.parent, warehouse=published, world_start=AS_OF, as_of=AS_OF
    )
    return {
        "warehouse": warehouse_resource(settings),
        "warehouse_writer": warehouse_writer_resource(settings),
    }
