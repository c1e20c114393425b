"""A book-wide bibliography for the built-in renderer: the keys the book
cites, the page holding the reference list (`::: {#refs}`), and each
page's citations linked to it, as in a Quarto book.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from . import ast
from ..project import Project
from .chapters import XREF_KINDS, Chapter, Target, derived
from .pandoc import run_pandoc


@dataclass(frozen=True)
class Citations:
    """What citeproc needs for every page of one render, worked out once
    before the pages render in parallel: nothing here is written to a file,
    so no parallel run can read another's half-written input (a `nocite`
    file rewritten on every call once made one build print "2024a" and the
    next "2024").

    Every citeproc run lists, as `nocite`, each key cited anywhere in the
    book (plus the book's own `nocite`): the reference page then lists every
    entry some page links to, whichever page holds `::: {#refs}`, and each
    page disambiguates ("2024a", "2024b") against the same set of entries as
    the reference list does - as one citeproc run over the whole book
    would, which is what Quarto does."""

    args: tuple[str, ...]
    nocite: dict | None  # pandoc metadata: the Cite elements to list
    refs_chapter: "Chapter | None"


def _bibliography_args(project: Project) -> list[str]:
    bib = project.quarto.get("bibliography")
    if not bib:
        return []
    # One file or a list of files, as in Quarto (a profile's list is
    # appended to the base list).
    files = [bib] if isinstance(bib, str) else list(bib)
    args = ["--citeproc", *(f"--bibliography={project.root / name}" for name in files)]
    csl = project.quarto.get("csl")
    if csl:
        args.append(f"--csl={project.root / csl}")
    return args


def _cite_element(key: str) -> dict:
    return {"t": "Cite", "c": [[{"citationId": key, "citationPrefix": [], "citationSuffix": [],
                                 "citationMode": {"t": "NormalCitation"}, "citationNoteNum": 0,
                                 "citationHash": 0}], [{"t": "Str", "c": f"@{key}"}]]}


def citing_chapters(chapters: list[Chapter], targets: dict[str, Target]) -> dict[str, list[str]]:
    """Each bibliography key the book's chapters cite, with the chapters
    citing it (a cross-reference such as @fig-x is a Cite to pandoc too, and
    is left out)."""
    def cite_ids(chapter: Chapter) -> list[str]:
        return sorted({citation["citationId"] for el in ast.iter_elements(chapter.doc["blocks"])
                       if el["t"] == "Cite" for citation in el["c"][0]})

    out: dict[str, list[str]] = {}
    for chapter in chapters:
        for key in derived(chapter, "cite-ids", lambda: cite_ids(chapter)):
            # a cross-reference's kind (fig-, sec-...): _crossref names a
            # broken one
            if key not in targets and not ("-" in key and key.split("-")[0] in XREF_KINDS):
                out.setdefault(key, []).append(chapter.source)
    return dict(sorted(out.items()))


def _cited_keys(chapters: list[Chapter], targets: dict[str, Target]) -> list[str]:
    return list(citing_chapters(chapters, targets))


def quarto_nocite(project: Project, chapters: list[Chapter], targets: dict[str, Target]) -> str | None:
    """The same `nocite` for real Quarto (written into the engine's profile):
    Quarto also runs citeproc page by page in a book's HTML, and without it
    a page citing one of two 2024 works prints "2024" where the reference
    list says "2024a"."""
    keys = _cited_keys(chapters, targets)
    if not project.quarto.get("bibliography") or not keys:
        return None
    # Comma-separated: Quarto's book post-render reads the keys for the
    # references page with nocite.split(",") and strips one leading "@".
    own = str(project.quarto.get("nocite") or "").strip()
    return ", ".join([own] * bool(own) + [f"@{k}" for k in keys])


def _book_nocite(project: Project, chapters: list[Chapter], targets: dict[str, Target]) -> dict | None:
    """`nocite` metadata for every citeproc run of the book: the keys its
    chapters cite and the book's own `nocite`, parsed as Markdown so that
    `@*` is a citation."""
    keys = _cited_keys(chapters, targets)
    parts = []
    own = project.quarto.get("nocite")
    if own:
        front = "---\n" + yaml.safe_dump({"nocite": str(own)}) + "---\n"
        meta = json.loads(run_pandoc(["-f", "markdown", "-t", "json"], front))["meta"]
        if "nocite" in meta:
            parts.append(meta["nocite"])
    if keys:
        inlines = []
        for key_ in keys:
            inlines += [_cite_element(key_), {"t": "Space"}]
        parts.append({"t": "MetaInlines", "c": inlines[:-1]})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"t": "MetaList", "c": parts}


def citations(project: Project, chapters: list[Chapter], targets: dict[str, Target]) -> Citations:
    args = _bibliography_args(project)
    if not args:
        return Citations((), None, None)
    return Citations(tuple(args), _book_nocite(project, chapters, targets),
                     _bibliography_page(chapters))


def has_citations(doc: dict) -> bool:
    """Whether citeproc has work on this page: a bibliographic citation
    (cross-references are already links by now) or a nocite."""
    return "nocite" in doc["meta"] or any(el["t"] == "Cite" for el in ast.iter_elements(doc["blocks"]))


def _bibliography_page(chapters: list[Chapter]) -> Chapter | None:
    """The chapter holding the `::: {#refs}` div, where citeproc puts the
    reference list (Quarto's convention for a book's references page)."""
    for chapter in chapters:
        if chapter.has_refs:
            return chapter
    return None


def cite_on_page(doc: dict, project: Project, cites: Citations, refs_href: str | None) -> dict:
    """Run citeproc on one page's AST. With `refs_href` (the page holding
    the book's reference list), the page keeps no list of its own and its
    citations link to the entries there; pandoc alone would append a list to
    every citing page, and with suppress-bibliography it would not link."""
    meta = dict(doc["meta"])
    if cites.nocite is not None:
        meta["nocite"] = cites.nocite
    out = json.loads(run_pandoc(["-f", "json", "-t", "json", *cites.args,
                                 "--metadata=link-citations=true"],
                                json.dumps({**doc, "meta": meta}), cwd=project.root))
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
