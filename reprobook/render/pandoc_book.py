"""The built-in renderer: a Quarto book rendered with pandoc (HTML pages) and
pandoc + Typst (one PDF), for machines without Quarto.

What it adds to plain pandoc, so the chapters' Quarto syntax works
(docs/quarto-subset.md lists the subset):
  - `{{< var key >}}` substituted from the facts table (shortcodes.py);
  - book-wide numbering of figures, tables and chapters, and `@fig-`,
    `@tbl-`, `@sec-` references turned into links with those numbers
    (pandoc alone reads them as citations);
  - `fig-alt` moved onto the image (pandoc leaves it as a data attribute);
  - callouts styled in HTML and boxed in Typst;
  - a book-wide bibliography: with `bibliography:` in _quarto.yml, the page
    holding a `::: {#refs}` div gets the reference list and the other pages'
    citations link to it, as in a Quarto book;
  - text in scripts such as Myanmar marked with its language (scripts.py);
  - a site around the pages: sidebar, page TOC, previous/next, PDF link,
    and the project's fonts/ served from the site (webfonts.py).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import jinja2

from ..errors import RenderError
from ..project import Project
from . import ast
from .. import ledger
from .scripts import mark_languages
from .shortcodes import CLAIM_SCHEME, expand_includes, substitute
from .webfonts import publish_fonts, subset_fonts
from . import site as sitelib

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CLAIMS_PAGE = "claims.html"
CHANGES_PAGE = "changes.html"
XREF_KINDS = {"fig": "Figure", "tbl": "Table", "sec": "Section"}
CALLOUT_TYPES = ("note", "warning", "important", "tip", "caution")


def typst_string(text: str) -> str:
    """A Typst string literal (Typst knows \\u{...}, not JSON's \\uXXXX)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pandoc_binary() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def run_pandoc(args: list[str], stdin: str, cwd: Path | None = None) -> str:
    proc = subprocess.run([pandoc_binary(), *args], input=stdin, capture_output=True,
                          text=True, cwd=cwd)
    if proc.returncode != 0:
        raise RenderError(f"pandoc {' '.join(args)} failed:\n{proc.stderr.strip()}")
    return proc.stdout


@dataclass
class Chapter:
    source: str  # path relative to the project root, e.g. chapters/sites.qmd
    number: int | None  # None for the unnumbered index page
    doc: dict  # pandoc AST
    title: str = ""
    facts_used: list[str] = field(default_factory=list)
    uses: list[ledger.Use] = field(default_factory=list)  # filled by the HTML transform

    @property
    def page(self) -> str:
        return str(PurePosixPath(self.source).with_suffix(".html"))


@dataclass(frozen=True)
class Target:
    """Where a cross-reference points and how it is printed."""

    label: str  # "Figure 3", "Chapter 2", "Section 2.1"
    page: str
    anchor: str


def page_names(project: Project) -> set[str]:
    """The HTML pages a build of `project` publishes (without rendering)."""
    return {str(PurePosixPath(c).with_suffix(".html")) for c in project.chapters} | {CLAIMS_PAGE}


# ---------------------------------------------------------------- parsing
def _parallel(fn, items: list) -> list:
    """Map `fn` over `items` on threads: the work is pandoc subprocesses,
    so this uses every core; results keep the input order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(items), os.cpu_count() or 1))) as pool:
        return list(pool.map(fn, items))


def _read_chapter(project: Project, facts: dict[str, dict], source: str) -> tuple[dict, list[str]]:
    path = project.root / source
    text = expand_includes(path.read_text(encoding="utf-8"), path, source)
    text, used = substitute(text, facts, source)
    return json.loads(run_pandoc(["-f", "markdown", "-t", "json"], text)), used


def parse_chapters(project: Project, facts: dict[str, dict]) -> list[Chapter]:
    chapters = []
    number = 0
    parsed = _parallel(lambda source: _read_chapter(project, facts, source), list(project.chapters))
    for source, (doc, used) in zip(project.chapters, parsed):
        is_index = PurePosixPath(source).name == "index.qmd"
        doc = _promote_title(doc, is_index)
        # Like the index, a chapter whose title is marked {.unnumbered}
        # (e.g. References) has no chapter number, nor do its sections.
        unnumbered = is_index or "unnumbered" in _first_heading_classes(doc)
        if unnumbered and not is_index:
            doc = {**doc, "blocks": ast.walk(doc["blocks"], _unnumber)}
        if not unnumbered:
            number += 1
        chapter = Chapter(source, None if unnumbered else number, doc, facts_used=used)
        chapter.title = _first_heading(doc) or source
        chapters.append(chapter)
    return chapters


def _promote_title(doc: dict, is_index: bool) -> dict:
    """A `title:` in the front matter becomes the chapter's level-1 heading,
    as in Quarto; the index page is unnumbered."""
    title = doc["meta"].get("title")
    blocks = doc["blocks"]
    if title and not any(b["t"] == "Header" and b["c"][0] == 1 for b in blocks):
        inlines = title["c"] if title["t"] == "MetaInlines" else ast.str_inlines(ast.stringify(title))
        blocks = [{"t": "Header", "c": [1, ["", [], []], inlines]}, *blocks]
    if is_index:
        blocks = ast.walk(blocks, _unnumber)
    return {**doc, "blocks": blocks}


def _unnumber(el: dict):
    if el["t"] == "Header":
        level, (ident, classes, kvs), inlines = el["c"]
        if "unnumbered" not in classes:
            return {"t": "Header", "c": [level, [ident, [*classes, "unnumbered"], kvs], inlines]}
    return None


def _first_heading_classes(doc: dict) -> list[str]:
    for block in doc["blocks"]:
        if block["t"] == "Header" and block["c"][0] == 1:
            return block["c"][1][1]
    return []


def _first_heading(doc: dict) -> str:
    for block in doc["blocks"]:
        if block["t"] == "Header" and block["c"][0] == 1:
            return ast.stringify(block["c"][2])
    return ""


# -------------------------------------------------------------- numbering
def number_targets(chapters: list[Chapter]) -> dict[str, Target]:
    """Book-wide numbers: figures and tables count through the whole book
    (Figure 1, 2, ...), sections are numbered within their chapter."""
    targets: dict[str, Target] = {}
    counts = {"fig": 0, "tbl": 0}
    for chapter in chapters:
        section = [chapter.number or 0, 0, 0, 0, 0, 0]
        for el in ast.iter_elements(chapter.doc["blocks"]):
            kind = el["t"]
            if kind == "Header":
                level, (ident, classes, _), _ = el["c"]
                if chapter.number and "unnumbered" not in classes and level > 1:
                    section[level - 1] += 1
                    section[level:] = [0] * (len(section) - level)
                label = None
                if ident.startswith("sec-"):
                    if chapter.number is None or "unnumbered" in classes:
                        label = ast.stringify(el["c"][2])
                    elif level == 1:
                        label = f"Chapter {chapter.number}"
                    else:
                        label = "Section " + ".".join(str(n) for n in section[:level])
                    _add(targets, ident, Target(label, chapter.page, ident), chapter)
            elif kind in ("Figure", "Table"):
                ident = el["c"][0][0]
                prefix = "fig" if kind == "Figure" else "tbl"
                if kind == "Table" and not ident and not _has_caption(el):
                    continue  # a plain table, not a numbered float
                if not ident.startswith(prefix + "-"):
                    raise RenderError(f"{chapter.source}: every {kind.lower()} needs an id "
                                      f"starting with '{prefix}-' (found '{ident or 'none'}')")
                counts[prefix] += 1
                _add(targets, ident, Target(f"{XREF_KINDS[prefix]} {counts[prefix]}",
                                            chapter.page, ident), chapter)
    return targets


def _has_caption(table: dict) -> bool:
    return bool(ast.stringify(table["c"][1]).strip())


def _add(targets: dict[str, Target], ident: str, target: Target, chapter: Chapter) -> None:
    if ident in targets:
        raise RenderError(f"{chapter.source}: id '{ident}' is defined twice in the book")
    targets[ident] = target


# ------------------------------------------------------------- transforms
def _relative(from_page: str, to_page: str) -> str:
    start = PurePosixPath(from_page).parent
    return str(PurePosixPath(_relpath(PurePosixPath(to_page), start)))


def _relpath(target: PurePosixPath, start: PurePosixPath) -> str:
    import os.path

    return os.path.relpath(str(target), str(start) or ".").replace("\\", "/")


def transform(chapter: Chapter, targets: dict[str, Target], fmt: str,
              figure_dir: Path | None = None,
              provenance: "sitelib.Provenance | None" = None) -> list[dict]:
    """The chapter's blocks, with the Quarto features resolved for `fmt`
    ("html" or "typst"). For HTML it also records where each fact is
    printed (chapter.uses), for the claims ledger."""
    pending: list[tuple[str, str, str]] = []  # (key, anchor, printed text) awaiting their sentence
    counts: dict[str, int] = {}
    if fmt == "html":
        chapter.uses = []

    def visit(el: dict):
        kind = el["t"]
        if kind == "Link" and el["c"][2][0].startswith(CLAIM_SCHEME):
            return _claim_link(el, chapter, fmt, pending, counts)
        if kind in ("Para", "Plain", "Header", "LineBlock") and pending:
            text = ast.stringify(el)
            for key, anchor, printed in pending:
                chapter.uses.append(ledger.Use(key, chapter.page, anchor, chapter.title,
                                               ledger.split_sentence(text, printed)))
            pending.clear()
        if kind == "Cite":
            return _crossref(el, chapter, targets, fmt)
        if kind == "Figure":
            return _figure(el, chapter, targets, fmt, figure_dir, provenance)
        if kind == "Table" and fmt == "html":
            return _number_table(el, targets)
        if kind == "Div" and el["c"][0][0] == "refs" and fmt == "typst":
            # citeproc fills this div later; print the list with hanging
            # indents and ragged lines (long URLs would stretch justified ones)
            return [ast.raw_block("typst", "#[#set par(hanging-indent: 2em, justify: false)"),
                    el, ast.raw_block("typst", "]")]
        if kind == "Div":
            return _callout(el, fmt)
        return None

    return ast.walk(chapter.doc["blocks"], visit)


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
    href = f"{_relative(chapter.page, CLAIMS_PAGE)}#claim-{key}"
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
        if n:
            out.extend([{"t": "Str", "c": ","}, {"t": "Space"}])
        if fmt == "typst":
            out.append(ast.raw_inline("typst", f"#link(<{ident}>)[{target.label}]"))
        else:
            href = ("" if target.page == chapter.page else _relative(chapter.page, target.page))
            out.append({"t": "Link", "c": [["", ["xref"], []], ast.str_inlines(target.label),
                                          [f"{href}#{target.anchor}", ""]]})
    return out


def _figure(el: dict, chapter: Chapter, targets: dict[str, Target], fmt: str,
            figure_dir: Path | None, provenance: "sitelib.Provenance | None" = None):
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
        return {"t": "Figure", "c": [[ident, classes, kvs], caption, content]}
    new_image = {"t": "Image", "c": [["", [], [("loading", "lazy")]], ast.str_inlines(alt),
                                     image["c"][2]]}
    label = targets[ident].label
    short, blocks = caption
    blocks = [dict(b) for b in blocks] or [{"t": "Plain", "c": []}]
    first = blocks[0]
    extra: list[dict] = []
    data_csv = PurePosixPath(src).with_suffix(".csv")
    if figure_dir is not None and (figure_dir / data_csv.name).is_file():
        extra = [{"t": "Space"}, {"t": "Link", "c": [["", ["figure-data"], []],
                                                     ast.str_inlines("Data (CSV)"),
                                                     [str(data_csv), ""]]}]
    if provenance is not None:
        extra += provenance.figure_links(chapter.source, chapter.page, ident, src)
    blocks[0] = {"t": first["t"], "c": [{"t": "Strong", "c": ast.str_inlines(f"{label}:")},
                                        {"t": "Space"}, *first["c"], *extra]}
    return {"t": "Figure", "c": [[ident, classes, kvs], [short, blocks],
                                 [{"t": "Plain", "c": [new_image]}]]}


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


# ------------------------------------------------------------------ HTML
def _bibliography_args(project: Project) -> list[str]:
    bib = project.quarto.get("bibliography")
    if not bib:
        return []
    args = ["--citeproc", f"--bibliography={project.root / bib}"]
    csl = project.quarto.get("csl")
    if csl:
        args.append(f"--csl={project.root / csl}")
    return args


def _cites(doc: dict) -> bool:
    """Whether citeproc has work on this page: a bibliographic citation
    (cross-references are already links by now) or a nocite."""
    return "nocite" in doc["meta"] or any(el["t"] == "Cite" for el in ast.iter_elements(doc["blocks"]))


def bibliography_page(chapters: list[Chapter]) -> Chapter | None:
    """The chapter holding the `::: {#refs}` div, where citeproc puts the
    reference list (Quarto's convention for a book's references page)."""
    for chapter in chapters:
        if any(el["t"] == "Div" and el["c"][0][0] == "refs"
               for el in ast.iter_elements(chapter.doc["blocks"])):
            return chapter
    return None


def cite_on_page(doc: dict, project: Project, refs_href: str | None) -> dict:
    """Run citeproc on one page's AST. With `refs_href` (the page holding
    the book's reference list), the page keeps no list of its own and its
    citations link to the entries there; pandoc alone would append a list to
    every citing page, and with suppress-bibliography it would not link."""
    out = json.loads(run_pandoc(["-f", "json", "-t", "json", *_bibliography_args(project),
                                 "--metadata=link-citations=true"],
                                json.dumps(doc), cwd=project.root))
    if refs_href is None:
        return out

    def visit(el: dict):
        if el["t"] == "Div" and el["c"][0][0] == "refs":
            return []
        if el["t"] == "Link" and el["c"][2][0].startswith("#ref-"):
            url, title = el["c"][2]
            return {"t": "Link", "c": [el["c"][0], el["c"][1], [refs_href + url, title]]}
        return None

    return {**out, "blocks": ast.walk(out["blocks"], visit)}


def render_html(project: Project, chapters: list[Chapter], targets: dict[str, Target],
                site: Path, figure_dir: Path, context: dict, facts: dict[str, dict],
                checks: dict[str, dict]) -> list[Path]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]),
                             keep_trailing_newline=True)
    page_template = env.get_template("page.html")
    fragment = TEMPLATES / "fragment.html"
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    fonts_css = publish_fonts(project.root / "fonts", assets)
    bib_args = _bibliography_args(project)
    refs_chapter = bibliography_page(chapters) if bib_args else None
    pages = [(c.title, c.number, c.page) for c in chapters] + [("Claims ledger", None, CLAIMS_PAGE)]
    changes = context.get("changes")
    if changes is not None:
        pages.append((f"What changed since {changes.previous}", None, CHANGES_PAGE))
    pages += [("Data", None, sitelib.DATA_PAGE), ("Search", None, sitelib.SEARCH_PAGE)]
    written = []
    search: list[dict] = []
    provenance = sitelib.Provenance(project)

    def write_page(index: int | None, body: str, toc: str, *, page: str = "", title: str = "",
                   scripts: tuple[str, ...] = ()) -> None:
        if index is not None:
            title, _, page = pages[index]
        root = _relpath(PurePosixPath("."), PurePosixPath(page).parent) or "."
        nav = [{"title": t, "number": n, "href": _relative(page, p), "current": i == index}
               for i, (t, n, p) in enumerate(pages)]
        in_nav = index is not None
        rendered = page_template.render(
            project=project, title=title, body=body, toc=toc, nav=nav, page=page,
            root=root.rstrip("/") or ".",
            prev=nav[index - 1] if in_nav and index > 0 else None,
            next=nav[index + 1] if in_nav and index + 1 < len(pages) else None,
            fonts_css=fonts_css, scripts=scripts, **context)
        rendered = mark_languages(rendered)
        target = site / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered, encoding="utf-8")
        written.append(target)

    def to_html(chapter: Chapter) -> tuple[str, str]:
        blocks = transform(chapter, targets, "html", figure_dir, provenance)
        doc = {**chapter.doc, "blocks": blocks}
        if bib_args and (chapter is refs_chapter or _cites(doc)):
            separate = refs_chapter is not None and chapter is not refs_chapter
            doc = cite_on_page(doc, project,
                               _relative(chapter.page, refs_chapter.page) if separate else None)
        args = ["-f", "json", "-t", "html5", "--section-divs", "--toc", "--toc-depth=3",
                f"--template={fragment}", "--wrap=none"]
        if chapter.number:
            args += ["--number-sections", f"--number-offset={chapter.number - 1}"]
        out = run_pandoc(args, json.dumps(doc), cwd=project.root)
        toc, _, body = out.partition("<!-- reprobook:body -->")
        return body, toc.strip()

    # pandoc runs in parallel; pages are written in order.
    for index, (chapter, (body, toc)) in enumerate(zip(chapters, _parallel(to_html, chapters))):
        search.extend(sitelib.search_records(chapter.page, chapter.title, body))
        if index == 0:
            body = sitelib.landing(env, body, project, facts, chapters, chapter.page)
        write_page(index, body, toc)

    landing_uses = [ledger.Use(h.key, chapters[0].page, f"highlight-{h.key}", chapters[0].title,
                               f"At a glance: {h.text} {h.label}.")
                    for h in sitelib.highlights(project, facts)]
    entries = ledger.build_ledger(facts, checks,
                                  [u for c in chapters for u in c.uses] + landing_uses)
    notebook_pages = {name: provenance.notebook_page(name) for name in provenance.executed}
    body = env.get_template("claims.html").render(entries=entries, checks=checks,
                                                  notebook_pages=notebook_pages)
    write_page(len(chapters), body, "")
    ledger.write_json(entries, site / "claims.json")
    if changes is not None:
        body = env.get_template("changes.html").render(changes=changes, facts=facts)
        write_page(len(chapters) + 1, body, "")
    data = sitelib.publish_data(project, site)
    body = env.get_template("data.html").render(data=data, notebooks=[
        (spec, notebook_pages.get(spec.name)) for spec in project.notebooks])
    search.extend(sitelib.search_records(sitelib.DATA_PAGE, "Data", body))
    write_page(len(pages) - 2, body, "")
    for name, page in notebook_pages.items():
        spec = next(s for s in project.notebooks if s.name == name)
        out = site / page
        out.parent.mkdir(parents=True, exist_ok=True)
        nb = sitelib.published_notebook(provenance.executed[name], project.root)
        sitelib.write_notebook(nb, out.with_suffix(".ipynb"))
        body = sitelib.notebook_body(nb, name, spec.path, out.parent / "outputs", "outputs")
        write_page(None, body, "", page=page, title=f"Notebook {name}")
    sitelib.write_search_index(search, site, assets)
    write_page(len(pages) - 1, env.get_template("search.html").render(), "",
               scripts=("search-index.js", "search.js"))
    for asset in ("site.js", "search.js"):
        shutil.copy2(TEMPLATES / asset, assets / asset)
    subset_fonts(project.root / "fonts", assets,
                 "".join(p.read_text(encoding="utf-8") for p in written))
    shutil.copy2(TEMPLATES / "site.css", assets / "site.css")
    for folder in project.assets:  # third-party files the site serves itself (no CDN)
        shutil.copytree(project.root / folder, assets / "vendor" / Path(folder).name,
                        dirs_exist_ok=True)
    return written


# ------------------------------------------------------------------ PDF
def render_pdf(project: Project, chapters: list[Chapter], targets: dict[str, Target],
               stage: Path, figure_dir: Path, output: Path, context: dict,
               timestamp: int) -> Path:
    import typst

    blocks: list[dict] = []
    for chapter in chapters:
        blocks.extend(transform(chapter, targets, "typst", figure_dir))
    meta = dict(chapters[0].doc["meta"])
    # One document for the whole book: every chapter's `nocite` counts (the
    # references chapter usually carries `nocite: @*`).
    nocites = [c.doc["meta"]["nocite"] for c in chapters if "nocite" in c.doc["meta"]]
    if nocites:
        meta["nocite"] = {"t": "MetaList", "c": nocites}
    doc = {**chapters[0].doc, "meta": meta, "blocks": blocks}
    edition = context.get("edition") or {}
    variables = {"title": project.title, "subtitle": project.subtitle, "author": project.author,
                 "date": edition.get("date") or project.date, "lang": project.language,
                 "edition": edition.get("number", "")}
    var_args = [f"--variable={k}={v}" for k, v in variables.items() if v]
    typ = run_pandoc(["-f", "json", "-t", "typst", f"--template={TEMPLATES / 'book.typ'}",
                      "--wrap=preserve", *var_args, *_bibliography_args(project),
                      *(["--metadata=link-citations=true"] if _bibliography_args(project) else [])],
                     json.dumps(doc), cwd=project.root)
    source = stage / "book.typ"
    source.write_text(typ, encoding="utf-8")
    try:
        typst.compile(str(source), output=str(output), root=str(stage),
                      font_paths=[str(p) for p in font_paths(project)],
                      ignore_system_fonts=True, timestamp=timestamp)
    except Exception as exc:  # typst raises its own error type with the diagnostic
        raise RenderError(f"Typst could not compile the PDF: {exc}") from None
    return output


def font_paths(project: Project) -> list[Path]:
    """Fonts shipped with the project (fonts/) are embedded; system fonts are
    ignored so every machine produces the same PDF."""
    folder = project.root / "fonts"
    return [folder] if folder.is_dir() else []


# ------------------------------------------------------------------ entry
def render(project: Project, facts: dict[str, dict], checks: dict[str, dict], stage: Path,
           site: Path, context: dict, timestamp: int) -> dict:
    """Render every format into `site`; `stage` holds figures/ and scratch."""
    chapters = parse_chapters(project, facts)
    targets = number_targets(chapters)
    figure_dir = stage / "figures"
    pages = render_html(project, chapters, targets, site, figure_dir, context, facts, checks)
    if figure_dir.is_dir():
        shutil.copytree(figure_dir, site / "figures", dirs_exist_ok=True)
    pdf = None
    if "typst" in project.formats or "pdf" in project.formats:
        pdf = render_pdf(project, chapters, targets, stage, figure_dir,
                         site / context["pdf_name"], context, timestamp)
    return {"pages": pages, "pdf": pdf,
            "facts_used": {c.source: c.facts_used for c in chapters}}
