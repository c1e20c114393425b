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


# Rasters inside a PDF figure (a map's relief) are resampled at this
# resolution: sharp at print size. Vector parts are unaffected.
PRINT_DPI = 200
WEBP_DPI = 150  # about 1,100 px across for a full-width map: sharp on most screens
WEBP_QUALITY = 80


def save_reproducibly(fig, path: Path) -> None:
    ext = Path(path).suffix.lstrip(".")
    if ext == "webp":
        _save_webp(fig, Path(path))
        return
    # SVG text stays text ("svg.fonttype": "none"): readable and searchable,
    # scaled by the browser rather than drawn as glyph outlines, and about a
    # third of the bytes (the glyph outlines and their <use> placements were
    # most of a chart's file).
    # PDF text is embedded as TrueType subsets ("pdf.fonttype": 42), not as
    # Type 3 bitmaps-in-procedures: text a PDF reader can select, search and
    # render with hinting beside the book's own fonts.
    with matplotlib.rc_context({"svg.hashsalt": "reprobook", "svg.fonttype": "none",
                                "pdf.fonttype": 42}):
        fig.savefig(path, format=ext, metadata=NO_DATES.get(ext, {}), bbox_inches="tight",
                    dpi=PRINT_DPI if ext in ("png", "pdf") else "figure")


def _save_webp(fig, path: Path) -> None:
    """Render to PNG in memory, then encode a lossy WebP with Pillow (libwebp
    output is deterministic for the same pixels and settings)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "reprobook"}):
        fig.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight",
                    dpi=WEBP_DPI)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").save(path, format="WEBP", quality=WEBP_QUALITY, method=6)
