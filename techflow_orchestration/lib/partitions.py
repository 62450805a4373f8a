"""Daily partitions from the world's first day to the as-of day.

The start is fixed (TECHFLOW_WORLD_START), so partition keys never move as days pass. A day is
only generated once it is complete, so no timestamp lies in the future. Which day is the last:

- TECHFLOW_AS_OF set (`make run` pins it, tests fix it): the as-of day. `end_date` is exclusive,
  so it is the day after. Dagster 1.13 still caps an end date by its own clock
  (TimeWindowPartitionsDefinition._get_last_partition_window with end_offset 0: the last partition
  is the earlier of end_date's and the last one that has ended), so an as-of day that has not
  ended yet (today, or later) is not offered; `make run` checks for that and says so. No
  end_offset to lift the cap: the daily schedule asks for the last partition at each tick, and
  an offset would make it request the day in progress instead of the one that just ended.
- unset: open-ended, on Dagster's own clock: the last partition is the last day that has ended,
  yesterday (UTC), and it moves on at every midnight. The long-running `make dev` instance and
  its daily schedule need this; it is the same day as the as-of default.
"""

from __future__ import annotations

from datetime import date, timedelta

from dagster import AssetExecutionContext, DailyPartitionsDefinition

TIMEZONE = "UTC"


def daily_partitions(world_start: date, last_day: date | None = None) -> DailyPartitionsDefinition:
    """Daily partitions from `world_start`; through `last_day` when given, else open-ended."""
    if last_day is None:
        return DailyPartitionsDefinition(start_date=world_start.isoformat(), timezone=TIMEZONE)
    return DailyPartitionsDefinition(
        start_date=world_start.isoformat(),
        end_date=(last_day + timedelta(days=1)).isoformat(),
        timezone=TIMEZONE,
    )


def partition_days(context: AssetExecutionContext) -> tuple[date, date]:
    """First and last day (inclusive) of the run's partition, or of its range."""
    window = context.partition_time_window
    return window.start.date(), (window.end - timedelta(days=1)).date()
