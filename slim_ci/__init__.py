"""Slim CI for the TechFlow dbt project.

`make ci-slim` runs what the pull-request workflow runs, on this machine: it builds (or reuses) a
production warehouse and its manifest, builds only the working tree's changes against it with
`state:modified+ --defer`, lints the changed SQL files, and diffs every rebuilt model against
production. `make docs` builds and serves the dbt docs site; `docs_coverage` fails when anything
in the project lacks a description.
"""
