"""The book's chapters read into pandoc ASTs, and Quarto's numbering of
chapters, sections, figures, tables and maps (the cross-reference targets).
What is derived from one chapter's AST alone is cached under its digest.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import astuple, dataclass, field
from pathlib import Path, PurePosixPath

from . import ast
from .. import ledger
from .. import memo
from ..errors import RenderError
from ..project import Project
from .pandoc import run_pandoc
from .profiles import active_profiles, blank_other_profiles, resolve_profiles
from .shortcodes import CLAIM_SCHEME, expand_includes, read_source, substitute


XREF_KINDS = {"fig": "Figure", "tbl": "Table", "map": "Map", "sec": "Section"}
FLOAT_KINDS = ("fig", "tbl", "map")


@dataclass
class Chapter:
    source: str  # path relative to the project root, e.g. chapters/sites.qmd
    number: int | None  # None for the unnumbered index page
    doc: dict  # pandoc AST
    title: str = ""
    facts_used: list[str] = field(default_factory=list)
    uses: list[ledger.Use] = field(default_factory=list)  # filled by the HTML transform
    # The digest of the chapter's parsed source (pandoc's AST as text): what
    # is derived from the AST alone is cached under it, so a rebuild walks
    # only the ASTs of chapters that changed (see derived).
    digest: str = ""

    @property
    def page(self) -> str:
        return str(PurePosixPath(self.source).with_suffix(".html"))

    @functools.cached_property
    def has_refs(self) -> bool:
        """Whether the chapter holds the `::: {#refs}` div (asked by the web
        and the PDF renderer: the walk is made once)."""
        return derived(self, "has-refs", lambda: any(
            el["t"] == "Div" and el["c"][0][0] == "refs"
            for el in ast.iter_elements(self.doc["blocks"])))

    @property
    def description(self) -> str:
        """The front matter's `description:` as plain text (what the
        chapter is about, in a line; Quarto also uses it as the page's
        meta description)."""
        value = self.doc.get("meta", {}).get("description")
        return " ".join(ast.stringify(value).split()) if value else ""


@dataclass(frozen=True)
class Target:
    """Where a cross-reference points and how it is printed."""

    label: str  # "Figure 3.1", "Chapter 2", "Section 2.1"
    page: str
    anchor: str
    caption: str = ""  # a section's number and title, "2 Key findings"


def parallel_map(fn, items: list) -> list:
    """Map `fn` over `items` on threads: the work is pandoc subprocesses,
    so this uses every core; results keep the input order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(items), os.cpu_count() or 1))) as pool:
        return list(pool.map(fn, items))


def read_chapter(project: Project, facts: dict[str, dict], source: str
                  ) -> tuple[dict, list[str], str]:
    path = project.root / source
    text = expand_includes(read_source(path, source), path, source)
    profiles = active_profiles(project)
    text, used = substitute(blank_other_profiles(text, profiles), facts, source)
    try:
        parsed = run_pandoc(["-f", "markdown", "-t", "json"], text)
    except RenderError as exc:  # pandoc's message (a YAML error in the front matter) names no file
        raise RenderError(f"{source}: {str(exc).split(chr(10), 1)[-1]}") from None
    doc = json.loads(parsed)
    # the digest names the profiles too: they decide which conditional divs remain
    return ({**doc, "blocks": resolve_profiles(doc["blocks"], profiles)}, used,
            memo.key(source, parsed, ",".join(sorted(profiles))))


def derived(chapter: Chapter, what: str, compute, *depends: str):
    """`compute()` (a JSON value derived from the chapter's AST and from
    `depends`), cached under the chapter's digest: at 640 chapters the
    walks over every AST cost seconds per build, though one chapter changed."""
    if not chapter.digest:
        return compute()
    key = memo.key("derived", what, engine_digest(), chapter.digest, *depends)
    return json.loads(memo.cached("derived", key, lambda: json.dumps(compute()).encode()))



@functools.lru_cache(maxsize=1)
def engine_digest() -> str:
    """The engine's own code: results cached by the code that computed them
    (derived from ASTs, rendered pages) are stale when it changes."""
    package = Path(__file__).resolve().parent.parent
    files = sorted(package.rglob("*.py"))
    return memo.key(*(str(p.relative_to(package)) for p in files), *files)


def parse_chapters(project: Project, facts: dict[str, dict]) -> list[Chapter]:
    chapters = []
    number = 0
    parsed = parallel_map(lambda source: read_chapter(project, facts, source), list(project.chapters))
    for source, (doc, used, digest) in zip(project.chapters, parsed):
        is_index = PurePosixPath(source).name == "index.qmd"
        doc = promote_title(doc, is_index)
        # Like the index, a chapter whose title is marked {.unnumbered}
        # (e.g. References) has no chapter number, nor do its sections.
        unnumbered = is_index or "unnumbered" in _first_heading_classes(doc)
        if unnumbered and not is_index:
            doc = {**doc, "blocks": ast.walk(doc["blocks"], _unnumber)}
        if not unnumbered:
            number += 1
        chapter = Chapter(source, None if unnumbered else number, doc, facts_used=used,
                          digest=digest)
        chapter.title = first_heading(doc) or source
        chapters.append(chapter)
    return chapters


def chapter_paragraphs(project: Project, facts: dict[str, dict]) -> dict[str, list[tuple[str, str]]]:
    """Each chapter page's paragraphs as (compared, shown) text, for "What
    changed": `compared` has every printed fact replaced by its key, so a new
    value is a changed number (listed as such), not a reworded paragraph."""
    def masked(el: dict):
        if el["t"] == "Link" and el["c"][2][0].startswith(CLAIM_SCHEME):
            return {"t": "Str", "c": "{" + el["c"][2][0].removeprefix(CLAIM_SCHEME) + "}"}
        return None

    out = {}
    for chapter in parse_chapters(project, facts):
        out[chapter.page] = [(ast.stringify(ast.walk(el, masked)), ast.stringify(el))
                             for el in ast.iter_elements(chapter.doc["blocks"]) if el["t"] == "Para"]
    return out


def promote_title(doc: dict, is_index: bool) -> dict:
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


def first_heading(doc: dict) -> str:
    for block in doc["blocks"]:
        if block["t"] == "Header" and block["c"][0] == 1:
            return ast.stringify(block["c"][2])
    return ""


def number_targets(chapters: list[Chapter]) -> dict[str, Target]:
    """Quarto's book numbers: figures, tables and maps count within their
    chapter (Figure 5.1, Table 5.2, Map 3.1), sections are numbered within
    their chapter. Floats in an unnumbered page count on their own (1, 2)."""
    targets: dict[str, Target] = {}
    for chapter in chapters:
        found = derived(chapter, "targets", lambda: [
            [ident, *astuple(target)] for ident, target in _chapter_targets(chapter)],
            str(chapter.number), chapter.page)
        for ident, *fields in found:
            _add(targets, ident, Target(*fields), chapter)
    return targets


def _chapter_targets(chapter: Chapter) -> list[tuple[str, Target]]:
    """The numbered targets of one chapter, in order."""
    out: list[tuple[str, Target]] = []
    counts = {kind: 0 for kind in FLOAT_KINDS}
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
                title = ast.stringify(el["c"][2])
                if chapter.number is None or "unnumbered" in classes:
                    label = caption = title
                else:
                    number = (str(chapter.number) if level == 1
                              else ".".join(str(n) for n in section[:level]))
                    label = f"Chapter {number}" if level == 1 else f"Section {number}"
                    caption = f"{number} {title}"
                out.append((ident, Target(label, chapter.page, ident, caption)))
        elif kind in ("Figure", "Table"):
            ident = el["c"][0][0]
            if kind == "Table" and not ident and not _has_caption(el):
                continue  # a plain table, not a numbered float
            prefix = ident.split("-")[0] if "-" in ident else ""
            allowed = ("fig", "map") if kind == "Figure" else ("tbl",)
            if prefix not in allowed:
                wanted = " or ".join(f"'{a}-'" for a in allowed)
                raise RenderError(f"{chapter.source}: every {kind.lower()} needs an id "
                                  f"starting with {wanted} (found '{ident or 'none'}')")
            counts[prefix] += 1
            number = (f"{chapter.number}.{counts[prefix]}" if chapter.number
                      else str(counts[prefix]))
            out.append((ident, Target(f"{XREF_KINDS[prefix]} {number}", chapter.page, ident)))
    return out


def figures_of(chapter: Chapter) -> list[tuple[str, str]]:
    """(id, image source) of every figure and map of a chapter."""
    def compute():
        out = []
        for el in ast.iter_elements(chapter.doc["blocks"]):
            if el["t"] == "Figure":
                images = [e for e in ast.iter_elements(el["c"][2]) if e["t"] == "Image"]
                if images:
                    out.append((el["c"][0][0], images[0]["c"][2][0]))
        return out

    return [tuple(f) for f in derived(chapter, "figures", compute)]


def targets_digest(targets: dict[str, Target]) -> str:
    return memo.key(json.dumps({k: astuple(t) for k, t in targets.items()}, sort_keys=True))


def _has_caption(table: dict) -> bool:
    return bool(ast.stringify(table["c"][1]).strip())


def _add(targets: dict[str, Target], ident: str, target: Target, chapter: Chapter) -> None:
    if ident in targets:
        raise RenderError(f"{chapter.source}: id '{ident}' is defined twice in the book")
    targets[ident] = target
