"""Bad raw marketing and CRM data fails the build with a test that names the model and column.

Each case writes a tiny raw world with one defect, builds only the staging model it lands in
(with that model's tests), and checks which tests failed: the failure must point at the model
and column to fix, not surface later as a wrong ROI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.dbt.raw_fixtures import at, write_world
from tests.support import DbtProject

pytestmark = pytest.mark.slow

DAY = dt.date(2025, 3, 1)


def spend(channel: str, campaign: str, cents: int) -> dict[str, object]:
    return {
        "spend_date": DAY,
        "channel": channel,
        "campaign": campaign,
        "impressions": 1_000,
        "clicks": 10,
        "spend_cents": cents,
        "_loaded_at": at(DAY, 6),
    }


def opportunity(opportunity_id: str, account_id: str, stage: str) -> dict[str, object]:
    return {
        "opportunity_id": opportunity_id,
        "account_id": account_id,
        "stage": stage,
        "amount": 100_000,
        "updated_at": at(DAY, 9),
        "_loaded_at": at(DAY, 10),
    }


def failed_tests(
    tmp_path: Path, tables: dict[str, list[dict[str, object]]], *models: str
) -> set[tuple[str, str, str]]:
    """Build the models over a world of `tables`; (test, model, column) of every failed test."""
    data_dir = tmp_path / "data"
    write_world(data_dir / "raw", tables, first_day=DAY)
    # The channel seed too: channels are related to it (no hard-coded list).
    invocation = DbtProject(data_dir=data_dir, world_start=DAY).dbt(
        "build", "--select", "utm_channel_mapping", *models, "--exclude-resource-type", "unit_test"
    )
    assert not invocation.success, "the defect should fail the build"
    failed = set()
    for result in invocation.results:
        node = result.node
        if node.resource_type == "test" and str(result.status) == "fail":
            model = node.attached_node.split(".")[-1] if node.attached_node else ""
            failed.add((node.test_metadata.name, model, node.column_name or ""))
    return failed


def test_negative_spend_and_an_unknown_channel_fail_on_stg_marketing__ad_spend(
    tmp_path: Path,
) -> None:
    failed = failed_tests(
        tmp_path,
        {"ad_spend": [spend("paid_search", "brand_search", -500), spend("tv", "superbowl", 900)]},
        "stg_marketing__ad_spend",
    )
    assert failed == {
        ("expect_column_values_to_be_between", "stg_marketing__ad_spend", "spend_usd"),
        ("relationships", "stg_marketing__ad_spend", "channel"),
    }


def test_a_deal_on_an_unknown_account_or_stage_fails_on_stg_salesforce__opportunities(
    tmp_path: Path,
) -> None:
    account = {
        "account_id": "001A",
        "domain": "acme.io",
        "updated_at": at(DAY, 8),
        "_loaded_at": at(DAY, 9),
    }
    failed = failed_tests(
        tmp_path,
        {
            "accounts": [account],
            "opportunities": [
                opportunity("006A", "001A", "Won Maybe"),
                opportunity("006B", "001MISSING", "Prospecting"),
            ],
        },
        "stg_salesforce__accounts",
        "stg_salesforce__opportunities",
    )
    assert failed == {
        ("accepted_values", "stg_salesforce__opportunities", "stage"),
        ("relationships", "stg_salesforce__opportunities", "account_id"),
    }
