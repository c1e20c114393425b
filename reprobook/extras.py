"""Optional parts of the engine (pyproject's extras): imported only where
used, so that a pandas + matplotlib report installs without them."""

from __future__ import annotations

import importlib
import re

from .errors import BuildError


def require(module: str, extra: str, purpose: str):
    """Import `module`, or stop with a message naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BuildError(f"{purpose} needs the Python package `{module.split('.')[0]}`, which "
                         f"comes with reprobook's `{extra}` extra: pip install 'reprobook[{extra}]'"
                         ) from None


# The packages each extra brings, by the name a notebook imports.
EXTRA_OF = {**dict.fromkeys(("geopandas", "shapely", "pyproj", "pyogrio", "rasterio", "contextily",
                             "xyzservices", "adjustText"), "geo"),
            **dict.fromkeys(("dask", "distributed"), "dask")}
_MISSING = re.compile(r"No module named '([^'.]+)")


def hint(error_text: str) -> str:
    """For a notebook's error: which extra installs the missing module, if
    one of the engine's extras does ("" otherwise)."""
    m = _MISSING.search(error_text)
    extra = EXTRA_OF.get(m.group(1)) if m else None
    if extra is None:
        return ""
    return (f"\n`{m.group(1)}` is not installed; it comes with reprobook's `{extra}` extra: "
            f"pip install 'reprobook[{extra}]'")
