"""Docs coverage: every model, seed, snapshot, source, exposure and column has a description.

Reads dbt's artifacts: manifest.json says what is documented; catalog.json (from `dbt docs
generate` against a built warehouse) adds the columns that exist in the warehouse but were never
declared in YAML — the ones a manifest-only check cannot see.

dbt's own snapshot bookkeeping columns (dbt_valid_from, ...) are exempt: dbt documents them,
and repeating that in every snapshot's YAML would only be noise.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slim_ci.dbt_cli import read_json

DOCUMENTED_NODE_TYPES = ("model", "seed", "snapshot")
SNAPSHOT_META_COLUMNS = frozenset(
    {"dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to", "dbt_is_deleted"}
)


@dataclass(frozen=True)
class Undocumented:
    kind: str  # model, seed, snapshot, source, exposure
    name: str  # e.g. stg_stripe__invoices, stripe.invoices
    column: str | None
    file: str  # where to add the description

    def __str__(self) -> str:
        what = f"column {self.name}.{self.column}" if self.column else f"{self.kind} {self.name}"
        return f"{self.file}: {what} has no description"


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def _columns(
    kind: str,
    name: str,
    file: str,
    declared: dict[str, Any],
    catalog_entry: dict[str, Any] | None,
    exempt: frozenset[str] = frozenset(),
) -> list[Undocumented]:
    missing = [
        Undocumented(kind, name, column, file)
        for column, spec in declared.items()
        if _blank(spec.get("description"))
    ]
    known = {column.lower() for column in declared}
    for column in (catalog_entry or {}).get("columns", {}):
        if column.lower() not in known and column.lower() not in exempt:
            missing.append(Undocumented(kind, name, column, file))
    return missing


def undocumented(
    manifest: dict[str, Any], catalog: dict[str, Any] | None = None
) -> list[Undocumented]:
    """Everything in the project (not in installed packages) that lacks a description."""
    project = manifest["metadata"].get("project_name")
    catalog_nodes = (catalog or {}).get("nodes", {})
    catalog_sources = (catalog or {}).get("sources", {})
    missing: list[Undocumented] = []

    for uid, node in manifest["nodes"].items():
        kind = node["resource_type"]
        if kind not in DOCUMENTED_NODE_TYPES or node.get("package_name") != project:
            continue
        file = node.get("patch_path") or node["original_file_path"]
        file = file.split("://", 1)[-1]  # patch_path reads "techflow://models/..."
        if _blank(node.get("description")):
            missing.append(Undocumented(kind, node["name"], None, file))
        exempt = SNAPSHOT_META_COLUMNS if kind == "snapshot" else frozenset()
        missing += _columns(
            kind, node["name"], file, node.get("columns", {}), catalog_nodes.get(uid), exempt
        )

    described_sources: set[str] = set()
    for uid, source in manifest.get("sources", {}).items():
        if source.get("package_name") != project:
            continue
        name = f"{source['source_name']}.{source['name']}"
        file = source["original_file_path"]
        # The source itself (its `description:` next to `tables:`) is checked once per source.
        if source["source_name"] not in described_sources:
            described_sources.add(source["source_name"])
            if _blank(source.get("source_description")):
                missing.append(Undocumented("source", source["source_name"], None, file))
        if _blank(source.get("description")):
            missing.append(Undocumented("source", name, None, file))
        missing += _columns(
            "source", name, file, source.get("columns", {}), catalog_sources.get(uid)
        )

    for exposure in manifest.get("exposures", {}).values():
        if exposure.get("package_name") == project and _blank(exposure.get("description")):
            missing.append(
                Undocumented("exposure", exposure["name"], None, exposure["original_file_path"])
            )
    # File order, then the node before its columns: the report reads like the YAML to fix.
    return sorted(missing, key=lambda i: (i.file, i.kind, i.name, i.column or ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slim_ci.docs_coverage", description=__doc__)
    parser.add_argument("target_dir", type=Path, help="dbt target dir with manifest.json")
    args = parser.parse_args(argv)
    manifest_path = args.target_dir / "manifest.json"
    if not manifest_path.exists():
        print(f"docs-coverage: {manifest_path} does not exist: run `make docs`", file=sys.stderr)
        return 2
    catalog_path = args.target_dir / "catalog.json"
    catalog = read_json(catalog_path) if catalog_path.exists() else None
    missing = undocumented(read_json(manifest_path), catalog)
    for item in missing:
        print(item)
    print(f"docs-coverage: {len(missing)} undocumented item(s)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
