"""The housekeeping domain: the executor that records which process runs a run, and the sensor
that releases runs whose process died."""

from __future__ import annotations

from dagster import Definitions

from techflow_orchestration.defs.housekeeping.sensors import release_dead_runs_sensor
from techflow_orchestration.lib.run_process import identified_in_process_executor


def defs() -> Definitions:
    return Definitions(
        sensors=[release_dead_runs_sensor],
        # Every job runs its steps in the run's own process. The steps form one chain (raw ->
        # dbt -> the exposures) serialized by the single-slot `duckdb` pool anyway, and the
        # multiprocess default would start a subprocess per step that imports this code location
        # again (seconds each, far more on a loaded machine) for no parallelism. Dagster's
        # in-process executor, which also tags each run with the process executing it
        # (run_process.py: how dead runs are told).
        executor=identified_in_process_executor,
    )
