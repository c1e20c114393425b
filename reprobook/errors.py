"""Errors the engine reports to the user as a clear message, not a traceback."""


class BuildError(Exception):
    """A build stopped for a reason the user can act on."""


class ConfigError(BuildError):
    """_quarto.yml or reprobook.yml is missing something or is malformed."""


class DataError(BuildError):
    """Raw data failed validation; the message names file, row and column."""


class NotebookError(BuildError):
    """A notebook cell failed; the message names notebook, cell, line and
    exception. `log` is the whole traceback, which the engine writes to a
    file under .reprobook/logs/ that the message names (log_failure)."""

    def __init__(self, message: str, log: str | None = None):
        super().__init__(message)
        self.log = log


class RenderError(BuildError):
    """pandoc, Typst or Quarto failed, or a chapter uses unsupported syntax."""


def did_you_mean(name: str, known, n: int = 3) -> str:
    """' (did you mean 'x'?)' for the known names closest to `name` (up to
    `n`, those about as close as the closest), else ''. One place, so config
    keys, fact keys and the rest suggest alike."""
    import difflib

    name = str(name)
    close = difflib.get_close_matches(name, sorted(map(str, known)), n=n)
    if not close:
        return ""
    best = difflib.SequenceMatcher(None, close[0], name).ratio()
    close = [c for c in close if difflib.SequenceMatcher(None, c, name).ratio() >= best - 0.1]
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
