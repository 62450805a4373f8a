"""Bad input to `make ci-slim` stops with one line that says what is missing and how, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dbt.version import __version__ as installed_dbt

from slim_ci import prod_state
from slim_ci.__main__ import main
from slim_ci.errors import BadInput
from slim_ci.pipeline import ensure_prod_state
from slim_ci.settings import CiSettings


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, f"expected one line, got:\n{err}"
    return code, err


def _write_state(state: Path, dbt_version: str) -> None:
    state.mkdir(parents=True)
    manifest = {
        "metadata": {"dbt_version": dbt_version},
        "nodes": {"model.techflow.m": {"resource_type": "model", "database": "techflow"}},
    }
    (state / "manifest.json").write_text(json.dumps(manifest))
    (state / "techflow.duckdb").write_bytes(b"")


def test_missing_production_state_exits_2_and_says_how_to_get_it(tmp_path, capsys) -> None:
    code, err = _run(capsys, "--state", str(tmp_path / "prod-state"))
    assert code == 2
    assert f"{tmp_path / 'prod-state' / 'manifest.json'} does not exist" in err
    assert "download the prod-state artifact" in err


def test_a_manifest_from_another_dbt_release_exits_2(tmp_path, capsys) -> None:
    _write_state(tmp_path / "state", "1.9.4")
    code, err = _run(capsys, "--state", str(tmp_path / "state"))
    assert code == 2
    assert f"written by dbt 1.9.4 but this is dbt {installed_dbt}" in err


def test_a_manifest_without_its_warehouse_exits_2(tmp_path, capsys) -> None:
    _write_state(tmp_path / "state", installed_dbt)
    (tmp_path / "state" / "techflow.duckdb").unlink()
    code, err = _run(capsys, "--state", str(tmp_path / "state"))
    assert code == 2
    assert "no production warehouse at" in err


def test_a_file_that_is_not_a_manifest_exits_2(tmp_path, capsys) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "manifest.json").write_text("<html>rate limited</html>")
    code, err = _run(capsys, "--state", str(tmp_path / "state"))
    assert code == 2
    assert "is not a dbt manifest" in err


def test_no_state_and_no_raw_data_to_build_it_exits_2(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(tmp_path / "data"))
    code, err = _run(capsys)
    assert code == 2
    assert f"no raw data in {tmp_path / 'data' / 'raw'}" in err
    assert "make run" in err
    assert not (tmp_path / "data" / "prod_artifacts").exists()


def test_state_from_an_older_base_is_used_with_a_note(tmp_path, capsys) -> None:
    """Reusable, but what merged on the base since then will count as modified: say so."""
    _write_state(tmp_path / "state", installed_dbt)
    (tmp_path / "state" / "prod_state.json").write_text(json.dumps({"base_commit": "a" * 40}))
    settings = CiSettings.from_env().with_overrides(
        state_dir=tmp_path / "state", prod_warehouse=tmp_path / "state" / "techflow.duckdb"
    )
    state = ensure_prod_state(settings, "b" * 40, explicit_state=True, rebuild=False, echo=False)
    assert state.database == "techflow"
    assert "built from aaaaaaaaaaaa but the base is bbbbbbbbbbbb" in capsys.readouterr().out


def test_slim_ci_only_builds_production_inside_its_state_dir(tmp_path) -> None:
    settings = CiSettings.from_env().with_overrides(
        state_dir=tmp_path / "state", prod_warehouse=tmp_path / "elsewhere" / "techflow.duckdb"
    )
    with pytest.raises(BadInput, match="outside"):
        prod_state.build(settings, "HEAD", echo=False)
