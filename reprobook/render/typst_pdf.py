"""The built-in renderer's PDF: the chapters through pandoc into one Typst
source (templates/book.typ and print.typ), compiled with the pinned
Typst.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import memo
from ..errors import RenderError
from ..project import Project
from .chapters import Chapter, parallel_map
from .book import Book
from .citations import Citations, cite_on_page, has_citations
from .pages import TEMPLATES
from .pandoc import run_pandoc
from .transform import BookLinks, transform
from .ast import typst_string


def print_front(project: Project, edition: dict) -> dict[str, str]:
    """The PDF's cover and footer texts, for both renderers
    (templates/print.typ): the original's author (reprobook.yml `original`,
    else the book's author), the original's date, and this edition's number
    and ISO date, with "reproducible edition" said once."""
    number = str(edition.get("number") or "")
    date = str(edition.get("date") or project.date or "")
    return {
        "author": project.original.get("author") or project.author,
        "original": (f"Original report: {project.original['date']}"
                     if project.original.get("date") else ""),
        "edition": "Reproducible edition" + (f" {number}" if number else "") + (
            f" · {date}" if date else ""),
        "footer": project.title + (f" · edition {number}" if number else ""),
    }


def _print_cover(project: Project, edition: dict) -> dict[str, str]:
    """Typst code for the built-in template's cover and footer."""
    front = print_front(project, edition)
    args = [f"title: {typst_string(project.title)}"]
    if project.subtitle:
        args.append(f"subtitle: {typst_string(project.subtitle)}")
    args += [f"{key}: {typst_string(front[key])}" for key in ("author", "original", "edition")
             if front[key]]
    return {"cover": f"#reprobook-cover({', '.join(args)})",
            "footer": typst_string(front["footer"])}


def render_pdf(project: Project, book: Book, cites: Citations, stage: Path, figure_dir: Path, output: Path, context: dict,
               timestamp: int, links: BookLinks | None = None) -> Path:
    import typst

    typ = _typst_source(project, book, cites, figure_dir, context, links)
    source = stage / "book.typ"
    source.write_text(typ, encoding="utf-8")
    def compile_pdf() -> bytes:
        try:
            return typst.compile(str(source), root=str(stage),
                                 font_paths=[str(p) for p in _font_paths(project)],
                                 ignore_system_fonts=True, timestamp=timestamp)
        except Exception as exc:  # typst raises its own error type with the diagnostic
            raise RenderError(f"Typst could not compile the PDF: {exc}") from None

    # Everything the compile reads: the source, the figures, the fonts.
    inputs = sorted(p for folder in (figure_dir, *_font_paths(project)) if folder.is_dir()
                    for p in folder.rglob("*") if p.is_file())
    key = memo.key(typst.__version__ if hasattr(typst, "__version__") else "typst", typ,
                   str(timestamp), *(f"{p.name}" for p in inputs), *inputs)
    output.write_bytes(memo.cached("typst", key, compile_pdf, ("PDFs compiled", output.name)))
    return output


# Marks where the chapters go in the template's output (a line of its own).
_BODY_MARK = "// reprobook:body"


def _typst_source(project: Project, book: Book, cites: Citations, figure_dir: Path, context: dict, links: BookLinks | None) -> str:
    """The book as one Typst file: each chapter converted on its own (in
    parallel, memoised by content, so a prose edit converts one chapter),
    then placed in the template, which is filled once from the metadata.

    Citations are resolved per chapter as on the web pages: every chapter
    but the one with the `#refs` div drops its own reference list and its
    citations link to `#ref-...` in the same document. With an author-date
    style (every run lists the book's cited keys: `Citations`) this prints
    what one citeproc run over the whole book would; a numeric style, whose
    numbers follow the order of first citation in the book, would need the
    whole book in one run."""
    chapters, targets = book.chapters, book.targets
    refs_chapter = cites.refs_chapter

    def chapter_typst(chapter: Chapter) -> str:
        doc = {**chapter.doc, "blocks": transform(chapter, targets, "typst", figure_dir, links)}
        if cites.args and (chapter is refs_chapter or has_citations(doc)):
            doc = cite_on_page(doc, project, cites, None if chapter is refs_chapter else "")
        # Citations are already resolved: with `-citations` the writer
        # prints citeproc's text rather than Typst's own #cite (pandoc turns
        # the extension off by itself only when --citeproc is in the same run).
        return run_pandoc(["-f", "json", "-t", "typst-citations", "--wrap=preserve"],
                          json.dumps(doc), cwd=project.root, what=("PDF chapters", chapter.source))

    edition = context.get("edition") or {}
    variables = {"title": project.title, "author": project.author, "lang": project.language,
                 **_print_cover(project, edition)}
    var_args = [f"--variable={k}={v}" for k, v in variables.items() if v]
    frame = {**chapters[0].doc, "meta": dict(chapters[0].doc["meta"]),
             "blocks": [{"t": "RawBlock", "c": ["typst", _BODY_MARK]}]}
    template = run_pandoc(["-f", "json", "-t", "typst", f"--template={TEMPLATES / 'book.typ'}",
                           "--wrap=preserve", *var_args], json.dumps(frame), cwd=project.root)
    head, mark, tail = template.partition(_BODY_MARK + "\n")
    if not mark:
        raise RenderError(f"{TEMPLATES / 'book.typ'} has no $body$ on a line of its own")
    body = "\n".join(part.rstrip("\n") + "\n" for part in parallel_map(chapter_typst, chapters))
    return head + body + tail


def _font_paths(project: Project) -> list[Path]:
    """Fonts shipped with the project (fonts/) are embedded; system fonts are
    ignored so every machine produces the same PDF."""
    folder = project.root / "fonts"
    return [folder] if folder.is_dir() else []
