"""The one error for a setting the platform cannot use."""


class SettingsError(ValueError):
    """A TECHFLOW_* variable (or a value standing for one) that cannot be used.

    The message is one line: it names the variable, what was wrong and how to fix it (a secret's
    value is never shown).
    """
