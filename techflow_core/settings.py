"""Where things live and which day it is: every TECHFLOW_* variable, parsed in this one place.

One frozen dataclass instead of scattered `os.environ` reads, so tests can build a settings object
for a temporary directory and a fixed as-of day, and everything downstream (the generator,
partitions, resources, alerts, the summary, slim CI, metrics) follows it. Each variable has one
parser below, which the generator and slim CI also call for the few values they need; a bad value
fails at start with a one-line SettingsError naming the variable. The variables and their
defaults are listed in README.md ("Configuration").
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from techflow_core.clock import AS_OF_ENV, as_of_date
from techflow_core.errors import SettingsError
from techflow_core.paths import DBT_PROJECT_FILE, REPO_ROOT
from techflow_core.warehouse import BUILD_WAREHOUSE_ENV, build_warehouse_for, default_warehouse
from techflow_core.webhook import WEBHOOK_ENV, validate_webhook_url

DATA_DIR_ENV = "TECHFLOW_DATA_DIR"
WAREHOUSE_ENV = "TECHFLOW_WAREHOUSE"
WORLD_START_ENV = "TECHFLOW_WORLD_START"
WORLD_SCALE_ENV = "TECHFLOW_WORLD_SCALE"


def _default_world_start() -> date:
    """The world's first day when TECHFLOW_WORLD_START is unset: the `world_start` var of
    techflow_dbt/dbt_project.yml, the one place it is written (dbt's macros read it there)."""
    project = yaml.safe_load(DBT_PROJECT_FILE.read_text(encoding="utf-8"))
    return date.fromisoformat(str(project["vars"]["world_start"]))


# Fixed, so partition keys never move.
DEFAULT_WORLD_START = _default_world_start()
# The largest world the generator accepts (TECHFLOW_WORLD_SCALE here, --scale in the generator).
MAX_WORLD_SCALE = 1000.0


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def data_dir_from_env(
    environ: Mapping[str, str] | None = None, repo_root: Path = REPO_ROOT
) -> Path:
    """$TECHFLOW_DATA_DIR, or <repo>/data; absolute (resolved against this process's cwd)."""
    return Path(_env(environ).get(DATA_DIR_ENV) or repo_root / "data").resolve()


def warehouse_from_env(
    environ: Mapping[str, str] | None = None, data_dir: Path | None = None
) -> Path:
    """$TECHFLOW_WAREHOUSE (the published file readers open), else warehouse/techflow.duckdb
    under `data_dir` (default: the data dir the environment names)."""
    raw = _env(environ).get(WAREHOUSE_ENV)
    if raw:
        return Path(raw).resolve()
    return default_warehouse(data_dir or data_dir_from_env(environ))


def world_start_from_env(environ: Mapping[str, str] | None = None) -> date:
    """$TECHFLOW_WORLD_START (YYYY-MM-DD), or DEFAULT_WORLD_START."""
    raw = (_env(environ).get(WORLD_START_ENV) or "").strip()
    if not raw:
        return DEFAULT_WORLD_START
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise SettingsError(
            f"{WORLD_START_ENV}={raw!r} is not an ISO date; set it as YYYY-MM-DD (e.g. "
            f"{DEFAULT_WORLD_START.isoformat()}) or unset it to use that day."
        ) from exc


def _parse_scale(raw: str) -> float:
    """A finite number in (0, MAX_WORLD_SCALE]: nan, inf, 0 and negatives are refused here, at
    start, not deep inside the first raw step."""
    try:
        scale = float(raw)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and 0 < scale <= MAX_WORLD_SCALE):
        raise SettingsError(
            f"{WORLD_SCALE_ENV}={raw!r} is not a world size: set a number above 0 and at most "
            f"{MAX_WORLD_SCALE:g} (e.g. 0.05), or unset it for 1."
        )
    return scale


def _parse_webhook(raw: str) -> str | None:
    """None when unset; an http(s) URL, or a SettingsError naming TECHFLOW_ALERT_WEBHOOK (the value
    itself is a secret and is never echoed)."""
    return validate_webhook_url(raw) if raw.strip() else None


@dataclass(frozen=True)
class TechflowSettings:
    data_dir: Path
    # The PUBLISHED warehouse ($TECHFLOW_WAREHOUSE): the one DuckDB file every reader opens,
    # read-only; replaced atomically by each audited build (the code location's publish step).
    warehouse: Path
    world_start: date
    # The platform's one clock: the last complete day everything is built through
    # ($TECHFLOW_AS_OF, default yesterday UTC; techflow_core.clock).
    as_of: date
    # An http(s) URL (validated by from_env); a secret: Dagster reads it through EnvVar
    # (resources.alerts_resource), this field only says whether one is set.
    alert_webhook: str | None = field(default=None, repr=False)
    # None = the generator's default (1.0). Not part of the shared contract: an orchestration knob
    # so tests and benchmarks can run the real code location over a small world.
    world_scale: float | None = None
    # True when the as-of day was fixed (TECHFLOW_AS_OF, or whoever built these settings): the
    # daily partitions then end on it. False when it is the default, yesterday as of the moment
    # the settings were resolved: a long-lived process (the `make dev` code server) must not
    # freeze that day, so its partitions stay open-ended on Dagster's own clock.
    as_of_pinned: bool = True
    # $TECHFLOW_BUILD_WAREHOUSE when set; else the build file is derived from `warehouse`
    # (see `build_warehouse`), so a settings object copied with another warehouse follows it.
    build_warehouse_override: Path | None = None

    def __post_init__(self) -> None:
        if self.build_warehouse == self.warehouse:
            raise SettingsError(
                f"{BUILD_WAREHOUSE_ENV} and TECHFLOW_WAREHOUSE name the same file "
                f"({self.warehouse}): builds must go to a private file that is published over "
                f"the readers' one; unset {BUILD_WAREHOUSE_ENV} to use "
                f"{build_warehouse_for(self.warehouse)}."
            )
        if self.as_of < self.world_start:
            raise SettingsError(
                f"The as-of day {self.as_of} ({AS_OF_ENV}) is before the world's first day "
                f"{self.world_start} (TECHFLOW_WORLD_START): set {AS_OF_ENV} to "
                f"{self.world_start} or later, or an earlier TECHFLOW_WORLD_START."
            )

    @property
    def build_warehouse(self) -> Path:
        """The private DuckDB file dbt and the churn scores writer build in (write-audit-publish);
        its incremental state lives there. Nobody reads it but the writer."""
        return self.build_warehouse_override or build_warehouse_for(self.warehouse)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def alerts_file(self) -> Path:
        return self.data_dir / "alerts" / "alerts.jsonl"

    @property
    def last_partition_day(self) -> date | None:
        """The last daily partition when the as-of day is pinned; None: open-ended (Dagster's
        clock decides, and its last partition is yesterday, UTC)."""
        return self.as_of if self.as_of_pinned else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TechflowSettings:
        env = _env(environ)
        # Resolved to absolute paths once, here (relative to this process's working directory),
        # then exported as such: dbt runs from techflow_dbt/ and would resolve a relative path
        # against that, landing on another file (export_to_environment).
        build_raw = env.get(BUILD_WAREHOUSE_ENV)
        scale_raw = env.get(WORLD_SCALE_ENV)
        return cls(
            data_dir=data_dir_from_env(env),
            warehouse=warehouse_from_env(env),
            world_start=world_start_from_env(env),
            as_of=as_of_date(env),
            alert_webhook=_parse_webhook(env.get(WEBHOOK_ENV) or ""),
            world_scale=_parse_scale(scale_raw) if scale_raw else None,
            as_of_pinned=bool((env.get(AS_OF_ENV) or "").strip()),
            build_warehouse_override=Path(build_raw).resolve() if build_raw else None,
        )

    def export_to_environment(self) -> None:
        """Pin the resolved, absolute paths and the as-of day into this process's environment.

        dbt runs as a subprocess that inherits `os.environ` and resolves the warehouse path itself
        (techflow_dbt/profiles.yml), from techflow_dbt/. The paths are overwritten with the
        absolute ones resolved here — the same files the user named, now whatever the cwd — so a
        relative TECHFLOW_DATA_DIR cannot leave dbt and Python on different files. The other
        values keep any setting the user already chose (`setdefault`).

        TECHFLOW_AS_OF is exported only when it is pinned (see `as_of_pinned`): a default
        "yesterday" written into a long-lived process (the code server `make dev` keeps running
        for days) would freeze its clock. One-shot entry points pin the day first
        (`techflow_core.clock.pin_as_of`, as `make run` does), so their settings are pinned.
        """
        os.environ[DATA_DIR_ENV] = str(self.data_dir)
        os.environ[WAREHOUSE_ENV] = str(self.warehouse)
        # Only when the user chose the build file: otherwise dbt derives it from
        # TECHFLOW_WAREHOUSE exactly as `build_warehouse` does, and nothing stale can linger in a
        # long-lived process (a test session) that later points TECHFLOW_WAREHOUSE elsewhere.
        if self.build_warehouse_override is not None:
            os.environ[BUILD_WAREHOUSE_ENV] = str(self.build_warehouse_override)
        os.environ.setdefault(WORLD_START_ENV, self.world_start.isoformat())
        if self.as_of_pinned:
            os.environ.setdefault(AS_OF_ENV, self.as_of.isoformat())
