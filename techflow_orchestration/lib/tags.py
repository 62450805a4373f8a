"""Run and event tags: the one place the code location spells them.

Dagster's own tags are spelled as Dagster writes them (dagster._core.storage.tags, not exported);
ours start with `techflow/`.
"""

from __future__ import annotations

from collections.abc import Mapping

# Dagster's partition tags: one partition, or the range of a single-run backfill.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Dagster's run retries: one retry, from the failed step on.
MAX_RETRIES_TAG = "dagster/max_retries"
RETRY_STRATEGY_TAG = "dagster/retry_strategy"
# The data version Dagster records on a materialization or observation.
DATA_VERSION_TAG = "dagster/data_version"

# Ours: runs `make run` started, and the day a snapshot run was started for.
RUN_ALL_TAG = "techflow/run_all"
SNAPSHOT_DAY_TAG = "techflow/snapshot_day"
# The process executing a run and the host it runs on (run_process.py: how dead runs are told).
PROCESS_TAG = "techflow/process"
HOST_TAG = "techflow/host"
# A raw partition observed with new content after it was first landed (defs/raw/relanded.py).
RELANDED_TAG = "techflow/relanded"


def first_partition(tags: Mapping[str, str]) -> str | None:
    """A run's partition, or the first day of its range; None for an unpartitioned run."""
    return tags.get(PARTITION_TAG) or tags.get(RANGE_START_TAG)
