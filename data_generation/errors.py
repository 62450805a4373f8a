"""The one exception type for bad input; the CLI prints its message on one line and exits 2."""


class InvalidInputError(ValueError):
    """Arguments, seeds or output location that the generator cannot work with.

    The message names what was wrong (argument, file, column) and how to fix it.
    """
