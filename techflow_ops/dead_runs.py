"""`python -m techflow_ops.dead_runs [--release RUN_ID]`: release dead runs from the shell.

What a dead run is and how it is released lives in the code location
(techflow_orchestration.defs.housekeeping.dead_runs), which its sensor and `make run` call too;
this is only the command a person runs when a run cannot be judged from this machine.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dagster import DagsterInstance

from techflow_orchestration.alerts import AlertSink
from techflow_orchestration.defs.housekeeping.dead_runs import release_dead_runs, release_run


def main(argv: Sequence[str] | None = None) -> int:
    from techflow_core.settings import TechflowSettings

    parser = argparse.ArgumentParser(
        description="Fail runs whose process is gone and free their pool slots."
    )
    parser.add_argument(
        "--release", metavar="RUN_ID", help="fail this run by hand (its process is known gone)"
    )
    args = parser.parse_args(argv)
    try:
        settings = TechflowSettings.from_env()
    except ValueError as exc:
        raise SystemExit(str(exc)) from exc
    sink = AlertSink(settings.alerts_file, settings.alert_webhook)
    with DagsterInstance.get() as instance:
        if args.release:
            release_run(instance, args.release, sink=sink)
        else:
            release_dead_runs(instance, sink=sink)
    return 0


if __name__ == "__main__":
    sys.exit(main())
