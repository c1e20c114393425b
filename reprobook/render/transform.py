"""A chapter's AST with the Quarto features resolved for one output format
(html or typst): cross-references, figures, numbered tables, callouts,
format conditions, links between pages and printed facts (recorded for
the claims ledger).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import ast, urls
from .. import ledger
from ..errors import RenderError
from ..project import Project
from .chapters import Chapter, Target, XREF_KINDS
from .pages import CLAIMS_PAGE
from .ast import typst_content, typst_string
from .narrow import picture_open
from .profiles import CONDITIONAL, FORMAT_KEYS
from .shortcodes import CLAIM_SCHEME


CALLOUT_TYPES = ("note", "warning", "important", "tip", "caution")


def relative_link(from_page: str, to_page: str) -> str:
    start = PurePosixPath(from_page).parent
    return str(PurePosixPath(relative_path(PurePosixPath(to_page), start)))


def relative_path(target: PurePosixPath, start: PurePosixPath) -> str:
    import os.path

    return os.path.relpath(str(target), str(start) or ".").replace("\\", "/")


@dataclass(frozen=True)
class BookLinks:
    """What page links need: the label of each chapter's first heading (a
    link to a chapter's .qmd is an internal link in the PDF), the links
    under each figure (_reprobook/figures.json), and the published site's
    URL (links to the engine's web pages in the PDF)."""

    chapter_anchors: dict[str, str] = field(default_factory=dict)  # chapter source -> heading id
    figure_links: dict[str, list[dict]] = field(default_factory=dict)
    site_url: str = ""
    # figure id -> its narrow-layout variant, relative to the root (_reprobook/narrow.json)
    narrow: dict[str, str] = field(default_factory=dict)


def book_links(project: Project, chapters: list[Chapter]) -> BookLinks:
    anchors = {}
    for chapter in chapters:
        for block in chapter.doc["blocks"]:
            if block["t"] == "Header" and block["c"][0] == 1 and block["c"][1][0]:
                anchors[chapter.source] = block["c"][1][0]
                break
    generated = project.root / "_reprobook"
    figures = generated / "figures.json"
    site = generated / "site.json"
    narrow = generated / "narrow.json"
    return BookLinks(anchors,
                     json.loads(figures.read_text(encoding="utf-8")) if figures.is_file() else {},
                     json.loads(site.read_text(encoding="utf-8")).get("site_url", "")
                     if site.is_file() else "",
                     json.loads(narrow.read_text(encoding="utf-8")) if narrow.is_file() else {})


def transform(chapter: Chapter, targets: dict[str, Target], fmt: str,
              figure_dir: Path | None = None, links: BookLinks | None = None) -> list[dict]:
    """The chapter's blocks, with the Quarto features resolved for `fmt`
    ("html" or "typst"). For HTML it also records where each fact is
    printed (chapter.uses), for the claims ledger."""
    links = links or BookLinks()
    pending: list[tuple[str, str, str]] = []  # (key, anchor, printed text) awaiting their sentence
    counts: dict[str, int] = {}
    if fmt == "html":
        chapter.uses = []

    def visit(el: dict):
        kind = el["t"]
        if kind == "Link" and el["c"][2][0].startswith(CLAIM_SCHEME):
            return _claim_link(el, chapter, fmt, pending, counts)
        if kind == "Link":
            return _page_link(el, chapter, fmt, links)
        if kind in ("Para", "Plain", "Header", "LineBlock") and pending:
            text = ast.stringify(el)
            for key, anchor, printed in pending:
                chapter.uses.append(ledger.Use(key, chapter.page, anchor, chapter.title,
                                               ledger.split_sentence(text, printed)))
            pending.clear()
        if kind == "Cite":
            return _crossref(el, chapter, targets, fmt)
        if kind == "Figure":
            return _figure(el, chapter, targets, fmt, figure_dir, links)
        if kind == "Table" and fmt == "html":
            return _number_table(el, targets)
        if kind == "Table" and el["c"][0][0] in targets:
            return _typst_numbered(el, targets[el["c"][0][0]])
        if kind == "Div" and el["c"][0][0] == "refs" and fmt == "typst":
            # citeproc fills this div later; print the list with hanging
            # indents and ragged lines (long URLs would stretch justified ones)
            return [ast.raw_block("typst", "#[#set par(hanging-indent: 2em, justify: false)"),
                    el, ast.raw_block("typst", "]")]
        if kind == "Div" and _format_condition(el) is not None:
            return el["c"][1] if _shown_in(el, fmt) else []
        if kind == "Div":
            return _callout(el, fmt)
        return None

    return ast.walk(chapter.doc["blocks"], visit)


# Quarto's format names for the two outputs (a `when-format` of "pdf"
# matches the PDF whichever engine makes it, as in Quarto).
FORMAT_NAMES = {"html": {"html", "html4", "html5"}, "typst": {"typst", "pdf"}}


def _format_condition(el: dict) -> tuple[str, str, set[str]] | None:
    """(class, attribute, formats) of a Quarto conditional-content div
    (`.content-visible` / `.content-hidden` with `when-format` or
    `unless-format`), or None. Profile conditions were settled when the
    chapter was read (`resolve_profiles`)."""
    (_, classes, kvs), _ = el["c"]
    kind = next((c for c in classes if c in CONDITIONAL), None)
    if kind is None:
        return None
    attrs = dict(kvs)
    for key in FORMAT_KEYS:
        if key in attrs:
            return kind, key, {f.strip() for f in attrs[key].split(",") if f.strip()}
    raise RenderError(f"a .{kind} div needs when-format, unless-format, when-profile or "
                      "unless-profile (the conditions this renderer supports), such as "
                      f'::: {{.{kind} when-profile="1.1"}}')


def _shown_in(el: dict, fmt: str) -> bool:
    """Whether a conditional-content div's blocks appear in `fmt`: Quarto's
    rule (visible when the format matches, hidden when it matches; unless
    reverses the test). The div itself is dropped either way."""
    kind, key, formats = _format_condition(el)
    matches = bool(formats & FORMAT_NAMES.get(fmt, {fmt}))
    if key == "unless-format":
        matches = not matches
    return matches if kind == "content-visible" else not matches


def _page_link(el: dict, chapter: Chapter, fmt: str, links: BookLinks):
    """Links between pages, as Quarto treats them in a book: a link to a
    chapter's .qmd becomes its .html page (HTML) or an internal link to the
    chapter (PDF); a link to one of the engine's web pages (a relative .html
    link) becomes an absolute link to the published edition in the PDF when
    a site URL is configured, else its text. The extension's filter does the
    same under Quarto."""
    attr, inlines, (target, title) = el["c"]
    if re.match(r"^([a-zA-Z][\w+.-]*:|#|/)", target):
        return None
    path, _, anchor = target.partition("#")
    if path.endswith((".qmd", ".md")):
        if fmt == "html":
            page = str(PurePosixPath(path).with_suffix(".html"))
            return {"t": "Link", "c": [attr, inlines, [page + (f"#{anchor}" if anchor else ""), title]]}
        import posixpath

        source = posixpath.normpath(str(PurePosixPath(chapter.source).parent / path))
        label = anchor or links.chapter_anchors.get(source)
        if not label:
            return inlines
        return [ast.raw_inline("typst", f"#link(<{label}>)["), *inlines, ast.raw_inline("typst", "]")]
    if fmt == "html" or not path.endswith(".html"):
        return None
    if links.site_url:
        import posixpath

        absolute = links.site_url + posixpath.normpath(
            str(PurePosixPath(chapter.page).parent / path)) + (f"#{anchor}" if anchor else "")
        return {"t": "Link", "c": [attr, inlines, [absolute, title]]}
    return inlines


def _typst_numbered(el: dict, target: Target) -> list[dict]:
    """A float in the PDF with the book's number (Typst would count floats
    through the whole document): the number is set for this float alone."""
    supplement, number = target.label.split(" ", 1)
    # Maps are a float kind of their own (the PDF lists them apart).
    kind = ', kind: "map"' if supplement == XREF_KINDS["map"] else ""
    return [ast.raw_block("typst", f"#[#set figure(numbering: _ => {typst_string(number)}, "
                                   f"supplement: [{supplement}]{kind})"),
            el, ast.raw_block("typst", "]")]


def _claim_link(el: dict, chapter: Chapter, fmt: str, pending: list, counts: dict):
    (_, classes, kvs), inlines, (target, _) = el["c"]
    key = target.removeprefix(CLAIM_SCHEME)
    if fmt != "html":
        # A Typst string, so a number that lands at the start of a line is
        # never read as list markup ("2023." would start an enumeration).
        return ast.raw_inline("typst", "#" + typst_string(ast.stringify(inlines)))
    counts[key] = counts.get(key, 0) + 1
    anchor = f"use-{key}-{counts[key]}"
    pending.append((key, anchor, ast.stringify(inlines)))
    href = f"{relative_link(chapter.page, CLAIMS_PAGE)}#claim-{key}"
    return {"t": "Link", "c": [[anchor, classes, kvs], inlines, [href, "Where this number comes from"]]}


def _crossref(el: dict, chapter: Chapter, targets: dict[str, Target], fmt: str):
    citations = el["c"][0]
    ids = [c["citationId"] for c in citations]
    if not any(i.split("-")[0] in XREF_KINDS and "-" in i for i in ids):
        return None  # a real bibliographic citation: citeproc handles it
    out: list[dict] = []
    for n, ident in enumerate(ids):
        if ident not in targets:
            raise RenderError(f"{chapter.source}: @{ident} refers to nothing in the book")
        target = targets[ident]
        # As Quarto: on an unnumbered page (the index), a section is
        # referred to by its number and title ("1 Executive summary").
        label = target.caption if chapter.number is None and target.caption else target.label
        if n:
            out.extend([{"t": "Str", "c": ","}, {"t": "Space"}])
        if fmt == "typst":
            out.append(ast.raw_inline("typst", f"#link(<{ident}>)[{typst_content(label)}]"))
        else:
            href = ("" if target.page == chapter.page else relative_link(chapter.page, target.page))
            out.append({"t": "Link", "c": [["", ["xref"], []], ast.str_inlines(label),
                                          [f"{href}#{target.anchor}", ""]]})
    return out


def _figure(el: dict, chapter: Chapter, targets: dict[str, Target], fmt: str,
            figure_dir: Path | None, links: BookLinks):
    (ident, classes, kvs), caption, body = el["c"]
    images = [e for e in ast.iter_elements(body) if e["t"] == "Image"]
    if len(images) != 1:
        raise RenderError(f"{chapter.source}: figure '{ident}' must hold exactly one image")
    image = images[0]
    image_attrs = dict(image["c"][0][2])
    alt = image_attrs.get("fig-alt") or dict(kvs).get("fig-alt")
    if not alt:
        raise RenderError(f"{chapter.source}: figure '{ident}' has no fig-alt text "
                          "(every figure needs a description for screen readers)")
    src = image["c"][2][0]
    if fmt == "typst":
        print_src = _print_variant(chapter, src, figure_dir)
        content = [{"t": "Plain", "c": [ast.raw_inline(
            "typst", f'#image("{print_src}", alt: {typst_string(alt)}, width: 100%)')]}]
        figure = {"t": "Figure", "c": [[ident, classes, kvs], caption, content]}
        return _typst_numbered(figure, targets[ident])
    new_image = {"t": "Image", "c": [["", [], [("loading", "lazy")]], ast.str_inlines(alt),
                                     image["c"][2]]}
    label = targets[ident].label
    short, blocks = caption
    blocks = [dict(b) for b in blocks] or [{"t": "Plain", "c": []}]
    first = blocks[0]
    extra: list[dict] = []
    for link in links.figure_links.get(ident, []):
        href = urls.from_page(chapter.page, link["href"])
        extra += [{"t": "Space"}, {"t": "Link", "c": [["", [link["class"]], []],
                                                      ast.str_inlines(link["text"]), [href, ""]]}]
    blocks[0] = {"t": first["t"], "c": [{"t": "Strong", "c": ast.str_inlines(f"{label}:")},
                                        {"t": "Space"}, *first["c"], *extra]}
    # The image is a link to the image file itself: on a phone a tap opens
    # the chart or map full size, to zoom (no script, works everywhere).
    # A chart with a narrow-layout variant shows that on small screens.
    shown = [new_image]
    if ident in links.narrow:
        narrow = urls.from_page(chapter.page, links.narrow[ident])
        shown = [ast.raw_inline("html", picture_open(narrow)), new_image,
                 ast.raw_inline("html", "</picture>")]
    linked = {"t": "Link", "c": [["", ["figure-full"], []], shown, [src, ""]]}
    return {"t": "Figure", "c": [[ident, classes, kvs], [short, blocks],
                                 [{"t": "Plain", "c": [linked]}]]}


def _print_variant(chapter: Chapter, src: str, figure_dir: Path | None) -> str:
    """Typst paths are resolved from the staging root ('/figures/x.pdf');
    prefer the PDF that sits beside an SVG, for print."""
    name = PurePosixPath(src).name
    if figure_dir is not None:
        pdf = (figure_dir / name).with_suffix(".pdf")
        if pdf.is_file():
            return f"/figures/{pdf.name}"
        if not (figure_dir / name).is_file():
            raise RenderError(f"{chapter.source}: image {src} does not exist")
    return f"/figures/{name}"


def _number_table(el: dict, targets: dict[str, Target]):
    attr, caption, *rest = el["c"]
    ident = attr[0]
    if ident not in targets:
        return None
    short, blocks = caption
    if not blocks:
        return None
    first = blocks[0]
    label = {"t": "Strong", "c": ast.str_inlines(targets[ident].label + ":")}
    blocks = [{"t": first["t"], "c": [label, {"t": "Space"}, *first["c"]]}, *blocks[1:]]
    return {"t": "Table", "c": [attr, [short, blocks], *rest]}


def _callout(el: dict, fmt: str):
    (ident, classes, kvs), blocks = el["c"]
    kinds = [c.removeprefix("callout-") for c in classes if c.startswith("callout-")]
    if not kinds:
        return None
    kind = kinds[0]
    if kind not in CALLOUT_TYPES:
        raise RenderError(f"unknown callout type 'callout-{kind}' (use one of {CALLOUT_TYPES})")
    title = dict(kvs).get("title") or kind.capitalize()
    if fmt == "typst":
        return [ast.raw_block("typst", f'#callout("{kind}", {typst_string(title)})['),
                *blocks, ast.raw_block("typst", "]")]
    header = ast.raw_block("html", f'<div class="callout-title">{html.escape(title)}</div>')
    attrs = [ident, ["callout", f"callout-{kind}"], [("role", "note")]]
    return {"t": "Div", "c": [attrs, [header, {"t": "Div", "c": [["", ["callout-body"], []],
                                                                 blocks]}]]}
