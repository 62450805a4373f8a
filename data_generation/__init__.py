"""TechFlow's synthetic SaaS world: raw Parquet for every table of
schema.RAW_TABLES from 5 systems, day by day.

    from data_generation import WorldConfig, generate_day, generate_range, RAW_TABLES
    cfg = WorldConfig.from_env(scale=0.05)
    generate_range(cfg, cfg.start, default_end_date())

simulation/ models the business as one closed-form world, extracts/ turn it into each source
system's tables a day at a time, and generate.py / writer.py here write them as Parquet. See
data_generation/README.md for the simulated business, the layout and the dirt.
"""

from data_generation.config import WorldConfig, default_end_date
from data_generation.errors import InvalidInputError
from data_generation.generate import generate_day, generate_range
from data_generation.schema import RAW_TABLES, RAW_TABLES_BY_NAME, RawTable
from data_generation.writer import TableDayResult
from techflow_core.clock import AS_OF_ENV, as_of_date, pin_as_of

__all__ = [
    "AS_OF_ENV",
    "RAW_TABLES",
    "RAW_TABLES_BY_NAME",
    "InvalidInputError",
    "RawTable",
    "TableDayResult",
    "WorldConfig",
    "as_of_date",
    "default_end_date",
    "generate_day",
    "generate_range",
    "pin_as_of",
]
