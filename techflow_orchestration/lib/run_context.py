"""What a step knows about its run: the as-of day every step of one run shares."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date, datetime

from dagster import AssetExecutionContext

from techflow_core.clock import AS_OF_ENV, parse_as_of, yesterday_utc


def run_as_of(environ: Mapping[str, str], run_created_at: datetime) -> date:
    """The as-of day every step of a run uses: TECHFLOW_AS_OF when it is set (`make run` and the
    tests pin it), else the last day that had ended (UTC) when the run was created.

    Not "yesterday" at each step's start: a run created at 23:59 whose marts step starts after
    midnight would build its steps for two different days.
    """
    raw = (environ.get(AS_OF_ENV) or "").strip()
    return parse_as_of(raw) if raw else yesterday_utc(run_created_at)


def step_as_of(context: AssetExecutionContext) -> date:
    """`run_as_of` for the run this step belongs to, from this process's environment."""
    run_record = context.instance.get_run_record_by_id(context.run.run_id)
    return run_as_of(os.environ, run_record.create_timestamp)
