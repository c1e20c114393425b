"""The executed notebooks published as pages: outputs that would run code in
the reader's browser removed, images written as files, code shown as text.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path, PurePosixPath

from .. import memo
from .sanitize import clean_html, clean_svg


NOTEBOOK_DIR = "notebooks"


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def joined_text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def published_notebook(path: Path, root: Path) -> dict:
    """The executed notebook as published: paths of the machine that built it
    (the project folder, the scratch run folder) are cut from every string,
    so the page shows `figures/x.svg` and two builds give the same bytes.
    The runner already stores it so; this also covers older cache entries."""
    from ..pipeline.runner import scrub_paths

    return scrub_paths(json.loads(path.read_text(encoding="utf-8")), root)


def write_notebook(nb: dict, dest: Path) -> None:
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


# Output types a static page must not carry: they run code in the reader's
# browser (and nbconvert gives them random element ids).
EXECUTABLE_MIMES = ("application/javascript", "text/javascript",
                    "application/vnd.jupyter.widget-view+json",
                    "application/vnd.jupyter.widget-state+json")
# Elements that would run code or load something when the page opens.
UNSAFE_TAGS = ("script", "iframe", "object", "embed", "link", "style", "meta", "base", "form",
               "frame", "frameset", "applet", "noscript", "animate", "set", "foreignobject")
LOADING_ATTRS = ("src", "srcset", "poster", "data", "background", "formaction", "xlink:href",
                 "href")
CELL_ID = "reprobook-cell-"


def _prepared(nb: dict) -> "nbformat.NotebookNode":
    """A copy of the notebook for nbconvert: every cell gets an id that
    gives its 1-based number back, raw cells become literal text (the
    basic template would drop them, and with them their anchor), and
    outputs that would run code are removed."""
    import nbformat

    # Read as nbformat reads a file (multi-line strings joined), with the
    # keys nbformat requires and hand-made notebooks may lack.
    cells = []
    for index, cell in enumerate(nb.get("cells", []), 1):
        cell = {"metadata": {}, **cell, "id": f"{CELL_ID}{index}"}
        if cell.get("cell_type") == "code":
            cell = {"execution_count": None, "outputs": [], **cell}
            cell["outputs"] = [
                {"metadata": {}, **o} if o.get("output_type") in ("display_data", "execute_result")
                else o for o in cell["outputs"]]
            cell["outputs"] = [{"execution_count": None, **o} if o.get("output_type") == "execute_result"
                               else o for o in cell["outputs"]]
        cells.append(cell)
    # Cell ids are nbformat 4.5: a 4.4 notebook given ids is declared 4.5,
    # or nbformat's validator logs every page as invalid.
    node = nbformat.reads(json.dumps({"metadata": {}, **nb, "nbformat": 4, "nbformat_minor": 5,
                                      "cells": cells}), as_version=4)
    for cell in node.cells:
        cell["source"] = joined_text(cell.get("source", ""))
        if cell.get("cell_type") not in ("code", "markdown"):
            fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", cell["source"])),
                                         default=0))
            cell["cell_type"] = "markdown"
            cell["source"] = f"{fence}\n{cell['source']}\n{fence}"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
        for output in cell.get("outputs", []):
            data = output.get("data")
            if isinstance(data, dict):
                for mime in EXECUTABLE_MIMES:
                    data.pop(mime, None)
                if "text/html" in data:
                    output.setdefault("metadata", {}).get("text/html", {}).pop("isolated", None)
    return node


def _exporter(name: str):
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    # The "basic" template is the body only: no require.js, MathJax, CDN
    # stylesheet or widget loader (those are in the full templates' page
    # head). Code is printed as plain escaped text (the highlighter's
    # markup would triple a page's weight). nbconvert's own sanitizer
    # (bleach's short tag list) would escape headings, paragraphs and table
    # heads, so _make_safe does that job on the result instead.
    exporter = HTMLExporter(template_name="basic", exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_anchor_links=True,
                            sanitize_html=False, embed_images=False,
                            filters={"highlight_code": _plain_code})
    exporter.register_preprocessor(ExtractOutputPreprocessor(
        output_filename_template=name + "-cell{cell_index}-{index}{extension}"), enabled=True)
    return exporter


def _plain_code(source: str, language: str = "python", metadata=None, **_) -> str:
    from markupsafe import Markup

    return Markup(f'<pre class="nb-input" tabindex="0"><code class="language-{html.escape(language or "python")}">'
                  f"{html.escape(source)}</code></pre>")


def notebook_body(nb: dict, name: str, source: str, images: Path, image_url: str,
                  figures: dict[int, list[dict]] | None = None) -> str:
    """_notebook_body, reused from the build's cache when nothing it depends
    on changed (the executed notebook, the figures shown with it, this file,
    nbconvert's version): converting a notebook is the slowest step of
    staging, and a prose edit changes no notebook."""
    import base64
    import tempfile
    from importlib.metadata import version

    # The version from the package metadata: importing nbconvert (about
    # 0.4 s) is only needed when the page is converted.
    key = memo.key(Path(__file__), json.dumps(nb, sort_keys=True, ensure_ascii=False), name,
                   source, image_url, json.dumps(figures or {}, sort_keys=True),
                   version("nbconvert"), Path(__file__).with_name("sanitize.py"), version("nh3"))

    def compute() -> bytes:
        with tempfile.TemporaryDirectory(prefix="notebook-page-") as tmp:
            body = _notebook_body(nb, name, source, Path(tmp), image_url, figures)
            files = {p.name: base64.b64encode(p.read_bytes()).decode()
                     for p in sorted(Path(tmp).iterdir())}
        return json.dumps({"body": body, "files": files}, sort_keys=True).encode()

    result = json.loads(memo.cached("notebook-page", key, compute))
    for filename, data in result["files"].items():
        images.mkdir(parents=True, exist_ok=True)
        (images / filename).write_bytes(base64.b64decode(data))
    return result["body"]


def _notebook_body(nb: dict, name: str, source: str, images: Path, image_url: str,
                   figures: dict[int, list[dict]] | None = None) -> str:
    """One executed notebook as HTML, with nbconvert's HTML exporter:
    Markdown cells rendered, tables as HTML tables, images as files shown
    inline. Every cell keeps the anchor `cell-<n>` (1-based) that the claims
    ledger and the figure links point to, with a "Cell n" label. `figures`
    (cell number -> [{src, alt, href}]) are the book's figures a cell saved,
    shown after its outputs. Nothing on the page runs code or loads anything
    from another host: scripts, frames, styles and external sources are
    removed after conversion."""
    from bs4 import BeautifulSoup

    exporter = _exporter(name)
    body, resources = exporter.from_notebook_node(
        _prepared(nb), resources={"output_files_dir": image_url})
    for filename, blob in sorted((resources.get("outputs") or {}).items()):
        if filename.endswith(".svg"):  # openable as a page on its own: no script in it
            blob = clean_svg(blob) or b""
        images.mkdir(parents=True, exist_ok=True)
        (images / PurePosixPath(filename).name).write_bytes(blob)

    # nh3's allow-list first (it parses as browsers do); _make_safe after,
    # for what the rest of this function relies on.
    soup = BeautifulSoup(clean_html(body), "html.parser")
    _make_safe(soup)
    # The page's title is its only h1: the notebook's headings move down so
    # that its highest becomes h2, keeping their order without skipped levels.
    headings = soup.find_all(re.compile(r"^h[1-6]$"))
    if headings:
        shift = 2 - min(int(h.name[1]) for h in headings)
        for heading in headings:
            heading.name = f"h{min(max(int(heading.name[1]) + shift, 2), 6)}"
    for index, cell in enumerate(nb.get("cells", []), 1):
        div = soup.find(id=f"cell-id={CELL_ID}{index}")
        if div is None:
            continue
        kind = cell.get("cell_type") or "text"
        div["id"] = f"cell-{index}"
        div["class"] = ["nb-cell", f"nb-{kind}", *div.get("class", [])]
        label = soup.new_tag("p", attrs={"class": "nb-label"})
        count = cell.get("execution_count") if kind == "code" else None
        label.string = (f"Cell {index}" + (f" (executed as [{count}])" if count else "")
                        + ("" if kind == "code" else f" ({kind})"))
        div.insert(0, label)
        for n, img in enumerate(div.find_all("img"), 1):
            img["src"] = _image_file(img["src"], images, image_url, f"{name}-cell{index}-inline{n}")
            if not img.get("alt") or img["alt"].startswith("No description"):
                img["alt"] = f"Image output {n} of cell {index}"
            img["loading"] = "lazy"
        for table in div.find_all("table"):
            for attr in ("border", "style", "width"):
                table.attrs.pop(attr, None)
            wrapper = soup.new_tag("div", attrs={"class": "nb-table", "tabindex": "0",
                                                 "role": "region",
                                                 "aria-label": f"Table output of cell {index}"})
            table.wrap(wrapper)
        for area in div.select(".output_area"):
            area["class"] = ["nb-output", *area.get("class", [])]
        for pre in div.select(".output_text pre, .output_error pre"):
            pre["tabindex"] = "0"
        for figure in (figures or {}).get(index, []):
            div.append(BeautifulSoup(
                '<figure class="nb-figure"><a href="{full}"><img src="{src}" alt="{alt}" loading="lazy"></a>'
                '<figcaption>Saved by this cell: <a href="{href}">{label}</a></figcaption></figure>'.format(
                    href=html.escape(figure["href"]), src=html.escape(figure["src"]),
                    full=html.escape(figure.get("full") or figure["src"]),
                    alt=html.escape(figure["alt"]), label=html.escape(figure["label"])),
                "html.parser"))
    for pre in soup.find_all("pre"):
        if pre.get("tabindex") is None and pre.find_parent(class_="nb-input") is None:
            pre["tabindex"] = "0"
    intro = ('<p>The notebook <code>{src}</code> as the build executed it, with every output. '
             'Cell numbers match the <code>cell</code> of each number in '
             '<a href="../claims.html">the claims ledger</a>. '
             '<a href="{name}.ipynb" download>Download the executed notebook (.ipynb)</a>.</p>').format(
        src=html.escape(source), name=html.escape(name))
    return f'<div id="notebook" class="notebook">\n{intro}\n{soup.decode().strip()}\n</div>'


DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,(.*)$", re.S)


def _image_file(src: str, images: Path, image_url: str, stem: str) -> str:
    """An image inlined as a data: URL (nbconvert inlines SVG outputs and
    Markdown attachments) becomes a file beside the page, as PNG outputs
    are: the page stays light and its images load lazily."""
    import base64

    match = DATA_IMAGE.match(src)
    if not match:
        return src
    ext = {"jpeg": "jpg", "svg+xml": "svg"}.get(match.group(1), match.group(1))
    images.mkdir(parents=True, exist_ok=True)
    try:
        data = base64.b64decode(match.group(2))
    except ValueError:
        data = b""
    if ext == "svg":  # openable as a page on its own: no script in it
        data = clean_svg(data) or b""
    (images / f"{stem}.{ext}").write_bytes(data)
    return f"{image_url}/{stem}.{ext}"


def _make_safe(soup) -> None:
    """Remove what would run or load on opening the page: script-like
    elements, event handlers, `javascript:` links and sources that are
    not files of the site itself (data: images are kept)."""
    for tag in soup.find_all(UNSAFE_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        for attr in list(tag.attrs):
            value = tag.attrs[attr]
            text = " ".join(value) if isinstance(value, list) else str(value)
            lowered = re.sub(r"\s+", "", text).lower()
            if attr.lower().startswith("on") or lowered.startswith(("javascript:", "vbscript:")):
                del tag.attrs[attr]
            elif attr.lower() in LOADING_ATTRS and (attr.lower() != "href" or tag.name != "a") and (
                    re.match(r"^([a-z][a-z0-9+.-]*:|//)", lowered)
                    and not lowered.startswith("data:image/")):
                del tag.attrs[attr]
            elif attr.lower() == "style" and "url(" in lowered:
                del tag.attrs[attr]
    for img in soup.find_all("img"):
        if not img.get("src"):  # an image from another host: not shown
            img.decompose()
