"""Every dbt step reuses the prepared parse, and the partition window reaches dbt without a
re-parse; each step writes into a target folder of its own, and old folders are pruned.

`make manifest` parses the project once (target/dagster/partial_parse.msgpack). A step whose dbt
started from scratch logs "Unable to do partial parsing because saved manifest not found" in its
dbt.log; one that passed the window as `--vars` would log "... because config vars ... have
changed". What a reused parse logs instead is "Partial parsing enabled: ..." (dbt 1.11).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from techflow_orchestration.defs.warehouse.assets import TARGET_FOLDER_LOG
from techflow_orchestration.defs.warehouse.dbt_targets import (
    PARTIAL_PARSE_FILE,
    new_invocation_target,
    prune_invocations,
)
from techflow_orchestration.lib.keys import FCT_MRR_DAILY, MRR_PARTITIONED_KEYS

pytestmark = pytest.mark.slow

REUSED_PARSE = "Partial parsing enabled"
NO_REUSE = "Unable to do partial parsing"


def dbt_target_folders(instance, run_id: str) -> list[Path]:
    """The target folder of every dbt step of a run, in the order the steps ran."""
    return [
        Path(record.user_message.removeprefix(TARGET_FOLDER_LOG))
        for record in instance.all_logs(run_id)
        if record.user_message and record.user_message.startswith(TARGET_FOLDER_LOG)
    ]


def parse_lines(folder: Path) -> list[str]:
    """What dbt logged about parsing (dbt.log holds one JSON event per line; dbt rotates it at
    10 MB, so a big step's parse messages are in dbt.log.1)."""
    messages = [
        json.loads(line)["info"]["msg"]
        for log in sorted(folder.glob("dbt.log*"))
        for line in log.read_text().splitlines()
        if line.startswith("{")
    ]
    return [m for m in messages if "parsing" in m.lower() or "full parse" in m.lower()]


def test_a_partition_run_parses_partially_and_builds_exactly_its_window(dagster_world):
    day = dagster_world.partition_keys[-3]
    result = dagster_world.run_daily(day, asset_selection=list(MRR_PARTITIONED_KEYS))
    assert result.success

    [folder] = dbt_target_folders(dagster_world.instance, result.run_id)
    parsing = parse_lines(folder)
    assert any(REUSED_PARSE in line for line in parsing), parsing
    assert not any(NO_REUSE in line for line in parsing), parsing
    # The window reached dbt: the compiled model reads exactly that day, and no --vars were used.
    compiled = next(folder.glob("compiled/**/fct_mrr_daily.sql")).read_text()
    assert f"'{day}'" in compiled
    commands = [
        r.user_message
        for r in dagster_world.instance.all_logs(result.run_id)
        if r.user_message and r.user_message.startswith("Running dbt command")
    ]
    assert commands and all("--vars" not in c for c in commands), commands
    materialized = {
        e.partition
        for e in result.get_asset_materialization_events()
        if e.asset_key == FCT_MRR_DAILY
    }
    assert materialized == {day}


def test_the_dbt_step_of_a_range_run_parses_partially(dagster_world):
    keys = dagster_world.partition_keys
    dbt_assets = [
        key
        for key in dagster_world.defs.resolve_asset_graph().get_all_asset_keys()
        if key.path[0] != "raw"
        and dagster_world.defs.resolve_asset_graph().get(key).group_name != "snapshots"
    ]
    result = dagster_world.run_daily(keys[-3], keys[-1], asset_selection=dbt_assets)
    assert result.success

    [folder] = dbt_target_folders(dagster_world.instance, result.run_id)  # one dbt build
    parsing = parse_lines(folder)
    assert any(REUSED_PARSE in line for line in parsing), (folder.name, parsing)
    assert not any(NO_REUSE in line for line in parsing), (folder.name, parsing)


def test_a_new_target_folder_starts_from_the_prepared_parse_and_old_ones_are_pruned(
    prepared_manifest, tmp_path
):
    root = tmp_path / "invocations"
    # An empty parse cache: the repository's own (a `make run` in this checkout saves one for the
    # default warehouse, newer than the prepared parse) must not decide what this test sees.
    no_cache = tmp_path / "parse_cache"
    first = new_invocation_target("op", "run-0000", root=root, cache_dir=no_cache)
    assert (first / PARTIAL_PARSE_FILE).read_bytes() == (
        prepared_manifest.parent / PARTIAL_PARSE_FILE
    ).read_bytes()
    # Fifteen more, each a little newer than the last (mtime decides what is kept).
    folders = [first]
    for n in range(1, 16):
        folder = new_invocation_target("op", f"run-{n:04d}", root=root, cache_dir=no_cache)
        os.utime(folder, (1_000_000 + n, 1_000_000 + n))
        folders.append(folder)
    os.utime(first, (1_000_000, 1_000_000))

    # Creating a folder already keeps the newest KEEP_INVOCATIONS (12) of them.
    assert len(list(root.iterdir())) == 12
    assert first.exists()  # it was the newest until its mtime was set back

    deleted = prune_invocations(keep=4, root=root)

    assert sorted(p.name for p in root.iterdir()) == sorted(p.name for p in folders[-4:])
    assert first in deleted
