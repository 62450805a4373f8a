"""Write-audit-publish for the DuckDB warehouse: readers only ever see audited builds.

DuckDB locks its file per process: one read-write process OR any number of read-only ones. So
readers and the writer cannot share one file — a notebook holding it open would fail every
build, and a build would fail every reader. Two files instead:

- the build file ($TECHFLOW_DATA_DIR/warehouse/build/techflow.duckdb; `settings.build_warehouse`),
  private to the writer: dbt builds and tests in it, the churn model writes its scores to it, and
  the incremental state (fct_mrr_daily, int_subscription_versions) lives in it;
- the published file ($TECHFLOW_WAREHOUSE, `settings.warehouse`): what every reader opens,
  read-only — the metrics, the dashboards, the docs, the summary, the churn model's training
  reads, a notebook or BI tool. Nothing writes it: a build that passed its audit is copied next to
  it (after a CHECKPOINT, so the copy is a complete database with no WAL), fsynced, and renamed
  over it. A reader that has the old file open keeps reading the old inode until it reconnects;
  a new reader opens the new one; nobody blocks or fails anybody.

A write session (`DuckDBFilePublisher.writing`) holds the writer lock (write_lock.py) from
before the first write to after the publish, so writers queue whatever launched them; it also
waits for any dbt a killed writer left (the dbt lock, dbt_child.py). It marks the build file
UNPUBLISHED while it writes. If the build fails its audit — or raises, or the writer is killed —
the build file is reset to a copy of the published one (by this session, or by the next one that
finds the mark), so every build starts from audited state and a failed partition is simply built
again by the next run. dbt's tests therefore ran against exactly what gets published: nothing
touches the build file between dbt's exit and the copy but the CHECKPOINT.

`WarehousePublisher` is the interface the orchestration uses; a PostgreSQL warehouse would
implement it with build schemas swapped in by one transaction under an advisory lock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from techflow_core.durable import fsync_dir, fsync_file
from techflow_core.settings import TechflowSettings
from techflow_core.warehouse import BUILD_WAREHOUSE_ENV
from techflow_orchestration.dbt_child import DBT_LOCK_ENV
from techflow_orchestration.lib.write_lock import exclusive, wait_until_free

Log = Callable[[str], None]

WRITER_LOCK_NAME = "writer.lock"
DBT_LOCK_NAME = "dbt.lock"
UNPUBLISHED_MARK_NAME = "UNPUBLISHED"
# How each session tells the log where its critical section starts and ends (tests read these).
LOCK_ACQUIRED = "Warehouse write lock acquired"
LOCK_RELEASING = "Warehouse write lock released"


@dataclass(frozen=True)
class PublishReport:
    """What one publish cost: the bytes copied and the seconds of each part."""

    bytes: int
    checkpoint_seconds: float
    copy_seconds: float  # copy + fsync of the copy
    swap_seconds: float  # rename over the published file + fsync of the directory

    @property
    def seconds(self) -> float:
        return self.checkpoint_seconds + self.copy_seconds + self.swap_seconds

    def describe(self) -> str:
        return (
            f"{self.bytes / 1e6:,.1f} MB in {self.seconds:.2f} s (checkpoint "
            f"{self.checkpoint_seconds:.2f} s, copy + fsync {self.copy_seconds:.2f} s, rename + "
            f"fsync {self.swap_seconds:.2f} s)"
        )


class WarehouseWrite(Protocol):
    """One writer's session: build in the private place, then publish or discard."""

    @property
    def dbt_env(self) -> Mapping[str, str]:
        """Environment variables that point dbt (profile target `prod`) at the private place."""
        ...

    @property
    def build_path(self) -> Path: ...

    def publish(self) -> PublishReport: ...

    def discard(self) -> None: ...


class WarehousePublisher(Protocol):
    def writing(self, holder: str, log: Log) -> Iterator[WarehouseWrite]:
        """A context manager: the exclusive write session (see DuckDBFilePublisher.writing)."""
        ...


def copy_file(source: Path, target: Path) -> int:
    """Copy `source` to a new file `target` in the kernel (copy_file_range: a reflink on
    filesystems that share blocks, XFS and btrfs; a copy without user-space buffers on ext4),
    fsync it, and return the bytes copied."""
    with source.open("rb") as src, target.open("wb") as dst:
        size = os.fstat(src.fileno()).st_size
        copied = 0
        try:
            while copied < size:
                step = os.copy_file_range(src.fileno(), dst.fileno(), size - copied)
                if step == 0:
                    break
                copied += step
        except OSError:  # no copy_file_range here (another OS, an old kernel, across devices)
            src.seek(0)
            dst.seek(0)
            dst.truncate()
            copied = 0
            while chunk := src.read(16 << 20):
                copied += dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return copied


def checkpoint(database: Path) -> None:
    """Fold DuckDB's write-ahead log into the file, so the file alone is the whole database."""
    import duckdb

    with duckdb.connect(str(database)) as con:
        con.execute("checkpoint")


def _wal(database: Path) -> Path:
    return database.with_name(database.name + ".wal")


@dataclass
class DuckDBWrite:
    """The session `DuckDBFilePublisher.writing` hands out; publish or discard exactly once."""

    publisher: DuckDBFilePublisher
    log: Log
    finished: bool = field(default=False)

    @property
    def build_path(self) -> Path:
        return self.publisher.build

    @property
    def dbt_env(self) -> dict[str, str]:
        return {
            BUILD_WAREHOUSE_ENV: str(self.publisher.build),
            DBT_LOCK_ENV: str(self.publisher.dbt_lock),
        }

    def publish(self) -> PublishReport:
        """Checkpoint the build file, copy it beside the published file, fsync, rename over."""
        self._finish()
        report = self.publisher.publish()
        self.log(f"Published {self.publisher.published}: {report.describe()}")
        return report

    def discard(self) -> None:
        """Reset the build file to the published one: this build's writes are dropped."""
        self._finish()
        published = self.publisher.published
        audited = published.exists()
        self.publisher.reset_build()
        self.log(
            f"Not published: {published} is unchanged, and the build file was reset to it (the "
            "next build starts from the last audited state)."
            if audited
            else f"Not published: there is no published warehouse yet ({published}); the build "
            "file was removed, so the next build starts from nothing, as this one did."
        )

    def _finish(self) -> None:
        if self.finished:
            raise RuntimeError("this warehouse write was already published or discarded")
        self.finished = True


@dataclass(frozen=True)
class DuckDBFilePublisher:
    """The build file and the published file, and how one becomes the other (module docstring)."""

    published: Path
    build: Path

    @classmethod
    def from_settings(cls, settings: TechflowSettings) -> DuckDBFilePublisher:
        return cls(published=settings.warehouse, build=settings.build_warehouse)

    @property
    def writer_lock(self) -> Path:
        return self.build.parent / WRITER_LOCK_NAME

    @property
    def dbt_lock(self) -> Path:
        return self.build.parent / DBT_LOCK_NAME

    @property
    def unpublished_mark(self) -> Path:
        return self.build.parent / UNPUBLISHED_MARK_NAME

    @contextmanager
    def writing(self, holder: str, log: Log) -> Iterator[DuckDBWrite]:
        """The exclusive write session. In order: take the writer lock (waiting for another
        writer), wait for a dbt a killed writer may have left, reset the build file if the last
        session did not finish (or there is none yet but a published file), mark it unpublished,
        hand out the session; on the way out, discard it unless the body published or discarded
        it (an exception: nothing half-done is ever published)."""
        self.build.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(self.writer_lock, holder, on_wait=log):
            wait_until_free(self.dbt_lock, on_wait=log)
            log(f"{LOCK_ACQUIRED} ({holder}, pid {os.getpid()}): {self.writer_lock}")
            try:
                if self.unpublished_mark.exists():
                    log(
                        f"The last write to {self.build} never finished ({self.unpublished_mark}: "
                        f"{self.unpublished_mark.read_text().strip()}); resetting it to the "
                        "published warehouse first."
                    )
                    self.reset_build()
                elif not self.build.exists() and self.published.exists():
                    log(f"No build file yet: starting it from {self.published}.")
                    self.reset_build()
                self._mark_unpublished(holder)
                write = DuckDBWrite(self, log)
                try:
                    yield write
                finally:
                    if not write.finished:
                        write.discard()
            finally:
                log(f"{LOCK_RELEASING} ({holder}, pid {os.getpid()})")

    def publish(self) -> PublishReport:
        """Only under the writer lock (a `writing` session)."""
        started = time.perf_counter()
        checkpoint(self.build)
        checkpointed = time.perf_counter()
        self.published.parent.mkdir(parents=True, exist_ok=True)
        partial = self.published.with_name(f".{self.published.name}.publishing-{os.getpid()}")
        try:
            size = copy_file(self.build, partial)
            copied = time.perf_counter()
            # A WAL beside the published file belongs to the file being replaced (only a
            # read-write open of the published file, which nothing here does, leaves one): it
            # must not be replayed onto the new file. Removed before the rename, not after.
            _wal(self.published).unlink(missing_ok=True)
            os.replace(partial, self.published)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        fsync_dir(self.published.parent)
        self._clear_mark()
        swapped = time.perf_counter()
        return PublishReport(
            bytes=size,
            checkpoint_seconds=checkpointed - started,
            copy_seconds=copied - checkpointed,
            swap_seconds=swapped - copied,
        )

    def reset_build(self) -> None:
        """Make the build file a copy of the published one (none: no build file), then clear the
        unpublished mark. The build's WAL goes first: replayed onto the copy it would corrupt it.
        A crash half-way leaves the mark, so the next session resets again."""
        _wal(self.build).unlink(missing_ok=True)
        if self.published.exists():
            partial = self.build.with_name(f".{self.build.name}.resetting-{os.getpid()}")
            try:
                copy_file(self.published, partial)
                os.replace(partial, self.build)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        else:
            self.build.unlink(missing_ok=True)
        fsync_dir(self.build.parent)
        self._clear_mark()

    def _mark_unpublished(self, holder: str) -> None:
        self.unpublished_mark.write_text(f"{holder}, pid {os.getpid()}\n", encoding="utf-8")
        fsync_file(self.unpublished_mark)
        fsync_dir(self.unpublished_mark.parent)

    def _clear_mark(self) -> None:
        self.unpublished_mark.unlink(missing_ok=True)
        fsync_dir(self.unpublished_mark.parent)
