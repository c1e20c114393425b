"""One locale for every tool the engine runs (pandoc, Quarto, the notebook
kernels), whatever the author's machine uses: under LC_ALL=C pandoc read
its UTF-8 arguments as Latin-1 (the PDF cover printed "Policy ��� Myanmar"),
and under tr_TR GDAL wrote sorting errors into the published notebooks. C.UTF-8
ships with glibc (2.35+) and Debian."""

from __future__ import annotations

import os

PINNED = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def tool_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with the pinned locale."""
    env = dict(os.environ if base is None else base)
    env.pop("LANGUAGE", None)
    env.update(PINNED)
    return env
