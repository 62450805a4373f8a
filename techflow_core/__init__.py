"""The platform's core: settings, the clock, where things are and how files are written durably.
Read by every package.

It imports no Dagster, dbt or other project package, so the generator, metrics, dashboards, ML and
slim CI can use it without pulling in the code location (tests/architecture checks the rule).
"""
