"""Where things live: every path and date the code location needs, resolved from the environment.

One frozen dataclass instead of scattered `os.environ` reads, so tests can build a settings object
for a temporary directory and everything downstream (partitions, resources, alerts) follows it.
Defaults match ../shared/ARCHITECTURE.md (section "Configuration").
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "techflow_dbt"
DEFAULT_WORLD_START = date(2025, 1, 1)


def yesterday_utc(now: datetime | None = None) -> date:
    """The last complete UTC day: the newest daily partition and the default world's last day."""
    now = now or datetime.now(UTC)
    return (now.astimezone(UTC) - timedelta(days=1)).date()


def _parse_world_start(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValueError(
            f"TECHFLOW_WORLD_START={raw!r} is not an ISO date; set it like 2025-01-01 or unset it "
            f"to use {DEFAULT_WORLD_START.isoformat()}."
        ) from exc


def _parse_scale(raw: str) -> float:
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(
            f"TECHFLOW_WORLD_SCALE={raw!r} is not a number; set it like 0.05 or unset it for 1.0."
        ) from exc


@dataclass(frozen=True)
class TechflowSettings:
    data_dir: Path
    warehouse: Path
    world_start: date
    alert_webhook: str | None = None
    # None = the generator's default (1.0). Not part of the shared contract: an orchestration knob
    # so tests and benchmarks can run the real code location over a small world.
    world_scale: float | None = None

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def alerts_file(self) -> Path:
        return self.data_dir / "alerts" / "alerts.jsonl"

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> TechflowSettings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("TECHFLOW_DATA_DIR") or REPO_ROOT / "data").resolve()
        warehouse_raw = env.get("TECHFLOW_WAREHOUSE")
        warehouse = (
            Path(warehouse_raw).resolve()
            if warehouse_raw
            else data_dir / "warehouse" / "techflow.duckdb"
        )
        start_raw = env.get("TECHFLOW_WORLD_START")
        world_start = _parse_world_start(start_raw) if start_raw else DEFAULT_WORLD_START
        scale_raw = env.get("TECHFLOW_WORLD_SCALE")
        return cls(
            data_dir=data_dir,
            warehouse=warehouse,
            world_start=world_start,
            alert_webhook=env.get("TECHFLOW_ALERT_WEBHOOK") or None,
            world_scale=_parse_scale(scale_raw) if scale_raw else None,
        )

    def export_to_environment(self) -> None:
        """Pin the resolved, absolute paths into this process's environment.

        dbt runs as a subprocess that inherits `os.environ` and resolves the warehouse path itself
        (techflow_dbt/profiles.yml); its fallback is relative to techflow_dbt/. Exporting absolute
        paths makes the generator, dbt and the summary agree on one file whatever the cwd.
        `setdefault` keeps any value the user already chose.
        """
        os.environ.setdefault("TECHFLOW_DATA_DIR", str(self.data_dir))
        os.environ.setdefault("TECHFLOW_WAREHOUSE", str(self.warehouse))
        os.environ.setdefault("TECHFLOW_WORLD_START", self.world_start.isoformat())
