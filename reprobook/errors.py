"""Errors the engine reports to the user as a clear message, not a traceback."""


class BuildError(Exception):
    """A build stopped for a reason the user can act on."""


class ConfigError(BuildError):
    """_quarto.yml or reprobook.yml is missing something or is malformed."""


class DataError(BuildError):
    """Raw data failed validation; the message names file, row and column."""


class NotebookError(BuildError):
    """A notebook cell failed; the message names notebook, cell and traceback."""


class RenderError(BuildError):
    """pandoc, Typst or Quarto failed, or a chapter uses unsupported syntax."""
