"""`techflow-dbt`: the dbt executable Dagster starts — dbt bound to the life of its parent.

dagster-dbt starts `dbt` as a plain child process. When the Python process that started it is
killed on its own (the OOM killer picks the biggest process; `kill -9 <pid>`), dbt keeps running,
keeps DuckDB's lock on the build file, and the next writer's dbt fails on it. So the code
location's dbt resource (resources.TechflowDbtCliResource) runs dbt through this launcher, which
before it replaces itself with dbt (exec: same pid, no extra process):

1. asks the kernel to SIGKILL it when its parent dies (Linux `prctl(PR_SET_PDEATHSIG)`, kept
   across exec), then checks the parent is still the one that started it (it may have died in
   between; then dbt never starts);
2. takes the dbt lock beside the build file (`$TECHFLOW_DBT_LOCK`, flock) on a descriptor dbt
   inherits: the kernel releases it only when dbt's process is gone. The next warehouse writer
   waits on that lock before it touches the build file (publish.DuckDBFilePublisher.writing), so
   even a dbt still dying (or, where prctl does not exist, still running) is never raced.

Done in a fresh single-threaded process rather than in a `preexec_fn` of the Dagster process,
which Python documents as unsafe with threads (Dagster's process has several).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import sys
from pathlib import Path

PARENT_PID_ENV = "TECHFLOW_DBT_PARENT_PID"
DBT_LOCK_ENV = "TECHFLOW_DBT_LOCK"
PR_SET_PDEATHSIG = 1  # linux/prctl.h
EXIT_NOT_STARTED = 3


def die_with_parent() -> bool:
    """SIGKILL this process when its parent dies. False where the kernel has no such option."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    return True


def hold_dbt_lock(path: Path) -> int:
    """flock `path` on a descriptor that survives exec, so dbt holds it until its process is gone.
    Never blocks: the writer that starts dbt has waited for the previous holder already."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise
    os.set_inheritable(fd, True)
    return fd


def dbt_executable() -> str:
    """dbt from this environment: beside this interpreter (the project's .venv/bin), else PATH."""
    beside = Path(sys.executable).parent / "dbt"
    found = str(beside) if beside.exists() else shutil.which("dbt")
    if not found:
        raise FileNotFoundError("dbt is not installed in this environment: run `make setup`")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    expected_parent = os.environ.get(PARENT_PID_ENV)
    die_with_parent()
    if expected_parent and os.getppid() != int(expected_parent):
        print(
            f"techflow-dbt: the process that started dbt (pid {expected_parent}) is gone; "
            "dbt not started",
            file=sys.stderr,
        )
        return EXIT_NOT_STARTED
    lock = os.environ.get(DBT_LOCK_ENV)
    if lock:
        try:
            hold_dbt_lock(Path(lock))
        except BlockingIOError:
            print(
                f"techflow-dbt: another dbt still holds {lock} (a writer that did not wait for "
                "it); dbt not started",
                file=sys.stderr,
            )
            return EXIT_NOT_STARTED
    dbt = dbt_executable()
    os.execv(dbt, [dbt, *args])
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
