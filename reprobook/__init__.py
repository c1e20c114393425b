"""reprobook: a small engine that turns raw data and Jupyter notebooks into a
Quarto-style book (HTML site + PDF), reproducibly.

Stages, each one module, data flowing one way:

    project   read _quarto.yml + reprobook.yml
    validate  check data/raw against its Frictionless descriptor
    execute   run notebooks (cached by content hash) -> figures + facts
    facts     merge the facts notebooks recorded -> _variables.yml, facts.json
    render    quarto render, or the built-in pandoc + Typst path
    publish   swap the new site in atomically

The engine knows nothing about any particular report.
"""

import importlib
import sys
import types

__version__ = "0.9.0"  # the distribution's version (pyproject.toml reads it here)

# The public API (docs/api.md); everything else is the engine's inside and
# may change. Loaded on first use, so `import reprobook` (which every
# notebook kernel does through reprobook.notebook) stays light.
_PUBLIC = {
    "Step": "notebook",
    "load_project": "project", "Project": "project",
    "build": "build", "check": "build", "BuildResult": "build",
    "Reporter": "build", "SilentReporter": "build",
    "verify": "verify",
    "BuildError": "errors", "ConfigError": "errors", "DataError": "errors",
    "NotebookError": "errors", "RenderError": "errors",
}
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'reprobook' has no attribute '{name}'")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


class _Package(types.ModuleType):
    """`reprobook.build` and `reprobook.verify` are the functions, though
    modules of the same names exist: the import system's setting of a loaded
    submodule on its package is ignored for a public name (the module stays
    importable as `from reprobook.build import ...`)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _PUBLIC and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
