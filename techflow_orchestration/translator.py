"""How dbt resources become Dagster assets: keys, groups, owners, tags and freshness, in one place.

- Sources resolve to the raw assets' keys ["raw", system, table]: the dbt source name is the raw
  system and the table name is the raw table, so the generator and the warehouse form one graph.
  A source that names no raw table is an error at load time, not a silently orphaned node.
- Groups follow the dbt folder layout: seeds, staging, intermediate, one group per mart domain
  (finance, product, marketing, sales), snapshots.
- Freshness policies come from `config.meta.dagster.freshness` (set per folder in
  techflow_dbt/dbt_project.yml) and become `FreshnessPolicy.time_window` on the asset spec, which
  the instance's freshness daemon evaluates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec, FreshnessPolicy
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from techflow_orchestration.keys import RAW_ASSET_KEYS, raw_asset_key

# Owners per group: who gets asked when an asset in that group is wrong or late.
GROUP_OWNERS: dict[str, str] = {
    "finance": "team:finance-analytics",
    "product": "team:product-analytics",
    "marketing": "team:growth-analytics",
    "sales": "team:revenue-operations",
}
DEFAULT_OWNER = "team:data-platform"

# dbt folders (the second element of a resource's fqn) that are layers rather than domains.
LAYER_FOLDERS = ("staging", "intermediate")


class UnknownRawSourceError(ValueError):
    """A dbt source that does not correspond to a table the generator writes."""


def freshness_policy_from_meta(meta: Mapping[str, Any], where: str) -> FreshnessPolicy | None:
    """Read `meta.dagster.freshness` ({fail_window_hours, warn_window_hours?}) into a policy."""
    config = (meta.get("dagster") or {}).get("freshness")
    if not config:
        return None
    try:
        fail = timedelta(hours=float(config["fail_window_hours"]))
        warn_hours = config.get("warn_window_hours")
        warn = timedelta(hours=float(warn_hours)) if warn_hours is not None else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: meta.dagster.freshness must look like "
            f"{{fail_window_hours: 26, warn_window_hours: 24}}, got {config!r}"
        ) from exc
    return FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)


def dbt_step_of_each_node(manifest: Mapping[str, Any]) -> dict[str, int]:
    """Which dbt step builds each node: 0 upstream of an incremental, 1 incremental, 2 the rest,
    3 snapshots (the order of the @dbt_assets in assets/dbt.py)."""
    nodes = manifest["nodes"]
    incrementals = [
        uid
        for uid, node in nodes.items()
        if node.get("config", {}).get("materialized") == "incremental"
    ]
    upstream: set[str] = set()
    frontier = [p for uid in incrementals for p in manifest["parent_map"].get(uid, [])]
    while frontier:
        uid = frontier.pop()
        if uid not in upstream:
            upstream.add(uid)
            frontier += manifest["parent_map"].get(uid, [])
    steps = {}
    for uid, node in nodes.items():
        if node["resource_type"] == "snapshot":
            steps[uid] = 3
        elif uid in incrementals:
            steps[uid] = 1
        else:
            steps[uid] = 0 if uid in upstream else 2
    return steps


class TechflowDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        # dbt tests become asset checks (the default, stated here because the UI relies on it).
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            system, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            key = raw_asset_key(system, table)
            if key not in RAW_ASSET_KEYS:
                known = ", ".join(sorted(k.to_user_string() for k in RAW_ASSET_KEYS))
                raise UnknownRawSourceError(
                    f"dbt source {system}.{table} ({dbt_resource_props.get('original_file_path')}) "
                    f"has no raw asset; the generator writes: {known}. Name the source after the "
                    "raw system and table (data_generation/schema.py)."
                )
            return key
        return AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type in ("seed", "snapshot"):
            return f"{resource_type}s"
        fqn: list[str] = dbt_resource_props.get("fqn", [])
        # fqn = [project, folder, (domain,) ..., name]
        if len(fqn) >= 3 and fqn[1] == "marts":
            return fqn[2] if len(fqn) >= 4 else "marts"
        if len(fqn) >= 3 and fqn[1] in LAYER_FOLDERS:
            return fqn[1]
        return "warehouse"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        meta_owner = (dbt_resource_props.get("config", {}).get("meta") or {}).get("owner")
        if meta_owner:
            return [meta_owner if ":" in meta_owner or "@" in meta_owner else f"team:{meta_owner}"]
        group = self.get_group_name(dbt_resource_props) or ""
        return [GROUP_OWNERS.get(group, DEFAULT_OWNER)]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        tags["layer"] = self._layer(dbt_resource_props)
        return tags

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        """A dbt test as an asset check — unless it reads a model built by a later dbt step.

        The dbt assets run in steps: models upstream of the incrementals, the incrementals,
        the rest, snapshots (assets/dbt.py). A test on an upstream model that also reads a
        downstream one (e.g. fct_mrr_daily.customer_id related to dim_customers, which is built
        from fct_mrr_daily) would make Dagster cut a step in two and run the check before its
        input exists. Such a test stays a plain dbt test: dbt runs it in the later step, where
        all its inputs are built (indirect selection "buildable"), dagster-dbt logs its result as
        an asset observation, and a failure fails that step.
        """
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        steps, uid_by_key = self._steps(manifest)
        attached = uid_by_key.get(spec.asset_key)
        reads = manifest["parent_map"].get(unique_id, [])
        if attached and any(steps.get(p, 0) > steps.get(attached, 0) for p in reads):
            return None
        return spec

    def _steps(self, manifest: Mapping[str, Any]) -> tuple[dict[str, int], dict[AssetKey, str]]:
        """Per manifest, computed once: each node's dbt step, and each asset key's node."""
        cache = self.__dict__.setdefault("_steps_cache", {})
        if id(manifest) not in cache:
            uid_by_key = {
                self.get_asset_key(node): uid
                for uid, node in manifest["nodes"].items()
                if node["resource_type"] in ("model", "seed", "snapshot")
            }
            cache[id(manifest)] = (dbt_step_of_each_node(manifest), uid_by_key)
        return cache[id(manifest)]

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            return spec
        meta = props.get("config", {}).get("meta") or props.get("meta") or {}
        policy = freshness_policy_from_meta(meta, where=f"dbt {unique_id}")
        return spec.replace_attributes(freshness_policy=policy) if policy else spec

    @staticmethod
    def _layer(dbt_resource_props: Mapping[str, Any]) -> str:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type in ("seed", "snapshot"):
            return resource_type
        fqn: list[str] = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) >= 3 else "model"
