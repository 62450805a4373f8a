"""How dbt resources become Dagster assets: keys, groups, owners, tags and freshness, in one place.

- Sources resolve to the raw assets' keys ["raw", system, table]: the dbt source name is the raw
  system and the table name is the raw table, so the generator and the warehouse form one graph.
  A source that names no raw table is an error at load time, not a silently orphaned node.
- Groups follow the dbt folder layout: seeds, staging, intermediate, one group per mart domain
  (finance, product, marketing, sales), snapshots.
- Partitions: the MRR incrementals (keys.MRR_PARTITIONED_KEYS) are daily-partitioned, everything
  else is not (`get_partitions_def`). Other incremental models (fct_events,
  fct_user_engagement_daily) build the window of whatever run builds them (their own late-data
  window, macros/incremental_window.sql) and stay unpartitioned assets.
- Freshness policies come from `config.meta.dagster.freshness` (set per folder in
  techflow_dbt/dbt_project.yml) and become `FreshnessPolicy.time_window` on the asset spec, which
  the instance's freshness daemon evaluates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dagster import AssetKey, AssetSpec, FreshnessPolicy, PartitionsDefinition
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from techflow_orchestration.lib.keys import MRR_PARTITIONED_KEYS, RAW_ASSET_KEYS, raw_asset_key

# Who gets asked when an asset is wrong or late: the owner of the model's dbt group
# (techflow_dbt/models/_groups.yml, one place), else this team (seeds, snapshots, raw).
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


class TechflowDbtTranslator(DagsterDbtTranslator):
    def __init__(self, daily_partitions: PartitionsDefinition | None = None) -> None:
        # dbt tests become asset checks (the default, stated here because the UI relies on it).
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self._daily_partitions = daily_partitions

    def get_partitions_def(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> PartitionsDefinition | None:
        """The MRR incrementals (int_subscription_versions, fct_mrr_daily: keys.py, the one place
        that names them) are daily-partitioned; every other dbt asset is unpartitioned. All live in
        one op (assets/dbt.py), which Dagster allows for a subsettable multi-asset."""
        if dbt_resource_props["resource_type"] == "model" and (
            self.get_asset_key(dbt_resource_props) in MRR_PARTITIONED_KEYS
        ):
            return self._daily_partitions
        return None

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
        name = dbt_resource_props["name"]
        # A versioned model: its latest version keeps the model's key (what ref() without v=
        # reads, the exposures included); an older one is <name>_v<version>, like its relation.
        version = dbt_resource_props.get("version")
        if version is not None and str(version) != str(dbt_resource_props.get("latest_version")):
            return AssetKey(f"{name}_v{version}")
        return AssetKey(name)

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
        # dagster-dbt passes the dbt group's properties here (name, owner) when the node has one.
        group = dbt_resource_props.get("group")
        email = ((group.get("owner") or {}).get("email")) if isinstance(group, Mapping) else None
        return [email or DEFAULT_OWNER]

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = dict(super().get_tags(dbt_resource_props))
        tags["layer"] = self._layer(dbt_resource_props)
        return tags

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
