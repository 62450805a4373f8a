"""Reading the raw Parquet the way the raw contract describes it (data_generation/schema.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

SEEDS_DIR = Path(__file__).resolve().parents[2] / "techflow_dbt" / "seeds"
QA_DOMAIN = "@techflow.test"


def read_raw(raw_dir: Path, system: str, table: str) -> pl.DataFrame:
    """Every landed row of a raw table, across its daily partitions (`date` = the landing day)."""
    return pl.read_parquet(raw_dir / system / table / "*" / "*.parquet", hive_partitioning=True)


def read_seed(name: str) -> pl.DataFrame:
    return pl.read_csv(SEEDS_DIR / f"{name}.csv")


def latest_versions(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """The newest version of each key: the mutable tables land every change as a new row."""
    return frame.sort(["updated_at", "_loaded_at"]).unique(subset=[key], keep="last")


def landed_by(frame: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """Rows of partitions landed on or before the as-of day."""
    return frame.filter(pl.col("date").cast(pl.Date) <= as_of)


def is_qa(email: pl.Expr) -> pl.Expr:
    return email.str.strip_chars().str.to_lowercase().str.ends_with(QA_DOMAIN)


def real_users(raw_dir: Path) -> pl.DataFrame:
    """The latest version of every app user that is not an internal QA account."""
    users = latest_versions(read_raw(raw_dir, "app_db", "users"), "user_id")
    return users.filter(~is_qa(pl.col("email")))


def customer_ids(raw_dir: Path) -> pl.Series:
    """Customers are real app users (the billing account is the owner's user_id)."""
    return real_users(raw_dir)["user_id"]


def month_start(column: str | pl.Expr) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    return expr.dt.truncate("1mo").dt.date()
