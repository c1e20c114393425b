"""Byte-reproducible matplotlib output.

matplotlib writes a creation date into SVG and PDF files and random ids into
SVG unless told otherwise; these settings remove both (see matplotlib's
`savefig(metadata=...)` and `rcParams["svg.hashsalt"]`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

NO_DATES = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}


def save_reproducibly(fig, path: Path) -> None:
    ext = Path(path).suffix.lstrip(".")
    with matplotlib.rc_context({"svg.hashsalt": "reprobook", "svg.fonttype": "path"}):
        fig.savefig(path, format=ext, metadata=NO_DATES.get(ext, {}), bbox_inches="tight",
                    dpi=200 if ext == "png" else "figure")
