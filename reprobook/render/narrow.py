"""Narrow variants of charts: on a small screen a figure is shown in the
layout drawn for a 360 px column (figures.narrow_layout).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ..project import Project
from .urls import normalized


# The viewport width up to which a chart's narrow-layout variant is shown
# (figures.narrow_layout draws it for a 360 px column); wider screens, and
# anything that follows the full-size link, get the figure as drawn.
NARROW_MEDIA = "(max-width: 600px)"


def narrow_variants(project: Project, figures: list[tuple[str, str, str]]) -> dict[str, str]:
    """{figure id: its narrow-layout variant, relative to the book's root}
    for each (chapter source, figure id, image src) whose image has one
    beside it (Step.save_figure writes `<stem>.narrow.svg`). Both renderers
    show it on small screens with <picture>."""
    from ..figures import narrow_name

    out = {}
    for chapter_source, ident, src in figures:
        figure = normalized(PurePosixPath(chapter_source).parent / src)
        narrow = narrow_name(str(figure))
        if narrow and (project.root / narrow).is_file():
            out[ident] = narrow
    return out


def picture_open(srcset: str) -> str:
    """The markup both renderers put before a figure's <img> (and
    "</picture>" after it): the narrow variant for small screens."""
    import html

    return (f'<picture><source media="{NARROW_MEDIA}" srcset="{html.escape(srcset, quote=True)}"'
            ' type="image/svg+xml">')
