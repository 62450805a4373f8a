"""Errors that the CLI turns into one line and exit code 2 (bad input, not a failed build)."""

from __future__ import annotations


class BadInput(Exception):
    """The inputs to slim CI are missing or unusable; the message says what and how to fix it."""


class StepFailed(Exception):
    """A step (a dbt build, a SQL lint) ran and failed; its own output already says why."""
