"""Where things live and which day it is: every path and date the code location needs, resolved
from the environment.

One frozen dataclass instead of scattered `os.environ` reads, so tests can build a settings object
for a temporary directory and a fixed as-of day, and everything downstream (partitions, resources,
alerts, the summary) follows it. The variables and their defaults are listed in README.md
("Configuration").
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from techflow_core.clock import AS_OF_ENV, as_of_date
from techflow_orchestration.alerts import validate_webhook_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "techflow_dbt"
DEFAULT_WORLD_START = date(2025, 1, 1)
# The largest world the generator accepts (data_generation.config.WorldConfig).
MAX_WORLD_SCALE = 1000.0
BUILD_WAREHOUSE_ENV = "TECHFLOW_BUILD_WAREHOUSE"


def build_warehouse_for(published: Path) -> Path:
    """The private file dbt builds and tests in before it is published over `published`:
    build/<same name> beside it. Same name, so DuckDB gives the copy the same catalog name
    (techflow). techflow_dbt/profiles.yml derives the same path for plain `dbt` runs."""
    return published.parent / "build" / published.name


def _parse_world_start(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(
            f"TECHFLOW_WORLD_START={raw!r} is not an ISO date; set it like 2025-01-01 or unset it "
            f"to use {DEFAULT_WORLD_START.isoformat()}."
        ) from exc


def _parse_scale(raw: str) -> float:
    """A finite number in (0, MAX_WORLD_SCALE]: nan, inf, 0 and negatives are refused here, at
    start, not deep inside the first raw step."""
    try:
        scale = float(raw)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and 0 < scale <= MAX_WORLD_SCALE):
        raise ValueError(
            f"TECHFLOW_WORLD_SCALE={raw!r} is not a world size: set a number above 0 and at most "
            f"{MAX_WORLD_SCALE:g} (e.g. 0.05), or unset it for 1."
        )
    return scale


def _parse_webhook(raw: str) -> str | None:
    """None when unset; an http(s) URL, or a ValueError naming TECHFLOW_ALERT_WEBHOOK (the value
    itself is a secret and is never echoed)."""
    return validate_webhook_url(raw) if raw.strip() else None


@dataclass(frozen=True)
class TechflowSettings:
    data_dir: Path
    # The PUBLISHED warehouse ($TECHFLOW_WAREHOUSE): the one DuckDB file every reader opens,
    # read-only; replaced atomically by each audited build (techflow_orchestration.publish).
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
            raise ValueError(
                f"{BUILD_WAREHOUSE_ENV} and TECHFLOW_WAREHOUSE name the same file "
                f"({self.warehouse}): builds must go to a private file that is published over "
                f"the readers' one; unset {BUILD_WAREHOUSE_ENV} to use "
                f"{build_warehouse_for(self.warehouse)}."
            )
        if self.as_of < self.world_start:
            raise ValueError(
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
        env = os.environ if environ is None else environ
        # Resolved to absolute paths once, here (relative to this process's working directory),
        # then exported as such: dbt runs from techflow_dbt/ and would resolve a relative path
        # against that, landing on another file (export_to_environment).
        data_dir = Path(env.get("TECHFLOW_DATA_DIR") or REPO_ROOT / "data").resolve()
        warehouse_raw = env.get("TECHFLOW_WAREHOUSE")
        warehouse = (
            Path(warehouse_raw).resolve()
            if warehouse_raw
            else data_dir / "warehouse" / "techflow.duckdb"
        )
        build_raw = env.get(BUILD_WAREHOUSE_ENV)
        start_raw = env.get("TECHFLOW_WORLD_START")
        world_start = _parse_world_start(start_raw) if start_raw else DEFAULT_WORLD_START
        scale_raw = env.get("TECHFLOW_WORLD_SCALE")
        return cls(
            data_dir=data_dir,
            warehouse=warehouse,
            world_start=world_start,
            as_of=as_of_date(env),
            alert_webhook=_parse_webhook(env.get("TECHFLOW_ALERT_WEBHOOK") or ""),
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
        os.environ["TECHFLOW_DATA_DIR"] = str(self.data_dir)
        os.environ["TECHFLOW_WAREHOUSE"] = str(self.warehouse)
        # Only when the user chose the build file: otherwise dbt derives it from
        # TECHFLOW_WAREHOUSE exactly as `build_warehouse` does, and nothing stale can linger in a
        # long-lived process (a test session) that later points TECHFLOW_WAREHOUSE elsewhere.
        if self.build_warehouse_override is not None:
            os.environ[BUILD_WAREHOUSE_ENV] = str(self.build_warehouse_override)
        os.environ.setdefault("TECHFLOW_WORLD_START", self.world_start.isoformat())
        if self.as_of_pinned:
            os.environ.setdefault(AS_OF_ENV, self.as_of.isoformat())
