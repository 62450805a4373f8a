"""The dbt exposures as the manifest declares them, for the exposure assets.

Each exposure asset takes its name, description, owner and dependencies from its exposure in the dbt
manifest (techflow_dbt/models/exposures.yml), so the exposure's `depends_on` is the one list of
marts it reads: `dbt ls --select +exposure:<name>` and the Dagster lineage agree. Heavy libraries
(MetricFlow, plotly, scikit-learn) are imported inside the asset bodies, never at code-location
load. The assets themselves are built in churn.py and dashboards.py, which import this module
(never the reverse: no import cycle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import AssetKey

from techflow_orchestration.lib.translator import TechflowDbtTranslator
from techflow_orchestration.project import load_manifest


class UnknownExposureError(KeyError):
    """An exposure asset whose exposure is missing from the dbt project."""


def exposure_node(name: str, manifest: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    manifest = manifest if manifest is not None else load_manifest()
    for node in manifest.get("exposures", {}).values():
        if node["name"] == name:
            return node
    raise UnknownExposureError(
        f"exposure {name!r} is not in the dbt manifest; declare it in "
        "techflow_dbt/models/exposures.yml and run `make manifest`."
    )


def exposure_deps(name: str, manifest: Mapping[str, Any] | None = None) -> list[AssetKey]:
    """The asset keys of the models the exposure depends on, as the translator keys them."""
    manifest = manifest if manifest is not None else load_manifest()
    nodes = exposure_node(name, manifest)["depends_on"]["nodes"]
    keys = (TechflowDbtTranslator().get_asset_key(manifest["nodes"][uid]) for uid in nodes)
    return sorted(keys, key=str)


def exposure_owners(name: str, manifest: Mapping[str, Any] | None = None) -> list[str]:
    email = (exposure_node(name, manifest).get("owner") or {}).get("email")
    return [email] if email else []
