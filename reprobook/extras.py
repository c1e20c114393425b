"""Optional parts of the engine (pyproject's extras): imported only where
used, so that a pandas + matplotlib report installs without them."""

from __future__ import annotations

import importlib

from .errors import BuildError


def require(module: str, extra: str, purpose: str):
    """Import `module`, or stop with a message naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BuildError(f"{purpose} needs the Python package `{module.split('.')[0]}`, which "
                         f"comes with reprobook's `{extra}` extra: pip install 'reprobook[{extra}]'"
                         ) from None
