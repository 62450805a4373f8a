"""WorldConfig: what world to generate and where to write it, with defaults from the environment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from data_generation.errors import InvalidInputError
from data_generation.seeds import DEFAULT_SEEDS_DIR
from techflow_core.clock import as_of_date
from techflow_core.settings import (
    DEFAULT_WORLD_START,
    MAX_WORLD_SCALE,
    data_dir_from_env,
    world_start_from_env,
)


def default_data_dir() -> Path:
    """$TECHFLOW_DATA_DIR, or <repo>/data (parsed by techflow_core.settings)."""
    return data_dir_from_env()


def default_world_start() -> dt.date:
    """$TECHFLOW_WORLD_START (YYYY-MM-DD), or the core's default: fixed so partition keys never
    move (parsed by techflow_core.settings)."""
    return world_start_from_env()


def default_end_date() -> dt.date:
    """The as-of day ($TECHFLOW_AS_OF, default yesterday UTC): the world's default last day."""
    return as_of_date()


@dataclass(frozen=True)
class WorldConfig:
    """One synthetic world.

    start:     the world's first day; everything is simulated from here, so a day's files depend
               on (start, scale, seed, dirt, seeds) and never on which range is being generated.
    scale:     1.0 ≈ 20,000 signups over two years; volumes grow linearly.
    seed:      the root of every random draw.
    dirt:      realistic defects on (see the package docstring); False gives a clean world.
    out_dir:   the raw root; files land at
               <out_dir>/<system>/<table>/date=YYYY-MM-DD/part-0.parquet.
    seeds_dir: the dbt seeds (plans, features, UTM mapping) the world is built from.
    """

    start: dt.date = DEFAULT_WORLD_START
    scale: float = 1.0
    seed: int = 42
    dirt: bool = True
    out_dir: Path = field(default_factory=lambda: default_data_dir() / "raw")
    seeds_dir: Path = DEFAULT_SEEDS_DIR

    def __post_init__(self) -> None:
        if not isinstance(self.scale, int | float) or not self.scale > 0:
            raise InvalidInputError(
                f"scale must be a number > 0 (got {self.scale!r}); e.g. --scale 1"
            )
        if self.scale > MAX_WORLD_SCALE:
            raise InvalidInputError(
                f"scale {self.scale} is too large; use at most {MAX_WORLD_SCALE:g}"
            )
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**31:
            raise InvalidInputError(f"seed must be an integer in [0, 2^31) (got {self.seed!r})")
        object.__setattr__(self, "out_dir", Path(self.out_dir))
        object.__setattr__(self, "seeds_dir", Path(self.seeds_dir))

    @classmethod
    def from_env(cls, **overrides: object) -> WorldConfig:
        """Defaults from TECHFLOW_DATA_DIR (raw/ under it) and TECHFLOW_WORLD_START."""
        values: dict[str, object] = {
            "start": default_world_start(),
            "out_dir": default_data_dir() / "raw",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def day_index(self, day: dt.date) -> int:
        """Days since the world's start (0 = start)."""
        return (day - self.start).days
