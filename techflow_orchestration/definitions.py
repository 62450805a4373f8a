"""The TechFlow Analytics code location: one `Definitions` from the generator to the marts.

`dg dev` (`make dev`, through pyproject's [tool.dg]), `dagster dev` (workspace.yaml),
`dg check defs` and `make run` load `defs` from here. Importing it reads the prepared dbt manifest
(never runs `dbt parse`); a missing manifest fails with the command that builds it.
"""

from __future__ import annotations

from techflow_core.settings import TechflowSettings
from techflow_orchestration.defs import build_definitions

_settings = TechflowSettings.from_env()
# dbt runs as a subprocess; give it the same absolute paths this process resolved (and the as-of
# day when TECHFLOW_AS_OF pinned it: then the daily partitions end on it; unset, they stay
# open-ended, and each run's dbt steps share the day before the run was created).
_settings.export_to_environment()
defs = build_definitions(_settings)
