"""The website around the chapters, for readers and reviewers, all of it
generic (nothing here knows what the book is about):

  - highlights: key numbers for the landing page, declared in reprobook.yml
    as fact keys with a label and the chapter that explains them;
  - an offline full-text search index (search.json, plus the same data as a
    script so the search page also works from a folder on disk);
  - the executed notebooks rendered to HTML with their outputs (nbconvert's
    exporter with its body-only template, then made static: no script,
    require.js, MathJax or any other host), so every figure can link to the
    computation that made it;
  - the data page: every raw file of the data package, copied into the site,
    with its description, sources, licence and checksum, plus the whole
    package as one deterministic zip archive.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import memo
from ..errors import RenderError, did_you_mean
from ..project import ENGINE_FILE, Project
from .sanitize import clean_html, clean_svg

DATA_PAGE = "data.html"
SEARCH_PAGE = "search.html"
NOTEBOOK_DIR = "notebooks"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


@dataclass(frozen=True)
class Highlight:
    key: str
    label: str
    text: str  # the fact as printed
    page: str  # the chapter's page, e.g. chapters/sites.html (with #anchor if given)


def highlights(project: Project, facts: dict[str, dict]) -> list[Highlight]:
    """The landing page's key numbers (Project.highlights) with their
    printed text. An unknown fact is a build error, like an unknown
    `{{< fact >}}`."""
    out = []
    for n, (key, label, page) in enumerate(project.highlights, 1):
        if key not in facts:
            raise RenderError(f"{ENGINE_FILE}: highlight {n} uses unknown fact '{key}'"
                              f"{did_you_mean(key, facts)}")
        out.append(Highlight(key, label, facts[key]["text"], page))
    return out


# ------------------------------------------------------------ provenance
def figure_notebooks(project: Project) -> dict[str, str]:
    """Figure file name (e.g. sites.svg) -> the notebook that writes it."""
    return {PurePosixPath(out).name: spec.name
            for spec in project.notebooks for out in spec.outputs}


VAR = re.compile(r"\{\{<\s*var\s+([^>]*?)\s*>\}\}")


def figure_fact_keys(project: Project, chapter_source: str, ident: str) -> list[str]:
    """The facts a figure's markdown prints (caption and fig-alt), read from
    the chapter source: `![...](...){#ident ...}`."""
    from .shortcodes import expand_includes

    path = project.root / chapter_source
    text = expand_includes(path.read_text(encoding="utf-8"), path, chapter_source)
    at = text.find("{#" + ident)
    if at == -1:
        return []
    start = text.rfind("![", 0, at)
    end = text.find("\n", at)
    keys: list[str] = []
    for m in VAR.finditer(text[max(start, 0):end if end != -1 else len(text)]):
        if m.group(1) not in keys:
            keys.append(m.group(1))
    return keys


# ------------------------------------------------------------- notebooks
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _text(value) -> str:
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
        cell["source"] = _text(cell.get("source", ""))
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


# ----------------------------------------------------------------- search
def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def search_records(page: str, title: str, body: str) -> list[dict]:
    """One record per section of a rendered page: page, title, section,
    anchor and the section's own text (not its subsections'). Reused from
    the build's cache for an unchanged page."""
    return json.loads(memo.cached("search", memo.key(Path(__file__), page, title, body),
                                  lambda: json.dumps(_search_records(page, title, body)).encode()))


# Elements whose text starts on a new line (or cell): a space separates
# their text from what is around them. Inline elements (links, emphasis,
# numbers printed as facts) are joined to their neighbours as the reader
# sees them: "(10)", not "( 10 )".
BLOCKS = {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
          "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
          "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
          "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "img"}


def reader_text(node) -> str:
    """The text of an element as a reader sees it (see BLOCKS)."""
    from bs4 import NavigableString

    if isinstance(node, NavigableString):
        return str(node)
    if not hasattr(node, "children"):
        return ""
    inner = "".join(reader_text(child) for child in node.children)
    return f" {inner} " if node.name in BLOCKS else inner


def _search_records(page: str, title: str, body: str) -> list[dict]:
    from bs4 import BeautifulSoup
    from bs4.element import Comment

    soup = BeautifulSoup(body, "html.parser")
    for hidden in soup.find_all(["style", "script"]):  # not text a reader searches
        hidden.decompose()
    # A quotation (<q>) repeats text indexed where it stands: the ledger
    # quotes each chapter sentence that prints a fact.
    for quoted in soup.find_all("q"):
        quoted.decompose()
    # Text a page repeats from elsewhere (the ledger quotes the chapters'
    # sentences) is marked data-search="skip": found once, on its own page.
    # A table marked data-search-skip="n" repeats such text in its n-th
    # column (one attribute per table rather than one per cell).
    # (find_all, not select(): a CSS selector costs soupsieve 0.25 s to compile.)
    for repeated in soup.find_all(attrs={"data-search": "skip"}):
        repeated.decompose()
    for table in soup.find_all("table", attrs={"data-search-skip": True}):
        column = table["data-search-skip"]
        if column.isdigit():
            for row in table.find_all("tr"):
                cells = row.find_all(["td", "th"], recursive=False)
                if int(column) <= len(cells):
                    cells[int(column) - 1].decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    records = []
    for section in soup.find_all("section"):
        heading = section.find(re.compile(r"^h[1-6]$"))
        parts = []
        for child in section.children:
            if getattr(child, "name", None) == "section":
                continue
            if child is heading:
                continue
            parts.append(reader_text(child))
        text = _clean(" ".join(parts))
        if not text and heading is None:
            continue
        section_title = title if heading is None or heading.name == "h1" else _clean(reader_text(heading))
        records.append({"page": page, "title": title, "section": section_title,
                        "anchor": section.get("id", ""), "text": text})
    if not records:
        records.append({"page": page, "title": title, "section": title, "anchor": "",
                        "text": _clean(reader_text(soup))})
    return records


def write_search_index(records: list[dict], site: Path, assets: Path) -> None:
    payload = json.dumps(records, ensure_ascii=False, separators=(",", ":"))
    (site / "search.json").write_text(payload + "\n", encoding="utf-8")
    # The same data as a script: the search page works from a folder on disk
    # too, where browsers refuse fetch() of local files.
    (assets / "search-index.js").write_text(f"window.REPROBOOK_SEARCH={payload};\n",
                                            encoding="utf-8")


# ------------------------------------------------------------------- data
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources(resource: dict) -> list[dict]:
    out = []
    for source in resource.get("sources") or []:
        url = str(source.get("path") or source.get("url") or "")
        out.append({"title": source.get("title") or url,
                    "url": url if url.startswith(("http://", "https://")) else None})
    return out


def _licences(licences) -> list[dict]:
    """A package's or resource's licences for the data page: a licence's
    `path` is a link only when it is a web address (a `javascript:` path
    was a live link)."""
    out = []
    for licence in licences if isinstance(licences, list) else []:
        licence = licence if isinstance(licence, dict) else {"name": str(licence)}
        path = str(licence.get("path") or "")
        out.append({**licence, "path": path if re.match(r"https?://[^\s\x00-\x1f]+$", path) else None})
    return out


def publish_data(project: Project, site: Path) -> dict:
    """Copy every raw file of the data package (and the descriptor) into
    site/data/, build site/data/<name>.zip deterministically, and return
    what the data page shows."""
    descriptor = project.root / project.datapackage
    if not descriptor.is_file():  # a book without data: the page says so
        return {"title": "", "description": "", "licences": [], "resources": [],
                "archive": None, "descriptor": None}
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    folder = descriptor.parent
    dest = site / "data"
    dest.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path]] = [(descriptor.name, descriptor)]
    resources = []
    default_licences = _licences(package.get("licenses") or [])
    for resource in package.get("resources") or []:
        rel = resource.get("path")
        if not isinstance(rel, str):
            raise RenderError(f"{project.datapackage}: resource {resource.get('name')} has no single path")
        path = folder / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        files.append((rel, path))
        declared = str(resource.get("hash") or "").removeprefix("sha256:")
        resources.append({
            "name": resource.get("name", rel), "title": resource.get("title") or resource.get("name", rel),
            "description": inline_code(resource.get("description", "")), "path": f"data/{rel}",
            "format": resource.get("format", PurePosixPath(rel).suffix.lstrip(".")),
            "bytes": path.stat().st_size, "sha256": declared or _sha256(path),
            "sources": _sources(resource),
            "licences": _licences(resource.get("licenses")) or default_licences,
        })
    (dest / descriptor.name).write_bytes(descriptor.read_bytes())
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", package.get("name") or "data") + ".zip"
    archive = dest / name
    deterministic_zip(files, archive, prefix=PurePosixPath(name).stem)
    return {"title": package.get("title", ""), "description": inline_code(package.get("description", "")),
            "licences": default_licences, "resources": resources,
            "archive": {"path": f"data/{name}", "bytes": archive.stat().st_size,
                        "sha256": _sha256(archive)},
            "descriptor": f"data/{descriptor.name}"}


def inline_code(text: str):
    """Plain text with `backticks` shown as code (descriptions in data
    packages are written that way)."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def deterministic_zip(files: list[tuple[str, Path]], archive: Path, prefix: str = "") -> Path:
    """A zip whose bytes depend only on the files' names and contents:
    sorted names, fixed timestamps and permissions, fixed compression."""
    with zipfile.ZipFile(archive, "w") as zf:
        for rel, path in sorted(files, key=lambda item: item[0]):
            arcname = f"{prefix}/{rel}" if prefix else rel
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return archive


# ------------------------------------------------------ figure provenance
class Provenance:
    """Which notebook (and cell) made each figure, and which facts its
    markdown prints: the links a reviewer follows from a figure."""

    def __init__(self, project: Project):
        from ..execute import EXECUTED_NAME, cache_dir

        self.project = project
        self.by_file = figure_notebooks(project)
        self.executed: dict[str, Path] = {}
        self.cells: dict[str, int] = {}  # figure file stem -> cell number (1-based)
        for spec in project.notebooks:
            path = cache_dir(project, spec) / EXECUTED_NAME
            if not path.is_file():
                continue
            self.executed[spec.name] = path
            stems = {PurePosixPath(o).stem for o in spec.outputs}
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            for index, cell in enumerate(cells, 1):
                source = _text(cell.get("source", ""))
                for stem in stems:
                    if stem not in self.cells and (f'"{stem}"' in source or f"'{stem}'" in source):
                        self.cells[stem] = index

    def notebook_page(self, name: str) -> str:
        return f"{NOTEBOOK_DIR}/{name}.html"

    def figure_links(self, chapter_source: str, ident: str, src: str) -> list[dict]:
        """[{text, href, class}] with hrefs relative to the book's root: the
        image at full size, the notebook cell that drew the figure, its data
        and the ledger entries of the facts its markdown prints. Both renderers append these to the
        figure's caption (the built-in in Python, Quarto in the extension)."""
        out: list[dict] = []
        figure = PurePosixPath(chapter_source).parent / src
        # The image itself, at full size: on a phone the chart or map is
        # shrunk to the column (the image is a link to the same file, too).
        out.append({"text": "Full size", "href": str(_normal(figure)), "class": "figure-full-size"})
        data_csv = figure.with_suffix(".csv")
        if (self.project.root / data_csv).is_file():
            out.append({"text": "Data (CSV)", "href": str(_normal(data_csv)), "class": "figure-data"})
        name = self.by_file.get(PurePosixPath(src).name)
        if name and name in self.executed:
            stem = PurePosixPath(src).stem
            anchor = f"#cell-{self.cells[stem]}" if stem in self.cells else ""
            out.append({"text": f"Notebook ({name})", "href": self.notebook_page(name) + anchor,
                        "class": "figure-notebook"})
        for n, key in enumerate(figure_fact_keys(self.project, chapter_source, ident)):
            out.append({"text": "Claims ledger" if n == 0 else f"Claims ledger ({n + 1})",
                        "href": f"claims.html#claim-{key}", "class": "figure-claims"})
        return out


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
        figure = _normal(PurePosixPath(chapter_source).parent / src)
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


def _normal(path: PurePosixPath) -> PurePosixPath:
    import posixpath

    return PurePosixPath(posixpath.normpath(str(path)))


def root_of(page: str) -> str:
    """The relative path from `page` to the site's root ("." or "../..")."""
    depth = len(PurePosixPath(page).parts) - 1
    return "/".join([".."] * depth) or "."


def from_page(page: str, target: str) -> str:
    """`target` (relative to the site's root) as seen from `page`."""
    root = root_of(page)
    return target if root == "." else f"{root}/{target}"


# ---------------------------------------------------------------- landing
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def human_date(value: str) -> str:
    """'2025-09-20' -> '20 September 2025', '2025-06' -> 'June 2025'; any
    other text is returned as it is."""
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return str(value)
    month = f"{MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return f"{int(m.group(3))} {month}" if m.group(3) else month


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def float_summary(labels: list[str]) -> str:
    """['Map 3.1', 'Map 3.2', 'Table 3.1'] -> 'Maps 3.1 and 3.2; Table 3.1'."""
    kinds: dict[str, list[str]] = {}
    for label in labels:
        kind, _, number = label.partition(" ")
        kinds.setdefault(kind, []).append(number)
    return "; ".join(f"{kind}{'s' if len(numbers) > 1 else ''} {_listing(numbers)}"
                     for kind, numbers in kinds.items())


def where_floats_are(chapters: list[tuple], floats: dict[str, list[str]]) -> str:
    """'Maps are in chapters 3, 4 and 9; figures in chapters 5 and 6.': for
    each kind of float, the numbered chapters holding one, in book order."""
    kinds: dict[str, list[str]] = {}
    for title, number, page in chapters:
        for label in floats.get(page, []):
            kind = label.split(" ")[0].lower() + "s"
            where = kinds.setdefault(kind, [])
            name = str(number) if number else title
            if name not in where:
                where.append(name)
    parts = [f"{kind} {'are ' if i == 0 else ''}in chapter{'s' if len(where) > 1 else ''} "
             f"{_listing(where)}" for i, (kind, where) in enumerate(
                 sorted(kinds.items(), key=lambda kv: (kv[0] != "maps", kv[0])))]
    return (parts[0][:1].upper() + "; ".join(parts)[1:] + ".") if parts else ""


def landing_block(env, project: Project, facts: dict[str, dict], chapters: list[tuple],
                  page: str, edition: dict | None = None, floats: dict[str, list[str]] | None = None,
                  changes: str | None = None, descriptions: dict[str, str] | None = None,
                  replication: dict | None = None) -> str:
    """The index page's opening: a title block (the book's title and
    subtitle, the work it reproduces with its author, date and funders from
    reprobook.yml `original`, and this edition's number and date), the
    book's key numbers as large labelled figures, each linking to the
    chapter that explains it, then what is in the book: every chapter of
    this edition with the figures, maps and tables it holds. `chapters`
    are (title, number, page) in book order; `floats` page -> labels
    ("Map 3.1"); `changes` the page saying what changed since the previous
    edition, if any; `descriptions` page -> the chapter's one-line
    description (its front matter's `description:`).; `replication` the edition's replication package
    ({path, bytes, sha256}, replication.py)"""
    floats = floats or {}
    descriptions = descriptions or {}
    items = [{"label": h.label, "text": h.text, "key": h.key,
              "href": from_page(page, h.page), "claim": from_page(page, f"claims.html#claim-{h.key}")}
             for h in highlights(project, facts)]
    contents = [{"title": title, "number": number, "href": from_page(page, target),
                 "floats": float_summary(floats.get(target, [])),
                 "description": descriptions.get(target, "")}
                for title, number, target in chapters[1:]]
    original = dict(project.original)
    if original.get("date"):
        original["date"] = human_date(original["date"])
    edition = dict(edition or {})
    if edition.get("date"):
        edition["date"] = human_date(edition["date"])
    return env.get_template("landing.html").render(
        title=project.title, subtitle=project.subtitle, original=original, edition=edition,
        changes=from_page(page, changes) if changes else None,
        highlights=items, contents=contents, where=where_floats_are(chapters[1:], floats),
        claims=from_page(page, "claims.html"), data=from_page(page, DATA_PAGE),
        replication=dict(replication, href=from_page(page, replication["path"])) if replication else None)
