"""Image previews: a large raster output of a notebook is shown through a
smaller copy sized for the notebook page's column.
"""

from __future__ import annotations

from pathlib import Path

from .. import memo


PREVIEW_WIDTH = 720  # px: sharp in the notebook page's column


def image_preview(path: Path, folder: Path) -> Path | None:
    """A smaller WebP of a raster image (a map) for pages that show many of
    them, or None for vector images and ones already small. Deterministic:
    same pixels and settings, same bytes."""
    from PIL import Image

    if path.suffix.lower() not in (".webp", ".png", ".jpg", ".jpeg") or not path.is_file():
        return None
    with Image.open(path) as image:  # reads the header only
        if image.width <= PREVIEW_WIDTH:
            return None

    def compute() -> bytes:
        import io

        with Image.open(path) as image:
            height = round(image.height * PREVIEW_WIDTH / image.width)
            small = image.convert("RGB").resize((PREVIEW_WIDTH, height), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, format="WEBP", quality=75, method=6)
        return out.getvalue()

    import PIL

    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{path.stem}-preview.webp"
    dest.write_bytes(memo.cached("image-preview", memo.key(Path(__file__), path, str(PREVIEW_WIDTH),
                                                            PIL.__version__), compute))
    return dest
