"""An exclusive lock between the processes of this machine: `flock` on a lock file.

Why not only Dagster's `duckdb` pool: on SQLite instance storage two processes that claim the
pool's one slot in the same instant can both get it (the claim is a SELECT of a free slot row
followed by an UPDATE of that row by id; SQLite has no `SELECT … FOR UPDATE`, so both read the
same free row and both update it), and the loser then failed on DuckDB's file lock. The kernel's
lock has no such window, and it is released by the kernel when its holder dies, however it dies
(kill -9, OOM): nobody has to notice and clean up. A writer that finds it taken waits; it never
fails. The pool stays, for what it does well: queueing steps in the UI.

The lock file holds a line naming its current holder, so a waiting writer can say whom it waits
for.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

Log = Callable[[str], None]


def holder_of(path: Path) -> str:
    """Who holds (or last held) the lock at `path`, as it wrote itself down."""
    try:
        return path.read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _lock(fd: int, path: Path, on_wait: Log | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if on_wait is not None:
            on_wait(f"Waiting for {path.name} ({path}), held by {holder_of(path)}")
        fcntl.flock(fd, fcntl.LOCK_EX)


@contextmanager
def exclusive(path: Path, holder: str, on_wait: Log | None = None) -> Iterator[None]:
    """Hold the lock at `path` for the block; wait (telling `on_wait` whom for) while another
    process holds it. The descriptor is close-on-exec: children do not inherit the lock."""
    fd = _open(path)
    try:
        _lock(fd, path, on_wait)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {holder} (since {since})\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def wait_until_free(path: Path, on_wait: Log | None = None) -> None:
    """Return once nobody holds the lock at `path` (take it and let it go at once)."""
    fd = _open(path)
    try:
        _lock(fd, path, on_wait)
    finally:
        os.close(fd)
