"""Publish a file by rename, durably: its bytes reach the disk before its new name does.

A rename is atomic (a reader sees the old file or the new one), but without an fsync first a
power loss or kernel crash right after it can leave the new name on an empty or half-written file:
ext4 and XFS may persist the rename before the data. So whatever publishes by rename — the raw
day files, the dashboards, the published warehouse, slim CI's production state — writes a
temporary file, fsyncs it, renames it over the target, then fsyncs the directory so the rename
itself survives a crash.

Shared by every package (the generator, the code location, slim CI) as techflow_core.clock is.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_file(path: Path) -> None:
    """Flush `path`'s data and metadata to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it) to the disk."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(tmp: Path, target: Path, *, sync_dir: bool = True) -> None:
    """fsync `tmp`, rename it over `target` (atomic on POSIX), then fsync the directory.

    `sync_dir=False` skips the last fsync where losing the rename in a crash is harmless (a day
    file whose old version stays readable, re-written by the next run) and thousands of renames
    share one directory sync or none.
    """
    fsync_file(tmp)
    os.replace(tmp, target)
    if sync_dir:
        fsync_dir(target.parent)


def write_text_durably(target: Path, text: str, tmp_suffix: str = ".tmp") -> None:
    """Write `text` to a temporary name beside `target`, then `replace_durably` it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}{tmp_suffix}-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        replace_durably(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
