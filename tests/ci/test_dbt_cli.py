"""A failed dbt run is reported by its errors, not by the SKIPs that follow them."""

from __future__ import annotations

from collections import deque

from slim_ci.dbt_cli import failure_summary, minor_version


def test_the_failure_summary_is_dbts_end_of_run_summary() -> None:
    lines = [
        "1 of 3 ERROR creating sql view model staging.stg_users\n",
        "2 of 3 SKIP relation finance.dim_customers\n",
        "3 of 3 SKIP test unique_dim_customers_customer_id\n",
        "Completed with 1 error, 0 partial successes, and 0 warnings:\n",
        "Failure in model stg_users (models/staging/stg_users.sql)\n",
        "  Binder Error: column full_nam does not exist\n",
        "Done. PASS=0 WARN=0 ERROR=1 SKIP=2 NO-OP=0 TOTAL=3\n",
    ]
    summary = failure_summary(lines, deque(lines[-2:]))
    assert summary.startswith("Completed with 1 error")
    assert "column full_nam does not exist" in summary
    assert "SKIP" not in summary.replace("SKIP=2", "")


def test_without_a_summary_the_tail_is_shown() -> None:
    lines = ["Encountered an error:\n", "Runtime Error: could not set lock on file\n"]
    assert failure_summary(lines, deque(lines)) == "".join(lines)


def test_manifests_are_compatible_within_a_minor_release() -> None:
    assert minor_version("1.11.16") == minor_version("1.11.2") == "1.11"
    assert minor_version("1.10.0") != minor_version("1.11.0")
