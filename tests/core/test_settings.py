"""Every TECHFLOW_* variable is parsed once, in techflow_core.settings, and checked at start: a bad
value is refused with one line naming the variable, instead of failing deep inside the first raw
step; the generator and slim CI read the same parse."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from techflow_core.errors import SettingsError
from techflow_core.paths import DBT_PROJECT_DIR, DBT_PROJECT_FILE, REPO_ROOT
from techflow_core.settings import DEFAULT_WORLD_START, TechflowSettings

AS_OF = {"TECHFLOW_AS_OF": "2026-06-14"}


@pytest.mark.parametrize("scale", ["nan", "NaN", "0", "-1", "inf", "-inf", "1e9", "big"])
def test_a_world_scale_that_is_not_a_size_is_refused_in_one_line(scale):
    with pytest.raises(ValueError, match="TECHFLOW_WORLD_SCALE=") as refused:
        TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": scale})
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("scale", ["0.05", "1", "10", "1000"])
def test_a_world_scale_is_a_positive_finite_number(scale):
    settings = TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": scale})
    assert settings.world_scale == float(scale)


def test_an_empty_world_scale_means_the_default_world():
    assert TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_SCALE": ""}).world_scale is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TECHFLOW_WORLD_START", "2025-13-01"),
        ("TECHFLOW_WORLD_START", "01/01/2025"),
        ("TECHFLOW_AS_OF", "yesterday"),
        ("TECHFLOW_AS_OF", "2026-02-30"),
    ],
)
def test_a_bad_date_is_refused_in_one_line_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=name) as refused:
        TechflowSettings.from_env({**AS_OF, name: value})
    assert "\n" not in str(refused.value)


def test_the_generator_and_slim_ci_read_the_same_parse(monkeypatch, tmp_path):
    """One parse: the variables the generator and slim CI share with the code location give
    every package the same data dir, warehouse and first day."""
    from data_generation import WorldConfig
    from slim_ci.settings import CiSettings

    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(tmp_path / "lake"))
    monkeypatch.setenv("TECHFLOW_WAREHOUSE", str(tmp_path / "readers" / "techflow.duckdb"))
    monkeypatch.setenv("TECHFLOW_WORLD_START", "2024-06-01")
    monkeypatch.setenv("TECHFLOW_AS_OF", "2026-06-14")
    settings = TechflowSettings.from_env()
    world = WorldConfig.from_env()
    ci = CiSettings.from_env()

    assert settings.data_dir == ci.data_dir == tmp_path / "lake"
    assert world.out_dir == settings.raw_dir == ci.raw_dir == tmp_path / "lake" / "raw"
    assert settings.warehouse == ci.warehouse == tmp_path / "readers" / "techflow.duckdb"
    assert settings.world_start == world.start == date(2024, 6, 1)


def test_a_bad_world_start_stops_the_generator_with_the_same_line(monkeypatch):
    from data_generation import WorldConfig

    monkeypatch.setenv("TECHFLOW_WORLD_START", "01/06/2024")
    with pytest.raises(SettingsError) as from_settings:
        TechflowSettings.from_env({**AS_OF, "TECHFLOW_WORLD_START": "01/06/2024"})
    with pytest.raises(SettingsError) as from_generator:
        WorldConfig.from_env()
    assert str(from_generator.value) == str(from_settings.value)
    assert str(from_settings.value).startswith("TECHFLOW_WORLD_START='01/06/2024'")


def test_unset_the_world_starts_on_the_dbt_projects_default():
    """Python and dbt start the world on the same day: the `world_start` var, read from
    dbt_project.yml (an independent read here, by line)."""
    line = next(
        line
        for line in DBT_PROJECT_FILE.read_text().splitlines()
        if line.strip().startswith("world_start:")
    )
    declared = date.fromisoformat(line.split(":", 1)[1].strip().strip("\"'"))
    assert TechflowSettings.from_env(AS_OF).world_start == declared == DEFAULT_WORLD_START


def _default_spellings() -> list[str]:
    day = DEFAULT_WORLD_START
    return [
        day.isoformat(),
        f"date({day.year}, {day.month}, {day.day})",
        f"date({day.year},{day.month},{day.day})",
    ]


def _shipped_sources() -> list[Path]:
    """Every file a default could hide in: the Python of every package but the tests, the dbt
    project's SQL and configuration, the Makefile and CI workflows. The dbt unit tests' fixtures
    (models/**/*.yml) pin their own dates and are not defaults."""
    dev_only = {"tests"}
    python = [
        path
        for package in REPO_ROOT.glob("*/__init__.py")
        if package.parent.name not in dev_only
        for path in package.parent.rglob("*.py")
    ]
    dbt = [
        *DBT_PROJECT_DIR.glob("*.yml"),
        *(
            path
            for folder in ("models", "macros", "tests", "snapshots", "analyses")
            for path in (DBT_PROJECT_DIR / folder).rglob("*.sql")
        ),
    ]
    return [*python, *dbt, REPO_ROOT / "Makefile", *REPO_ROOT.glob(".github/workflows/*.yml")]


def test_the_default_world_start_is_written_once():
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in _shipped_sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(spelling in line for spelling in _default_spellings())
    ]
    assert len(found) == 1 and found[0].startswith("techflow_dbt/dbt_project.yml:"), found


def test_dbt_reads_the_world_start_default_from_the_var_only():
    """No macro or model gives TECHFLOW_WORLD_START a default of its own."""
    literal_default = re.compile(r"env_var\(\s*['\"]TECHFLOW_WORLD_START['\"]\s*,\s*['\"]")
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in DBT_PROJECT_DIR.rglob("*.sql")
        if "target" not in path.relative_to(DBT_PROJECT_DIR).parts
        and literal_default.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
