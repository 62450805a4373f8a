"""Docs coverage: the checker finds each kind of gap, and the real project has none."""

from __future__ import annotations

import pytest

from slim_ci.dbt_cli import read_json
from slim_ci.docs import DOCS_TARGET, SITE_FILES, SITE_MARKER, generate
from slim_ci.docs_coverage import Undocumented, undocumented
from slim_ci.settings import CiSettings


def _manifest() -> dict:
    """A fully documented project: one model, seed, snapshot, source and exposure."""

    def node(kind: str, name: str) -> dict:
        return {
            "resource_type": kind,
            "package_name": "techflow",
            "name": name,
            "description": f"The {name}.",
            "original_file_path": f"{kind}s/{name}.sql",
            "patch_path": f"techflow://{kind}s/_{name}.yml",
            "columns": {"id": {"description": "Key."}},
        }

    return {
        "metadata": {"project_name": "techflow"},
        "nodes": {
            "model.techflow.dim_users": node("model", "dim_users"),
            "seed.techflow.plan_catalog": node("seed", "plan_catalog"),
            "snapshot.techflow.users_snapshot": node("snapshot", "users_snapshot"),
            "test.techflow.unique_x": {**node("test", "unique_x"), "description": ""},
        },
        "sources": {
            "source.techflow.stripe.invoices": {
                "package_name": "techflow",
                "source_name": "stripe",
                "name": "invoices",
                "source_description": "Stripe billing.",
                "description": "One row per invoice.",
                "original_file_path": "models/staging/stripe/_stripe__sources.yml",
                "columns": {"invoice_id": {"description": "Key."}},
            }
        },
        "exposures": {
            "exposure.techflow.board": {
                "package_name": "techflow",
                "name": "board",
                "description": "The board deck.",
                "original_file_path": "models/exposures.yml",
            }
        },
    }


def test_a_fully_documented_project_passes() -> None:
    assert undocumented(_manifest()) == []


def test_tests_need_no_description() -> None:
    """The fixture's test node has an empty description and is not reported."""
    assert all(item.kind != "test" for item in undocumented(_manifest()))


@pytest.mark.parametrize(
    ("uid", "kind", "name"),
    [
        ("model.techflow.dim_users", "model", "dim_users"),
        ("seed.techflow.plan_catalog", "seed", "plan_catalog"),
        ("snapshot.techflow.users_snapshot", "snapshot", "users_snapshot"),
    ],
)
def test_a_node_without_description_is_reported_with_its_yml(uid, kind, name) -> None:
    manifest = _manifest()
    manifest["nodes"][uid]["description"] = "  "
    assert undocumented(manifest) == [Undocumented(kind, name, None, f"{kind}s/_{name}.yml")]


def test_a_declared_column_without_description_is_reported() -> None:
    manifest = _manifest()
    manifest["nodes"]["model.techflow.dim_users"]["columns"]["email"] = {"description": ""}
    assert [str(i) for i in undocumented(manifest)] == [
        "models/_dim_users.yml: column dim_users.email has no description"
    ]


def test_a_warehouse_column_missing_from_the_yml_is_reported() -> None:
    catalog = {
        "nodes": {"model.techflow.dim_users": {"columns": {"ID": {}, "country_code": {}}}},
        "sources": {},
    }
    assert undocumented(_manifest(), catalog) == [
        Undocumented("model", "dim_users", "country_code", "models/_dim_users.yml")
    ]


def test_snapshot_bookkeeping_columns_are_exempt_but_others_are_not() -> None:
    catalog = {
        "nodes": {
            "snapshot.techflow.users_snapshot": {
                "columns": {"id": {}, "dbt_valid_from": {}, "dbt_scd_id": {}, "plan": {}}
            }
        }
    }
    assert [i.column for i in undocumented(_manifest(), catalog)] == ["plan"]


def test_sources_and_their_tables_and_columns_are_checked() -> None:
    manifest = _manifest()
    source = manifest["sources"]["source.techflow.stripe.invoices"]
    source["source_description"] = ""
    source["description"] = ""
    source["columns"]["amount_due"] = {"description": None}
    found = {(i.kind, i.name, i.column) for i in undocumented(manifest)}
    assert found == {
        ("source", "stripe", None),
        ("source", "stripe.invoices", None),
        ("source", "stripe.invoices", "amount_due"),
    }


def test_an_exposure_without_description_is_reported() -> None:
    manifest = _manifest()
    manifest["exposures"]["exposure.techflow.board"]["description"] = ""
    assert undocumented(manifest) == [
        Undocumented("exposure", "board", None, "models/exposures.yml")
    ]


@pytest.mark.slow
def test_every_model_column_source_seed_snapshot_and_exposure_is_described(
    built_warehouse, tmp_path
) -> None:
    """The site `make docs` generates over the built small world documents everything."""
    settings = CiSettings.from_env().with_overrides(
        data_dir=built_warehouse.data_dir, warehouse=built_warehouse.published
    )
    site = generate(settings, DOCS_TARGET, tmp_path / "site", echo=False)
    assert sorted(p.name for p in site.iterdir()) == sorted([*SITE_FILES, SITE_MARKER])
    catalog = read_json(site / "catalog.json")
    assert catalog["nodes"], "the catalog is empty: docs generate did not see the warehouse"
    missing = undocumented(read_json(site / "manifest.json"), catalog)
    assert missing == [], "add descriptions:\n" + "\n".join(map(str, missing))
