"""The website around the chapters, for readers and reviewers, all of it
generic (nothing here knows what the book is about):

  - highlights: key numbers for the landing page, declared in reprobook.yml
    as fact keys with a label and the chapter that explains them;
  - an offline full-text search index (search.json, plus the same data as a
    script so the search page also works from a folder on disk);
  - the executed notebooks rendered to HTML with their outputs (our own small
    converter: no require.js, MathJax or any other host), so every figure
    can link to the computation that made it;
  - the data page: every raw file of the data package, copied into the site,
    with its description, sources, licence and checksum, plus the whole
    package as one deterministic zip archive.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import RenderError
from ..project import ENGINE_FILE, Project

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
            raise RenderError(f"{ENGINE_FILE}: highlight {n} uses unknown fact '{key}'")
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


RUN_DIR = re.compile(r"\.reprobook/run-[^/\s'\"]+/outputs/")


def published_notebook(path: Path, root: Path) -> dict:
    """The executed notebook as published: paths of the machine that built it
    (the project folder, the scratch run folder) are cut from every string,
    so the page shows `figures/x.svg` and two builds give the same bytes."""
    prefix = str(root).rstrip("/") + "/"

    def scrub(value):
        if isinstance(value, str):
            return RUN_DIR.sub("", value.replace(prefix, ""))
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    return scrub(json.loads(path.read_text(encoding="utf-8")))


def write_notebook(nb: dict, dest: Path) -> None:
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n",
                    encoding="utf-8")


def notebook_body(nb: dict, name: str, source: str, images: Path, image_url: str) -> str:
    """One executed notebook as HTML: each cell's code and its outputs.
    Images are written to `images` (linked, not inlined, to keep the page
    light); rich HTML outputs are shown as their plain-text form, so nothing
    executable or remote ends up on the page."""
    lang = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("language", "python")
    parts = ['<div id="notebook" class="notebook">',
             f'<p>The notebook <code>{html.escape(source)}</code> as the build executed it, '
             'with every output. Cell numbers match the <code>cell</code> of each number in '
             '<a href="../claims.html">the claims ledger</a>. '
             f'<a href="{html.escape(name)}.ipynb" download>Download the executed notebook (.ipynb)</a>.</p>']
    for index, cell in enumerate(nb.get("cells", []), 1):
        kind = cell.get("cell_type")
        src = _text(cell.get("source", ""))
        parts.append(f'<div class="nb-cell nb-{html.escape(kind or "")}" id="cell-{index}">')
        label = f"Cell {index}"
        if kind == "code":
            count = cell.get("execution_count")
            label += f" (executed as [{count}])" if count else ""
            parts.append(f'<p class="nb-label">{label}</p>')
            parts.append(f'<pre class="nb-input" tabindex="0"><code class="language-{html.escape(lang)}">'
                         f"{html.escape(src)}</code></pre>")
            for n, output in enumerate(cell.get("outputs", []), 1):
                parts.append(_output(output, images, image_url, f"{name}-cell{index}-{n}", label))
        else:
            parts.append(f'<p class="nb-label">{label} ({html.escape(kind or "text")})</p>')
            parts.append(f'<pre class="nb-markdown" tabindex="0">{html.escape(src)}</pre>')
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)


def _output(output: dict, images: Path, image_url: str, stem: str, label: str) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="nb-output nb-{output.get("name", "stdout")}" tabindex="0">{html.escape(_text(output.get("text", "")))}</pre>'
    if kind == "error":
        trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="nb-output nb-error" tabindex="0">{html.escape(trace)}</pre>'
    data = output.get("data") or {}
    for mime, ext in (("image/svg+xml", "svg"), ("image/png", "png"), ("image/jpeg", "jpg")):
        if mime in data:
            raw = _text(data[mime])
            blob = raw.encode("utf-8") if ext == "svg" else base64.b64decode(raw)
            images.mkdir(parents=True, exist_ok=True)
            (images / f"{stem}.{ext}").write_bytes(blob)
            alt = _text(data.get("text/plain", "")) or f"Image output of {label}"
            return (f'<p class="nb-output"><img src="{image_url}/{stem}.{ext}" '
                    f'alt="{html.escape(alt)} ({html.escape(label)})" loading="lazy"></p>')
    if "text/plain" in data:
        return f'<pre class="nb-output" tabindex="0">{html.escape(_text(data["text/plain"]))}</pre>'
    return ""


# ----------------------------------------------------------------- search
def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def search_records(page: str, title: str, body: str) -> list[dict]:
    """One record per section of a rendered page: page, title, section,
    anchor and the section's own text (not its subsections'). Reused from
    the build's cache for an unchanged page."""
    from .. import memo

    return json.loads(memo.cached("search", memo.key(Path(__file__), page, title, body),
                                  lambda: json.dumps(_search_records(page, title, body)).encode()))


def _search_records(page: str, title: str, body: str) -> list[dict]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    records = []
    for section in soup.find_all("section"):
        heading = section.find(re.compile(r"^h[1-6]$"))
        parts = []
        for child in section.children:
            if getattr(child, "name", None) == "section":
                continue
            if child is heading:
                continue
            parts.append(child.get_text(" ") if hasattr(child, "get_text") else str(child))
        text = _clean(" ".join(parts))
        if not text and heading is None:
            continue
        section_title = title if heading is None or heading.name == "h1" else _clean(heading.get_text(" "))
        records.append({"page": page, "title": title, "section": section_title,
                        "anchor": section.get("id", ""), "text": text})
    if not records:
        records.append({"page": page, "title": title, "section": title, "anchor": "",
                        "text": _clean(soup.get_text(" "))})
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


def publish_data(project: Project, site: Path) -> dict:
    """Copy every raw file of the data package (and the descriptor) into
    site/data/, build site/data/<name>.zip deterministically, and return
    what the data page shows."""
    descriptor = project.root / project.datapackage
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    folder = descriptor.parent
    dest = site / "data"
    dest.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path]] = [(descriptor.name, descriptor)]
    resources = []
    default_licences = package.get("licenses") or []
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
            "licences": resource.get("licenses") or default_licences,
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
        notebook cell that drew the figure, its data and the ledger entries
        of the facts its markdown prints. Both renderers append these to the
        figure's caption (the built-in in Python, Quarto in the extension)."""
        out: list[dict] = []
        figure = PurePosixPath(chapter_source).parent / src
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
def landing_block(env, project: Project, facts: dict[str, dict], chapters: list[tuple],
                  page: str) -> str:
    """The index page's opening: the book's key numbers as large labelled
    figures, each linking to the chapter that explains it, then the table of
    contents. `chapters` are (title, number, page) in book order."""
    items = [{"label": h.label, "text": h.text, "key": h.key,
              "href": from_page(page, h.page), "claim": from_page(page, f"claims.html#claim-{h.key}")}
             for h in highlights(project, facts)]
    contents = [{"title": title, "number": number, "href": from_page(page, target)}
                for title, number, target in chapters[1:]]
    return env.get_template("landing.html").render(highlights=items, contents=contents,
                                                   claims=from_page(page, "claims.html"),
                                                   data=from_page(page, DATA_PAGE))
