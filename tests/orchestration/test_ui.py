"""End to end in a real browser: `dagster dev` over a temporary instance, headless Chromium
(Debian's, driven by Playwright), materialize one partition of fct_mrr_daily from the UI, and see
the run succeed. The screenshot of the finished run is kept under artifacts/."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterRunStatus

from techflow_core.paths import REPO_ROOT
from techflow_orchestration.lib.keys import FCT_MRR_DAILY

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "artifacts"
UI_START_TIMEOUT_S = 240
RUN_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium, installed on first use (CI runs as root with Debian's repos)."""
    if not CHROMIUM.exists():
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=apt_env)
    assert CHROMIUM.exists(), f"{CHROMIUM} missing after apt-get install chromium"
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_ui(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + UI_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"dagster dev exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    pytest.fail(
        f"dagster dev did not serve {url} in {UI_START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}"
    )


def _real_clock(env: dict[str, str]) -> dict[str, str]:
    """The environment without libfaketime. CI runs the suite with the calendar clock faked
    (.ci/run); libfaketime shifts the monotonic clock with it, which stalls the daemon's run
    queue (a run launched from the UI stays QUEUED). The UI server runs on the real clock; the
    world's dates do not depend on it (TECHFLOW_AS_OF is pinned)."""
    env = {k: v for k, v in env.items() if "FAKETIME" not in k and k != "DONT_FAKE_MONOTONIC"}
    if "faketime" in env.get("LD_PRELOAD", ""):
        del env["LD_PRELOAD"]
    return env


@pytest.fixture(scope="module")
def dagster_ui(dagster_world, tmp_path_factory) -> Iterator[str]:
    """`dagster dev` (webserver + daemon) on a free port over the world's temporary instance."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("dagster_dev") / "dagster_dev.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port),
             "-w", "workspace.yaml"],
            cwd=REPO_ROOT,
            env=_real_clock({**os.environ, **dagster_world.env}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )  # fmt: skip
    try:
        _wait_for_ui(url, proc, log)
        yield url
    finally:
        # Ctrl-C for the whole group: dagster dev shuts its webserver, daemon and code server down.
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for_run(instance, partition: str, known_run_ids: set[str]):
    """The first run of `partition` that is not one of `known_run_ids`, once it has finished."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = [
            r
            for r in instance.get_run_records()
            if r.dagster_run.tags.get("dagster/partition") == partition
            and r.dagster_run.run_id not in known_run_ids
        ]
        if runs and runs[0].dagster_run.is_finished:
            return runs[0].dagster_run
        time.sleep(3)
    pytest.fail(f"no finished run for partition {partition} within {RUN_TIMEOUT_S}s")


def test_materialize_a_partition_of_fct_mrr_daily_from_the_ui(dagster_world, dagster_ui, chromium):
    from playwright.sync_api import expect, sync_playwright

    day = dagster_world.partition_keys[-2]
    runs_before = {r.dagster_run.run_id for r in dagster_world.instance.get_run_records()}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{dagster_ui}/assets/fct_mrr_daily")
        materialize = page.get_by_role("button", name="Materialize…")
        materialize.wait_for(timeout=120_000)
        # First visit to a fresh instance: the "Join the Dagster community" dialog.
        page.get_by_role("button", name="Skip").click(timeout=30_000)
        materialize.click()

        dialog = page.get_by_role("dialog")
        # The partition picker's text box: its placeholder is an example range ("ex: …") when
        # the asset has a bounded range of partitions, "No matching partitions" otherwise.
        partitions = dialog.get_by_placeholder(re.compile(r"^ex: |^No matching partitions"))
        partitions.fill(day)
        partitions.press("Enter")
        dialog.get_by_role("button", name="Launch 1 run").click()

        run = _wait_for_run(dagster_world.instance, day, runs_before)
        page.goto(f"{dagster_ui}/runs/{run.run_id}")
        expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("RUN_SUCCESS").first).to_be_visible(timeout=60_000)
        page.screenshot(path=ARTIFACTS / "ui_fct_mrr_daily_partition_run.png", full_page=True)
        page.goto(f"{dagster_ui}/asset-groups")
        page.wait_for_timeout(3000)
        page.screenshot(path=ARTIFACTS / "ui_lineage.png")
        browser.close()

    assert run.status is DagsterRunStatus.SUCCESS
    assert run.tags.get("dagster/partition") == day
    materialized = dagster_world.instance.get_latest_materialization_event(FCT_MRR_DAILY)
    assert materialized.run_id == run.run_id
