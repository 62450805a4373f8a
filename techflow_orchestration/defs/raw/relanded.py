"""Re-landed raw partitions: noticed by their content, repaired by one partition run.

A connector re-sync or a fixed extract rewrites an old raw partition. The staging views read every
file at each build, but the incremental models (int_subscription_versions, fct_mrr_daily) re-read
only the partitions of the window they build, so a changed old partition stays invisible to them
until exactly that partition is rebuilt. This module notices it and asks for that rebuild:

- A raw partition's data version is the fingerprint of its file's content (`fingerprint`): the raw
  asset records it on every single-day materialization (the daily schedule's runs); a range run
  (a backfill, `make run`'s raw run) records one materialization per day with shared metadata,
  so those days carry Dagster's own version until first observed.
- The `relanded_raw_partitions` sensor lists the raw folders each minute (one stat per file) and
  looks only at files written since its last scan that no materialization or observation of their
  partition has seen yet: each of those events records the modification time of the file(s) it saw
  (`LANDED_MTIME`; a range run records its newest file's), and Dagster's own writes are followed by
  their materialization, so a file newer than that came from outside. File times are compared
  only with file times, never with the process clock or event timestamps: a faked or stepped
  process clock (CI runs the suite under libfaketime, whose clock is days behind the
  filesystem's) must not make every file look foreign. For those files it computes the
  fingerprint: equal to the
  partition's recorded data version, it is a re-delivery of the same content (nothing to do);
  otherwise it reports an AssetObservation with the new data version (the raw partition's history
  in the UI shows it) and, for a partition that had landed before, requests one run of the daily
  job for the earliest changed day with every asset downstream of the changed tables (no raw
  asset: the generator would overwrite what was landed). That run's window starts on the
  re-landed day, so int_subscription_versions re-reads the raw partitions from it and
  fct_mrr_daily recomputes from the earliest day the change touches through the newest day
  built: afterwards it equals a full refresh (tests/orchestration/test_relanded_partitions.py).
  Its run key is the set of changes, so a change is repaired once however often it is seen.
- While a run is writing raw partitions the sensor skips the tick (its files would look foreign
  until the run records them).
"""

# No `from __future__ import annotations` here: Dagster inspects the `context` type hints of
# decorated functions at definition time and needs real classes, not strings.

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from dagster import (
    AssetKey,
    AssetObservation,
    AssetRecordsFilter,
    AssetSelection,
    DagsterRunStatus,
    DefaultSensorStatus,
    MetadataValue,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from data_generation.schema import RawTable
from techflow_orchestration.lib.keys import RAW_ASSET_KEYS
from techflow_orchestration.lib.tags import DATA_VERSION_TAG, RELANDED_TAG

# What Dagster reads a data version from on a materialization or observation event.
# Metadata on raw materializations and observations: the modification time of the newest file the
# event saw, as the filesystem recorded it.
LANDED_MTIME = "landed_mtime"
SENSOR_INTERVAL_SECONDS = 60
# Files written up to this long before the newest file of the previous listing are looked at
# again: a file renamed into place after that listing with an older mtime is not missed. Seen
# files cost one lookup, no hash.
RESCAN_OVERLAP_SECONDS = 600.0
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
PAGE = 1000

JobSelection = Any  # dagster's UnresolvedAssetJobDefinition, which it does not export


def fingerprint(path: Path) -> str:
    """The data version of a raw partition: a hash of its file's bytes (a day's file is at most a
    few MB, and only new files are hashed)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class LandedFile:
    key: AssetKey
    day: str  # the partition key, YYYY-MM-DD
    path: Path
    mtime: float
    size: int


@dataclass(frozen=True)
class Recorded:
    """What the instance knows of one raw partition, from its newest materialization or
    observation: the modification time of the file that event saw (None when it recorded none)
    and its data version."""

    landed_mtime: float | None = None
    data_version: str | None = None
    landed_before: bool = True


@dataclass(frozen=True)
class Change:
    file: LandedFile
    data_version: str
    previous: str | None
    relanded: bool  # a partition that had landed before (else: first seen)


def landed_files(raw_dir: Path, tables: Mapping[AssetKey, RawTable]) -> Iterator[LandedFile]:
    """Every raw partition file: <raw>/<system>/<table>/date=YYYY-MM-DD/part-*.parquet."""
    for key, table in tables.items():
        folder = raw_dir / table.system / table.name
        if not folder.is_dir():
            continue
        for partition in folder.iterdir():
            if not partition.name.startswith("date="):
                continue
            for path in partition.glob("*.parquet"):
                stat = path.stat()
                yield LandedFile(key, partition.name[5:], path, stat.st_mtime, stat.st_size)


def changes(
    candidates: Iterable[LandedFile],
    recorded: Mapping[tuple[AssetKey, str], Recorded],
    fingerprint_of=fingerprint,
) -> list[Change]:
    """Which candidate files hold content their partition's record does not: pure but for the
    hashing, which happens only for files newer than everything recorded about their partition."""
    found = []
    for file in candidates:
        record = recorded.get((file.key, file.day), Recorded(landed_before=False))
        if record.landed_mtime is not None and file.mtime <= record.landed_mtime:
            continue  # the file its last materialization or observation saw: already known
        version = fingerprint_of(file.path)
        if version != record.data_version:
            found.append(Change(file, version, record.data_version, record.landed_before))
    return found


def _records(instance: Any, fetch: str, key: AssetKey, days: Sequence[str]) -> Iterator[Any]:
    """Materialization or observation records of some partitions, newest first."""
    cursor = None
    while True:
        result = getattr(instance, fetch)(
            AssetRecordsFilter(asset_key=key, asset_partitions=list(days)),
            limit=PAGE,
            cursor=cursor,
        )
        yield from result.records
        if not result.has_more:
            return
        cursor = result.cursor


def _landed_mtime(event: Any) -> float | None:
    value = (event.metadata or {}).get(LANDED_MTIME)
    return None if value is None else float(value.value)


def recorded_versions(
    instance: Any, candidates: Sequence[LandedFile]
) -> dict[tuple[AssetKey, str], Recorded]:
    """The newest materialization or observation (by storage id: the order the instance wrote
    them, whatever the clocks said) of each candidate's partition, from one query per table and
    event type. A partition's history is a few events per run that touched it."""
    by_key: dict[AssetKey, set[str]] = {}
    for file in candidates:
        by_key.setdefault(file.key, set()).add(file.day)
    found: dict[tuple[AssetKey, str], Recorded] = {}
    for key, days in by_key.items():
        newest: dict[str, Any] = {}
        for fetch in ("fetch_materializations", "fetch_observations"):
            seen: set[str] = set()
            for record in _records(instance, fetch, key, sorted(days)):
                day = record.partition_key
                if day in seen:
                    continue  # newest first: the first one per partition is its newest
                seen.add(day)
                if day not in newest or record.storage_id > newest[day].storage_id:
                    newest[day] = record
        for day, record in newest.items():
            event = record.asset_materialization or record.asset_observation
            found[(key, day)] = Recorded(
                landed_mtime=_landed_mtime(event),
                data_version=(event.tags or {}).get(DATA_VERSION_TAG),
            )
    return found


def observation(change: Change) -> AssetObservation:
    metadata = {
        "path": MetadataValue.path(str(change.file.path)),
        "rows": MetadataValue.int(pq.ParquetFile(change.file.path).metadata.num_rows),
        "bytes": MetadataValue.int(change.file.size),
        LANDED_MTIME: MetadataValue.timestamp(change.file.mtime),
        "previous_data_version": MetadataValue.text(change.previous or "unknown"),
    }
    return AssetObservation(
        asset_key=change.file.key,
        partition=change.file.day,
        tags={DATA_VERSION_TAG: change.data_version},
        metadata=metadata,
        description="re-landed with new content" if change.relanded else "landed",
    )


def repair_request(found: Sequence[Change], downstream: Sequence[AssetKey]) -> RunRequest | None:
    """One run for the earliest re-landed day, rebuilding everything downstream of the changed
    tables; keyed by the changes, so the same re-landing is repaired once."""
    relanded = sorted((c for c in found if c.relanded), key=lambda c: (c.file.day, c.file.path))
    if not relanded or not downstream:
        return None
    identity = json.dumps([[str(c.file.path), c.data_version] for c in relanded])
    first = relanded[0].file
    return RunRequest(
        run_key=f"relanded-{hashlib.sha256(identity.encode()).hexdigest()[:16]}",
        partition_key=first.day,
        asset_selection=list(downstream),
        tags={RELANDED_TAG: f"{len(relanded)} partition(s) from {first.key.path[-1]} {first.day}"},
    )


def _writes_raw(run: Any, daily_job_name: str) -> bool:
    if run.job_name != daily_job_name:
        return False
    return run.asset_selection is None or bool(set(run.asset_selection) & set(RAW_ASSET_KEYS))


def build_relanded_sensor(
    daily_job: JobSelection, raw_dir: Path, partition_keys: Any
) -> SensorDefinition:
    """`partition_keys`: a callable giving the daily partitions' keys now (a changed file outside
    them names no partition to rebuild)."""

    @sensor(
        name="relanded_raw_partitions",
        job=daily_job,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Notices raw partitions re-landed with new content (data version = content hash) "
            "and rebuilds what depends on them from that day."
        ),
    )
    def relanded_raw_partitions(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        in_progress = context.instance.get_runs(filters=RunsFilter(statuses=IN_PROGRESS))
        if any(_writes_raw(run, daily_job.name) for run in in_progress):
            return SkipReason("a run is writing raw partitions; looking again next tick")
        # The cursor is the newest file time of the previous listing: file times only ever meet
        # file times (see the module docstring).
        since = json.loads(context.cursor).get("newest_mtime", 0.0) if context.cursor else 0.0
        files = list(landed_files(raw_dir, RAW_ASSET_KEYS))
        newest_mtime = max((file.mtime for file in files), default=since)
        candidates = [file for file in files if file.mtime > since - RESCAN_OVERLAP_SECONDS]
        valid_days = set(partition_keys())
        candidates = [file for file in candidates if file.day in valid_days]
        found = changes(candidates, recorded_versions(context.instance, candidates))
        cursor = json.dumps({"newest_mtime": max(newest_mtime, since)})
        if not found:
            return SensorResult(skip_reason="no raw partition changed", cursor=cursor)
        changed_keys = {change.file.key for change in found if change.relanded}
        downstream: list[AssetKey] = []
        if changed_keys:
            selection = daily_job.selection & AssetSelection.assets(*changed_keys).downstream(
                include_self=False
            )
            downstream = sorted(
                selection.resolve(context.repository_def.asset_graph),
                key=lambda key: key.to_user_string(),
            )
        request = repair_request(found, downstream)
        for change in found:
            context.log.info(
                f"{change.file.key.to_user_string()} {change.file.day}: "
                f"{'re-landed' if change.relanded else 'landed'} with data version "
                f"{change.data_version} (was {change.previous or 'unknown'})"
            )
        return SensorResult(
            run_requests=[request] if request else [],
            asset_events=[observation(change) for change in found],
            cursor=cursor,
        )

    return relanded_raw_partitions
