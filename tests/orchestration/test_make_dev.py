"""`make dev` starts the UI with `dg dev` (no SupersessionWarning from `dagster dev`) on
127.0.0.1:3000, over the instance the Makefile exports as DAGSTER_HOME — the one `make run` uses."""

from __future__ import annotations

import subprocess

from techflow_core.paths import REPO_ROOT


def _dry_run(target: str) -> str:
    return subprocess.run(
        ["make", "-n", target], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_make_dev_runs_dg_dev_on_localhost_3000():
    commands = _dry_run("dev").splitlines()
    assert any(line.endswith("dg dev -h 127.0.0.1 -p 3000") for line in commands), commands
    assert not any("dagster dev" in line for line in commands)


def test_make_dev_and_make_run_share_the_exported_instance():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "export DAGSTER_HOME ?= $(CURDIR)/.dagster_home" in makefile
    printed = subprocess.run(
        ["make", "-s", "--eval", "print-home: ; @echo $$DAGSTER_HOME", "print-home"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    assert printed == str(REPO_ROOT / ".dagster_home")
