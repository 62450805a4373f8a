"""Daily partitions from the world's first day.

The start is fixed (TECHFLOW_WORLD_START), so partition keys never move as days pass. The last
partition is yesterday (UTC): a day is only generated once it is complete, which is also the
generator's default range, so no timestamp lies in the future.
"""

from __future__ import annotations

from datetime import date

from dagster import DailyPartitionsDefinition


def daily_partitions(world_start: date) -> DailyPartitionsDefinition:
    return DailyPartitionsDefinition(start_date=world_start.isoformat(), timezone="UTC")
