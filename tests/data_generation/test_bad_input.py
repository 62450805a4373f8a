"""Bad input: one line naming the problem and the fix, exit status 2, nothing written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from data_generation.cli import main
from data_generation.seeds import DEFAULT_SEEDS_DIR

ARGS = ["--start", "2025-01-01", "--end", "2025-01-03", "--scale", "0.05", "--quiet"]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def broken_seeds(tmp_path: Path, plan_catalog: str | None) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(DEFAULT_SEEDS_DIR, seeds)
    if plan_catalog is None:
        (seeds / "plan_catalog.csv").unlink()
    else:
        (seeds / "plan_catalog.csv").write_text(plan_catalog)
    return seeds


def assert_rejected(code: int, err: str, out: Path, *words: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0]
    assert not out.exists() or not any(out.rglob("*")), "nothing may be written"


def test_end_before_start(tmp_path, capsys):
    out = tmp_path / "raw"
    code, err = run(capsys, "--start", "2025-02-01", "--end", "2025-01-01", "--out", str(out))
    assert_rejected(code, err, out, "before start", "--end")


@pytest.mark.parametrize("scale", ["0", "-1"])
def test_scale_must_be_positive(tmp_path, capsys, scale):
    out = tmp_path / "raw"
    code, err = run(capsys, *ARGS[:4], "--scale", scale, "--out", str(out))
    assert_rejected(code, err, out, "scale", "> 0")


def test_unknown_table(tmp_path, capsys):
    out = tmp_path / "raw"
    code, err = run(capsys, *ARGS, "--tables", "users,invoicez", "--out", str(out))
    assert_rejected(code, err, out, "invoicez", "usage_events")


def test_missing_plan_catalog(tmp_path, capsys):
    out = tmp_path / "raw"
    seeds = broken_seeds(tmp_path, None)
    code, err = run(capsys, *ARGS, "--out", str(out), "--seeds-dir", str(seeds))
    assert_rejected(code, err, out, "plan_catalog.csv", "missing")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("plan_id,product\nx,cloudsync\n", ("lacks column", "price_per_period_cents")),
        (
            (DEFAULT_SEEDS_DIR / "plan_catalog.csv").read_text().replace(",1200,", ",twelve,"),
            ("line 2", "price_per_period_cents"),
        ),
        (
            "\n".join((DEFAULT_SEEDS_DIR / "plan_catalog.csv").read_text().splitlines()[:-1]),
            ("datahub/enterprise/annual",),
        ),
    ],
    ids=["missing-column", "non-numeric-price", "missing-plan"],
)
def test_malformed_plan_catalog(tmp_path, capsys, content, words):
    out = tmp_path / "raw"
    seeds = broken_seeds(tmp_path, content)
    code, err = run(capsys, *ARGS, "--out", str(out), "--seeds-dir", str(seeds))
    assert_rejected(code, err, out, "plan_catalog.csv", *words)


def _billing_seed(tmp_path: Path, name: str, content: str) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(DEFAULT_SEEDS_DIR, seeds)
    (seeds / name).write_text(content)
    return seeds


@pytest.mark.parametrize(
    ("name", "edit", "words"),
    [
        # A currency a country bills in, without its monthly rates: invoices cannot be priced.
        ("fx_rates.csv", lambda text: "\n".join(
            line for line in text.splitlines() if ",gbp," not in line), ("'gbp'", "rate_month")),
        ("fx_rates.csv", lambda text: text.replace("2025-03-01,eur", "2025-03-15,eur"),
         ("2025-03-15", "first day of a month")),
        ("country_billing.csv", lambda text: text.replace("DE,eur,vat,0.19", "DE,eur,vat,19"),
         ("tax_rate", "DE")),
    ],
    ids=["currency-without-rates", "mid-month-rate", "tax-rate-as-percent"],
)  # fmt: skip
def test_malformed_billing_seeds(tmp_path, capsys, name, edit, words):
    """The currency and tax seeds are checked before anything is written."""
    out = tmp_path / "raw"
    seeds = _billing_seed(tmp_path, name, edit((DEFAULT_SEEDS_DIR / name).read_text()))
    code, err = run(capsys, *ARGS, "--out", str(out), "--seeds-dir", str(seeds))
    assert_rejected(code, err, out, name, *words)


def test_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    out = blocker / "raw"
    code, err = run(capsys, *ARGS, "--out", str(out))
    assert code == 2
    assert "not writable" in err and "--out" in err
    assert blocker.read_text() == "not a directory"


def test_the_console_entry_point_exits_2(tmp_path):
    out = tmp_path / "raw"
    done = subprocess.run(
        [sys.executable, "-m", "data_generation", "--start", "2025-02-01", "--end", "2025-01-01",
         "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [["--start", "2025-13-01"], ["--scale", "lots"], ["--bogus"], ["--workers", "0"],
     ["--workers", "two"]],
)  # fmt: skip
def test_malformed_arguments_are_one_line_too(tmp_path, capsys, argv):
    out = tmp_path / "raw"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()
