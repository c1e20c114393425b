"""Byte-reproducible matplotlib output.

matplotlib writes a creation date into SVG and PDF files and random ids into
SVG unless told otherwise; these settings remove both (see matplotlib's
`savefig(metadata=...)` and `rcParams["svg.hashsalt"]`)."""

from __future__ import annotations

from pathlib import Path

# matplotlib is imported where it is used: the project's loader reads
# narrow_name() without drawing anything.

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
    import matplotlib

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

    import matplotlib
    from PIL import Image

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "reprobook"}):
        fig.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight",
                    dpi=WEBP_DPI)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.convert("RGB").save(path, format="WEBP", quality=WEBP_QUALITY, method=6)


# ------------------------------------------------------------ narrow layout
# A chart drawn for a page column (7-10 in wide) and shown in a 375 px phone
# column is shrunk to about a third: its 8-10 pt text comes out at 4-6 CSS
# px. The narrow variant is the same figure laid out again for about 360 px:
# side-by-side panels stacked, titles, notes and axis labels re-wrapped to
# the new width, no text under NARROW_MIN_PT. At 1 CSS px per 1/96 in, a
# 9 pt text (12 px) in a figure NARROW_WIDTH_IN wide (336 px, plus the
# 0.1 in padding of bbox_inches="tight" on each side) comes out at 11.3-12
# CSS px in a phone's 324-335 px column (measured, both renderers).
NARROW_SUFFIX = ".narrow"
NARROW_WIDTH_IN = 3.5
NARROW_MIN_PT = 9.0
NARROW_ROW_IN = 2.9  # height of one panel row, with its title, ticks and labels
NARROW_MARGIN_IN = 0.05


def narrow_name(relative: str) -> str | None:
    """'figures/x.svg' -> 'figures/x.narrow.svg': the narrow-layout variant
    Step.save_figure writes beside every SVG chart (None for other files
    and for a variant itself)."""
    path = Path(relative)
    if path.suffix != ".svg" or path.stem.endswith(NARROW_SUFFIX):
        return None
    return str(path.with_name(path.stem + NARROW_SUFFIX + path.suffix)).replace("\\", "/")


def is_narrow_variant(name: str) -> bool:
    """Whether a figure file is another figure's narrow-layout variant (the
    same figure for phones: not a figure of its own)."""
    path = Path(name)
    return path.suffix == ".svg" and path.stem.endswith(NARROW_SUFFIX)


def narrow_layout(fig, adjust=None):
    """A copy of `fig` laid out again for a phone's column (`fig` itself is
    not changed, unless it cannot be copied). `adjust(copy)`, if given, may change the copy (move a
    label, draw a panel again) before its final layout; the copy is
    NARROW_WIDTH_IN wide and NARROW_ROW_IN tall for each row of panels,
    and `adjust` may make it taller (the notes under the panels are added
    to its height)."""
    import pickle

    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    try:
        copy = pickle.loads(pickle.dumps(fig))
    except (pickle.PicklingError, TypeError, AttributeError):
        # Something in it cannot be copied (a lambda as a tick formatter):
        # the figure itself is laid out again, after its wide versions
        # were saved (a notebook that shows it afterwards shows this one).
        copy = fig
    else:
        # An unpickled figure that pyplot managed is registered with pyplot
        # again: in a notebook it would be shown as a second output.
        plt.close(copy)
    FigureCanvasAgg(copy)
    rows = _stack_panels(copy)
    _raise_small_text(copy)
    copy.set_size_inches(NARROW_WIDTH_IN, NARROW_ROW_IN * rows)
    if adjust is not None:
        adjust(copy)
        _raise_small_text(copy)  # what it drew again
    # The panels' height: NARROW_ROW_IN a row, or what `adjust` asked for.
    _lay_out(copy, copy.get_size_inches()[1])
    return copy


def _stack_panels(fig) -> int:
    """Panels side by side in one grid become one column, in reading order
    (row by row); returns the number of rows."""
    from matplotlib.gridspec import GridSpec

    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    grids = {id(ax.get_subplotspec().get_gridspec()) for ax in axes}
    if not axes or len(grids) != 1:
        return 1
    nrows, ncols = axes[0].get_subplotspec().get_gridspec().get_geometry()
    specs = [ax.get_subplotspec() for ax in axes]
    if ncols == 1 or any(s.num1 != s.num2 for s in specs):
        return nrows
    order = sorted(axes, key=lambda ax: ax.get_subplotspec().num1)
    column = GridSpec(len(order), 1, figure=fig)
    for index, ax in enumerate(order):
        ax.set_subplotspec(column[index, 0])
    return len(order)


def _raise_small_text(fig) -> None:
    from matplotlib.text import Text

    for ax in fig.axes:
        for axis in ("x", "y"):
            labels = getattr(ax, f"get_{axis}ticklabels")()
            if labels and labels[0].get_fontsize() < NARROW_MIN_PT:
                ax.tick_params(axis=axis, labelsize=NARROW_MIN_PT)
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < NARROW_MIN_PT:
            text.set_fontsize(NARROW_MIN_PT)


def _wrap(text, width_px: float, renderer) -> None:
    """Re-wrap a text's words (its own line breaks too) to `width_px`."""
    words = text.get_text().split()
    if not words:
        return
    prop = text.get_fontproperties()

    def width(s: str) -> float:
        return renderer.get_text_width_height_descent(s, prop, ismath=False)[0]

    lines = [words[0]]
    for word in words[1:]:
        candidate = f"{lines[-1]} {word}"
        if width(candidate) <= width_px:
            lines[-1] = candidate
        else:
            lines.append(word)
    text.set_text("\n".join(lines))


def _height_in(text, renderer) -> float:
    return text.get_window_extent(renderer).height / text.figure.dpi if text.get_text() else 0.0


def _lay_out(fig, panels_in: float) -> None:
    """Wrap the titles and notes to the narrow width, stack the figure's own
    notes (source lines, and texts placed under a panel in axes
    coordinates) under the panels, size the figure and fit the panels and
    the suptitle in between (tight_layout); x tick labels that would touch
    are turned upright, y-axis labels wrapped to their panel's height."""
    width = NARROW_WIDTH_IN
    fig.set_size_inches(width, panels_in)
    renderer = fig.canvas.get_renderer()
    dpi = fig.dpi
    suptitle = getattr(fig, "_suptitle", None)
    notes = _notes_under_panels(fig)
    for text in fig.texts:
        if text.get_text():
            x = text.get_position()[0] if text.get_ha() == "left" else 0.0
            _wrap(text, (width * (1 - x) - 2 * NARROW_MARGIN_IN) * dpi, renderer)
    panel_px = (width - 0.8) * dpi  # the panel's width beside its y-axis label and ticks
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title):
            if title.get_text():
                _wrap(title, (width - 2 * NARROW_MARGIN_IN) * dpi, renderer)
        _wrap(ax.xaxis.label, panel_px, renderer)
        _wrap(ax.yaxis.label, (NARROW_ROW_IN - 1.0) * dpi, renderer)
    gap = 0.08
    bottom = NARROW_MARGIN_IN + sum(_height_in(t, renderer) + gap for t in notes)
    height = panels_in + bottom
    fig.set_size_inches(width, height)
    y = NARROW_MARGIN_IN
    for text in reversed(notes):  # notes run top to bottom
        text.set_position((NARROW_MARGIN_IN / width, y / height))
        text.set_horizontalalignment("left")
        text.set_verticalalignment("bottom")
        y += _height_in(text, renderer) + gap
    if suptitle is not None and suptitle.get_text():
        if suptitle.get_ha() == "left":
            suptitle.set_x(NARROW_MARGIN_IN / width)
        suptitle.set_y(1 - NARROW_MARGIN_IN / height)
        suptitle.set_verticalalignment("top")
    # tight_layout makes room for the suptitle itself, not for other
    # figure texts: the notes' band is kept out of the panels' area.
    rect = (0, bottom / height, 1, 1)
    fig.tight_layout(rect=rect)
    # Titles and labels first (they change the panels' size), then the
    # texts inside the panels, which depend on it; twice over, as each step
    # moves the other a little.
    for _ in range(2):
        if _fit_titles_and_labels(fig, renderer):
            fig.tight_layout(rect=rect)
        for _ in range(5):
            if not any([_keep_texts_inside(ax, renderer) for ax in fig.axes]):
                break
            fig.tight_layout(rect=rect)


def _fit_titles_and_labels(fig, renderer) -> bool:
    """Titles and x-axis labels re-wrapped to the room they have, x tick
    labels that touch wrapped (categories) or turned upright (years),
    y-axis labels wrapped to their panel's height. Returns whether
    anything changed."""
    dpi = fig.dpi
    margin = NARROW_MARGIN_IN * dpi
    right = fig.get_size_inches()[0] * dpi - margin
    changed = False
    for ax in fig.axes:
        for title in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
            box = title.get_window_extent(renderer) if title.get_text() else None
            if box is not None and (box.x1 > right + 0.5 or box.x0 < margin - 0.5):
                centre = (box.x0 + box.x1) / 2
                room = (right - box.x0 if title.get_ha() == "left" else
                        2 * min(centre - margin, right - centre))
                before = title.get_text()
                _wrap(title, room, renderer)
                changed |= title.get_text() != before
        if _labels_touch(ax.get_xticklabels(), renderer):
            changed = True
            if not _wrap_tick_labels(ax, renderer):
                ax.tick_params(axis="x", labelrotation=90)
        label = ax.yaxis.label
        height = ax.get_window_extent(renderer).height
        if label.get_text() and label.get_window_extent(renderer).height > height + 0.5:
            before = label.get_text()
            _wrap(label, height, renderer)
            changed |= label.get_text() != before
    return changed


def _keep_texts_inside(ax, renderer) -> bool:
    """Keep the texts a panel places in data coordinates (bar labels,
    annotations) inside it: in a narrow panel a label would run over the
    tick labels, the panel's title or out of the figure. What sticks out a
    little (a bar label wider than its bar at the panel's edge) gets a
    slightly wider x range or a higher top; a text of several words that
    sticks out further is re-wrapped to the room it has. Returns whether
    anything changed."""
    box = ax.get_window_extent(renderer)
    changed = False
    left = right = top = 0.0
    for text in _data_texts(ax):
        extent = text.get_window_extent(renderer)
        out = max(extent.x1 - box.x1, box.x0 - extent.x0)
        if out > box.width / 8 and not text.get_rotation() and len(text.get_text().split()) > 1:
            centre = (extent.x0 + extent.x1) / 2
            room = {"left": box.x1 - extent.x0, "right": extent.x1 - box.x0}.get(
                text.get_ha(), 2 * min(centre - box.x0, box.x1 - centre))
            before = text.get_text()
            _wrap(text, room, renderer)
            changed |= text.get_text() != before
            extent = text.get_window_extent(renderer)
        left, right = max(left, box.x0 - extent.x0), max(right, extent.x1 - box.x1)
        top = max(top, extent.y1 - box.y1)
    if (1 <= max(left, right) and left + right < box.width / 4
            and ax.get_xscale() == "linear"):
        changed |= _widen(ax, "x", box.width, left, right)
    if 1 <= top < box.height / 3 and ax.get_yscale() == "linear":
        changed |= _widen(ax, "y", box.height, 0.0, top)
    return changed


def _data_texts(ax) -> list:
    from matplotlib.text import Annotation

    return [t for t in ax.texts if t.get_text() and t.get_visible()
            and (t.get_transform() == ax.transData
                 or isinstance(t, Annotation) and t.xycoords == "data")]


def _widen(ax, axis: str, size_px: float, low_px: float, high_px: float) -> bool:
    """Extend a linear axis so that `low_px`/`high_px` more pixels fit at
    its ends while the panel keeps its size in pixels (what is already
    there is drawn smaller)."""
    inner = size_px - low_px - high_px - 4
    if inner <= size_px / 3:
        return False
    lo, hi = getattr(ax, f"get_{axis}lim")()
    per_px = (hi - lo) / inner
    getattr(ax, f"set_{axis}lim")(lo - (low_px + 2) * per_px if low_px else lo,
                                  hi + (high_px + 2) * per_px)
    return True


def _notes_under_panels(fig) -> list:
    """The figure's notes, top to bottom: texts of the figure anchored at
    its left edge (a source line), and texts a panel places below itself in
    axes coordinates (moved to the figure: under a narrow panel they would
    run into its tick labels)."""
    suptitle = getattr(fig, "_suptitle", None)
    notes = []
    for ax in fig.axes:
        for text in list(ax.texts):
            if (text.get_transform() == ax.transAxes and text.get_text()
                    and text.get_position()[1] < 0):
                y = fig.transFigure.inverted().transform(
                    ax.transAxes.transform(text.get_position()))[1]
                moved = fig.text(0, y, text.get_text(), fontproperties=text.get_fontproperties(),
                                 color=text.get_color(), ha="left", va="top")
                text.remove()
                notes.append(moved)
    notes += [t for t in fig.texts if t is not suptitle and t not in notes and t.get_text()
              and t.get_visible() and t.get_position()[0] < 0.1 and t.get_ha() == "left"]
    return sorted(notes, key=lambda t: -t.get_position()[1])


def _wrap_tick_labels(ax, renderer) -> bool:
    """Labels of several words at fixed ticks on the x axis (categories)
    are wrapped to the space between their ticks; False if that is not
    enough (or the labels are single words, as years), to turn them
    upright instead."""
    from matplotlib.ticker import FixedLocator

    ticks = list(ax.get_xticks())
    labels = ax.get_xticklabels()
    if (not isinstance(ax.xaxis.get_major_locator(), FixedLocator) or len(ticks) < 2
            or len(labels) != len(ticks) or all(len(t.get_text().split()) < 2 for t in labels)):
        return False
    centres = sorted(ax.transData.transform([(t, 0) for t in ticks])[:, 0])
    room = min(b - a for a, b in zip(centres, centres[1:])) - 6
    texts = []
    for label in labels:
        _wrap(label, room, renderer)
        texts.append(label.get_text())
    ax.set_xticks(ticks, texts)
    prop = labels[0].get_fontproperties()
    return all(renderer.get_text_width_height_descent(line, prop, ismath=False)[0] <= room
               for text in texts for line in text.split("\n"))


def _labels_touch(labels, renderer) -> bool:
    boxes = sorted((label.get_window_extent(renderer) for label in labels
                    if label.get_visible() and label.get_text()), key=lambda b: b.x0)
    return any(a.x1 + 2 > b.x0 for a, b in zip(boxes, boxes[1:]))
