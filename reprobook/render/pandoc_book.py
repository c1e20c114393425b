"""The built-in renderer: a Quarto book rendered with pandoc (HTML pages) and
pandoc + Typst (one PDF), for machines without Quarto.

What it adds to plain pandoc, so the chapters' Quarto syntax works
(docs/quarto-subset.md lists the subset):
  - `{{< var key >}}` substituted from the facts table (shortcodes.py);
  - Quarto's numbering of chapters, and of figures, tables and maps per
    chapter (Figure 5.1, Map 3.2), and `@fig-`, `@tbl-`, `@map-`, `@sec-`
    references turned into links with those numbers (pandoc alone reads
    them as citations);
  - `{{< fact key >}}` printed as a link to the claims ledger, as the
    Quarto extension in _extensions/reprobook does;
  - the book's page-footer pages (the engine's generated pages) rendered
    as web pages, as Quarto does;
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

import functools
import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import astuple, dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .. import memo
from ..locale_env import tool_environment
from ..errors import RenderError
from ..project import Project
from . import ast
from .. import ledger
from .scripts import mark_languages
from .shortcodes import CLAIM_SCHEME, expand_includes, read_source, substitute
from .webfonts import publish_fonts, subset_fonts
from . import site as sitelib

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CLAIMS_PAGE = "claims.html"
REVIEWER_NOTES_PAGE = "checks.html"  # the reviewer notes
CHANGES_PAGE = "changes.html"
XREF_KINDS = {"fig": "Figure", "tbl": "Table", "map": "Map", "sec": "Section"}
FLOAT_KINDS = ("fig", "tbl", "map")
CALLOUT_TYPES = ("note", "warning", "important", "tip", "caution")


def typst_string(text: str) -> str:
    """A Typst string literal (Typst knows \\u{...}, not JSON's \\uXXXX)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_content(text: str) -> str:
    """Plain text inside Typst content brackets, markup characters escaped."""
    return re.sub(r"([\\#*_`$<>@\[\]=/~-])", r"\\\1", text)


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


def print_cover(project: Project, edition: dict) -> dict[str, str]:
    """Typst code for the built-in template's cover and footer."""
    front = print_front(project, edition)
    args = [f"title: {typst_string(project.title)}"]
    if project.subtitle:
        args.append(f"subtitle: {typst_string(project.subtitle)}")
    args += [f"{key}: {typst_string(front[key])}" for key in ("author", "original", "edition")
             if front[key]]
    return {"cover": f"#reprobook-cover({', '.join(args)})",
            "footer": typst_string(front["footer"])}


def pandoc_binary() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def _key_part(arg: str):
    """An argument for the memo key: a file argument counts by its contents
    (the staged book's path differs on every build)."""
    name, sep, value = arg.partition("=")
    if sep and value.startswith("/") and Path(value).is_file():
        return f"{name}=" + memo.key(Path(value))
    return arg


@functools.lru_cache(maxsize=None)
def _pandoc_identity(binary: str) -> str:
    """pandoc's version line (the binary is pinned through requirements.lock)."""
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return proc.stdout.splitlines()[0] if proc.stdout else binary


def run_pandoc(args: list[str], stdin: str, cwd: Path | None = None,
               what: tuple[str, str] | None = None) -> str:
    """pandoc's output for `args` and `stdin`; reused from the build's memo
    store when the same run (same pandoc, arguments, files and input) was
    made before. `what` names the result in the build's report."""
    binary = pandoc_binary()

    def compute() -> bytes:
        proc = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True,
                              encoding="utf-8", cwd=cwd, env=tool_environment())
        if proc.returncode != 0:
            raise RenderError(f"pandoc {' '.join(args)} failed:\n{proc.stderr.strip()}")
        return proc.stdout.encode("utf-8")

    key = memo.key(_pandoc_identity(binary), *(_key_part(a) for a in args), stdin)
    return memo.cached("pandoc", key, compute, what).decode("utf-8")


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
    # only the ASTs of chapters that changed (see _derived).
    digest: str = ""

    @property
    def page(self) -> str:
        return str(PurePosixPath(self.source).with_suffix(".html"))

    @functools.cached_property
    def has_refs(self) -> bool:
        """Whether the chapter holds the `::: {#refs}` div (asked by the web
        and the PDF renderer: the walk is made once)."""
        return _derived(self, "has-refs", lambda: any(
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


def page_names(project: Project) -> set[str]:
    """The chapter and engine pages every build of `project` publishes
    (without rendering): what the edition switcher may link to."""
    return ({str(PurePosixPath(c).with_suffix(".html")) for c in project.chapters}
            | {CLAIMS_PAGE, REVIEWER_NOTES_PAGE, "data.html"})


# ---------------------------------------------------------------- parsing
def _parallel(fn, items: list) -> list:
    """Map `fn` over `items` on threads: the work is pandoc subprocesses,
    so this uses every core; results keep the input order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, min(len(items), os.cpu_count() or 1))) as pool:
        return list(pool.map(fn, items))


def _read_chapter(project: Project, facts: dict[str, dict], source: str
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


def _derived(chapter: Chapter, what: str, compute, *depends: str):
    """`compute()` (a JSON value derived from the chapter's AST and from
    `depends`), cached under the chapter's digest: at 640 chapters the
    walks over every AST cost seconds per build, though one chapter changed."""
    if not chapter.digest:
        return compute()
    key = memo.key("derived", what, _engine_digest(), chapter.digest, *depends)
    return json.loads(memo.cached("derived", key, lambda: json.dumps(compute()).encode()))


def parse_chapters(project: Project, facts: dict[str, dict]) -> list[Chapter]:
    chapters = []
    number = 0
    parsed = _parallel(lambda source: _read_chapter(project, facts, source), list(project.chapters))
    for source, (doc, used, digest) in zip(project.chapters, parsed):
        is_index = PurePosixPath(source).name == "index.qmd"
        doc = _promote_title(doc, is_index)
        # Like the index, a chapter whose title is marked {.unnumbered}
        # (e.g. References) has no chapter number, nor do its sections.
        unnumbered = is_index or "unnumbered" in _first_heading_classes(doc)
        if unnumbered and not is_index:
            doc = {**doc, "blocks": ast.walk(doc["blocks"], _unnumber)}
        if not unnumbered:
            number += 1
        chapter = Chapter(source, None if unnumbered else number, doc, facts_used=used,
                          digest=digest)
        chapter.title = _first_heading(doc) or source
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
    """Quarto's book numbers: figures, tables and maps count within their
    chapter (Figure 5.1, Table 5.2, Map 3.1), sections are numbered within
    their chapter. Floats in an unnumbered page count on their own (1, 2)."""
    targets: dict[str, Target] = {}
    for chapter in chapters:
        found = _derived(chapter, "targets", lambda: [
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

    return [tuple(f) for f in _derived(chapter, "figures", compute)]


def fact_uses(project: Project, facts: dict[str, dict]
              ) -> tuple[list[Chapter], dict[str, Target], list[ledger.Use]]:
    """The chapters (parsed), their numbered targets, and where each fact is
    printed in them: page, anchor and sentence, for the claims ledger.
    Computed from the sources before rendering, so the ledger is one of the
    book's pages for either renderer."""
    chapters = parse_chapters(project, facts)
    targets = number_targets(chapters)
    uses: list[ledger.Use] = []
    every_target = targets_digest(targets)

    def chapter_uses(chapter: Chapter) -> list:
        transform(chapter, targets, "html")
        return [astuple(use) for use in chapter.uses]

    for chapter in chapters:
        chapter.uses = [ledger.Use(*use) for use in _derived(
            chapter, "uses", lambda: chapter_uses(chapter), chapter.page, chapter.title,
            str(chapter.number), every_target)]
        uses.extend(chapter.uses)
    return chapters, targets, uses


def targets_digest(targets: dict[str, Target]) -> str:
    return memo.key(json.dumps({k: astuple(t) for k, t in targets.items()}, sort_keys=True))


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


FORMAT_KEYS = ("when-format", "unless-format")
PROFILE_KEYS = ("when-profile", "unless-profile")
CONDITIONAL = ("content-visible", "content-hidden")


def active_profiles(project: Project) -> set[str]:
    """The Quarto profiles a project was loaded with ("1.1,reprobook" -> both):
    what `when-profile` / `unless-profile` test."""
    return {p.strip() for p in (project.profile or "").split(",") if p.strip()}


def _profile_match(attrs: dict, profiles: set[str]) -> bool:
    """Quarto's test (content-hidden.lua propertiesMatch): each condition
    present must hold; a value is one profile name, compared whole."""
    match = True
    if "when-profile" in attrs:
        match = match and attrs["when-profile"] in profiles
    if "unless-profile" in attrs:
        match = match and attrs["unless-profile"] not in profiles
    return match


def resolve_profiles(blocks: list, profiles: set[str]) -> list:
    """Settle the profile conditions of `.content-visible` / `.content-hidden`
    divs once, when a chapter is read: the profile (the edition) is the same
    for both formats, so every later step (facts, ledger, cross-references,
    "What changed") sees only this edition's text. A div that also has a
    format condition stays, without its profile condition, for `_shown_in`."""
    def visit(el: dict):
        if el["t"] != "Div":
            return None
        (ident, classes, kvs), body = el["c"]
        kind = next((c for c in classes if c in CONDITIONAL), None)
        attrs = dict(kvs)
        if kind is None or not any(k in attrs for k in PROFILE_KEYS):
            return None
        matches = _profile_match(attrs, profiles)
        if not any(k in attrs for k in FORMAT_KEYS):
            return body if matches == (kind == "content-visible") else []
        if not matches:  # the whole condition fails, whatever the format
            return [] if kind == "content-visible" else body
        rest = [(k, v) for k, v in kvs if k not in PROFILE_KEYS]
        return {"t": "Div", "c": [[ident, classes, rest], body]}

    return ast.walk(blocks, visit)


FENCE_OPEN = re.compile(r"^(:{3,})\s*\{([^}]*)\}\s*$")
FENCE_ANY_OPEN = re.compile(r"^:{3,}\s*\S")
FENCE_CLOSE = re.compile(r"^:{3,}\s*$")
ATTRIBUTE = re.compile(r'([\w-]+)=(?:"([^"]*)"|\'([^\']*)\'|(\S+))')


def blank_other_profiles(text: str, profiles: set[str]) -> str:
    """The chapter's text with the lines of each div that is hidden in this
    profile made blank (line numbers kept for messages): a paragraph meant for
    another edition may print a fact only that edition's notebooks record, so
    it must be gone before shortcodes are resolved. Divs shown here are left
    to `resolve_profiles`."""
    lines = text.split("\n")
    depth = 0  # > 0 while inside a hidden div
    for i, line in enumerate(lines):
        if depth:
            if FENCE_CLOSE.match(line):
                depth -= 1
            elif FENCE_ANY_OPEN.match(line):
                depth += 1
            lines[i] = ""
            continue
        m = FENCE_OPEN.match(line)
        if not m:
            continue
        attrs_text = m.group(2)
        classes = set(re.findall(r"(?:^|\s)\.([\w-]+)", attrs_text))
        attrs = {a.group(1): next(g for g in a.groups()[1:] if g is not None)
                 for a in ATTRIBUTE.finditer(attrs_text)}
        kind = next((c for c in CONDITIONAL if c in classes), None)
        if kind is None or not any(k in attrs for k in PROFILE_KEYS):
            continue
        matches = _profile_match(attrs, profiles)
        has_format = any(k in attrs for k in FORMAT_KEYS)
        hidden = (not matches) if kind == "content-visible" else (matches and not has_format)
        if hidden:
            depth = 1
            lines[i] = ""
    return "\n".join(lines)


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
        # As Quarto: on an unnumbered page (the index), a section is
        # referred to by its number and title ("1 Executive summary").
        label = target.caption if chapter.number is None and target.caption else target.label
        if n:
            out.extend([{"t": "Str", "c": ","}, {"t": "Space"}])
        if fmt == "typst":
            out.append(ast.raw_inline("typst", f"#link(<{ident}>)[{typst_content(label)}]"))
        else:
            href = ("" if target.page == chapter.page else _relative(chapter.page, target.page))
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
        href = sitelib.from_page(chapter.page, link["href"])
        extra += [{"t": "Space"}, {"t": "Link", "c": [["", [link["class"]], []],
                                                      ast.str_inlines(link["text"]), [href, ""]]}]
    blocks[0] = {"t": first["t"], "c": [{"t": "Strong", "c": ast.str_inlines(f"{label}:")},
                                        {"t": "Space"}, *first["c"], *extra]}
    # The image is a link to the image file itself: on a phone a tap opens
    # the chart or map full size, to zoom (no script, works everywhere).
    # A chart with a narrow-layout variant shows that on small screens.
    shown = [new_image]
    if ident in links.narrow:
        narrow = sitelib.from_page(chapter.page, links.narrow[ident])
        shown = [ast.raw_inline("html", sitelib.picture_open(narrow)), new_image,
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


# ------------------------------------------------------------------ HTML
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
        for key in _derived(chapter, "cite-ids", lambda: cite_ids(chapter)):
            # a cross-reference's kind (fig-, sec-...): _crossref names a
            # broken one
            if key not in targets and not ("-" in key and key.split("-")[0] in XREF_KINDS):
                out.setdefault(key, []).append(chapter.source)
    return dict(sorted(out.items()))


def cited_keys(chapters: list[Chapter], targets: dict[str, Target]) -> list[str]:
    return list(citing_chapters(chapters, targets))


def quarto_nocite(project: Project, chapters: list[Chapter], targets: dict[str, Target]) -> str | None:
    """The same `nocite` for real Quarto (written into the engine's profile):
    Quarto also runs citeproc page by page in a book's HTML, and without it
    a page citing one of two 2024 works prints "2024" where the reference
    list says "2024a"."""
    keys = cited_keys(chapters, targets)
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
    keys = cited_keys(chapters, targets)
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
                     bibliography_page(chapters))


def _cites(doc: dict) -> bool:
    """Whether citeproc has work on this page: a bibliographic citation
    (cross-references are already links by now) or a nocite."""
    return "nocite" in doc["meta"] or any(el["t"] == "Cite" for el in ast.iter_elements(doc["blocks"]))


def bibliography_page(chapters: list[Chapter]) -> Chapter | None:
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


def _parse_page(project: Project, facts: dict[str, dict], source: str) -> Chapter:
    """An unnumbered web page of the book that is not a chapter (the page
    footer's pages: the engine's ledger, data, changes and notebook pages)."""
    doc, used, digest = _read_chapter(project, facts, source)
    doc = _promote_title(doc, is_index=True)
    chapter = Chapter(source, None, doc, facts_used=used, digest=memo.key("page", digest))
    chapter.title = _first_heading(doc) or source
    return chapter


def render_html(project: Project, chapters: list[Chapter], targets: dict[str, Target],
                site: Path, figure_dir: Path, context: dict, facts: dict[str, dict],
                links: BookLinks) -> list[Path]:
    from markupsafe import Markup

    from .pages import environment

    env = environment()
    page_template = env.get_template("page.html")
    fragment = TEMPLATES / "fragment.html"
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    fonts_css = publish_fonts(project.root / "fonts", assets)
    cites = citations(project, chapters, targets)
    refs_chapter = cites.refs_chapter
    extra = _parallel(lambda source: _parse_page(project, facts, source),
                      [source for _, _, source in project.footer_pages])
    # The sidebar: chapters, then the footer's centre pages (ledger, data,
    # changes), then search; other footer pages (notebooks) are linked from
    # the footer and the ledger only.
    in_nav = [page for (region, _, _), page in zip(project.footer_pages, extra)
              if region == "center"]
    pages = [(c.title, c.number, c.page) for c in chapters + in_nav]
    pages.append(("Search", None, sitelib.SEARCH_PAGE))
    footer = [{"text": text, "page": str(PurePosixPath(source).with_suffix(".html"))}
              for _, text, source in project.footer_pages]
    written = []
    search: list[dict] = []

    # Every page carries the whole sidebar, so the site's bytes grow with the
    # square of its pages. The sidebar's links are the same for every page
    # of a folder: computed once per folder; and a page whose inputs are all
    # unchanged (its body, that sidebar, the book's metadata, the templates)
    # is reused from the cache, not rendered again. A one-chapter edit thus
    # renders one page, not every page with every link.
    position = {p: i for i, (_, _, p) in enumerate(pages)}
    sidebars: dict[str, tuple[list[dict], list[str], str]] = {}
    shared = memo.key(_engine_digest(), _templates_digest(), _project_digest(project),
                      json.dumps(context, sort_keys=True, default=repr), str(fonts_css),
                      json.dumps(footer, sort_keys=True))
    sidebar_item = env.get_template("sidebar.html").module.item

    def sidebar(folder: str) -> tuple[list[dict], list[str], str]:
        """The sidebar's entries as seen from `folder`, each rendered (not
        current), and their digest."""
        if folder not in sidebars:
            entries = [{"title": t, "number": n, "current": False,
                        "href": str(PurePosixPath(_relpath(PurePosixPath(p), PurePosixPath(folder))))}
                       for t, n, p in pages]
            sidebars[folder] = (entries, [str(sidebar_item(e)) for e in entries],
                                memo.key(json.dumps(entries)))
        return sidebars[folder]

    def write_page(page: str, title: str, body: str, toc: str,
                   scripts: tuple[str, ...] = (), description: str = "") -> None:
        entries, rendered_entries, entries_key = sidebar(str(PurePosixPath(page).parent))
        index = position.get(page)

        def compute() -> bytes:
            items = list(rendered_entries)
            if index is not None:
                items[index] = str(sidebar_item({**entries[index], "current": True}))
            listed = index is not None
            rendered = page_template.render(
                project=project, title=title, body=body, toc=toc, page=page,
                sidebar=Markup("".join(items)), root=sitelib.root_of(page),
                prev=entries[index - 1] if listed and index > 0 else None,
                next=entries[index + 1] if listed and index + 1 < len(pages) else None,
                footer=[{**f, "href": _relative(page, f["page"])} for f in footer],
                fonts_css=fonts_css, scripts=scripts, description=description, **context)
            return mark_languages(rendered).encode("utf-8")

        key = memo.key(shared, entries_key, page, title, body, toc, json.dumps(scripts),
                       description, str(index))
        rendered = memo.cached("page", key, compute).decode("utf-8")
        target = site / page
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered, encoding="utf-8")
        written.append(target)

    # What a page's HTML depends on besides its own AST: every target (the
    # labels of cross-references), the links under figures, the
    # bibliography and the keys the whole book cites (they decide "2024a"
    # or "2024"), the fragment template, the engine's code and pandoc itself.
    book_key = memo.key(_engine_digest(), targets_digest(targets),
                        json.dumps([links.figure_links, links.narrow], sort_keys=True),
                        *(_key_part(a) for a in cites.args), json.dumps(cites.nocite), fragment,
                        refs_chapter.page if refs_chapter else "", _pandoc_identity(pandoc_binary()))

    def to_html(chapter: Chapter) -> tuple[str, str]:
        def compute() -> bytes:
            blocks = transform(chapter, targets, "html", figure_dir, links)
            doc = {**chapter.doc, "blocks": blocks}
            if cites.args and (chapter is refs_chapter or _cites(doc)):
                separate = refs_chapter is not None and chapter is not refs_chapter
                doc = cite_on_page(doc, project, cites,
                                   _relative(chapter.page, refs_chapter.page) if separate else None)
            args = ["-f", "json", "-t", "html5", "--section-divs", "--toc", "--toc-depth=3",
                    f"--template={fragment}", "--wrap=none"]
            if chapter.number:
                args += ["--number-sections", f"--number-offset={chapter.number - 1}"]
            return run_pandoc(args, json.dumps(doc), cwd=project.root,
                              what=("HTML pages", chapter.page)).encode("utf-8")

        # A chapter whose AST and book are unchanged is not walked again.
        out = (memo.cached("html-body", memo.key(book_key, chapter.digest, chapter.page,
                                                 chapter.title, str(chapter.number)), compute)
               if chapter.digest else compute()).decode("utf-8")
        toc, _, body = out.partition("<!-- reprobook:body -->")
        return _insert_page_notes(project, chapter.page, body), toc.strip()

    # pandoc runs in parallel; pages are written in order.
    everything = chapters + extra
    is_chapter = {id(c) for c in chapters}  # not `in chapters`: O(n) comparisons per page
    for page, (body, toc) in zip(everything, _parallel(to_html, everything)):
        if not page.source.startswith(f"{PurePosixPath(sitelib.NOTEBOOK_DIR)}/"):
            search.extend(sitelib.search_records(page.page, page.title, body))
        write_page(page.page, page.title, body, toc if id(page) in is_chapter else "",
                   description=page.description)
    sitelib.write_search_index(search, site, assets)
    write_page(sitelib.SEARCH_PAGE, "Search", env.get_template("search.html").render(), "",
               scripts=("search-index.js", "search.js"))
    for asset in ("site.js", "search.js"):
        shutil.copy2(TEMPLATES / asset, assets / asset)
    subset_fonts(project.root / "fonts", assets,
                 "".join(p.read_text(encoding="utf-8") for p in written))
    shutil.copy2(TEMPLATES / "site.css", assets / "site.css")
    return written


@functools.lru_cache(maxsize=1)
def _engine_digest() -> str:
    """The engine's own code: results cached by the code that computed them
    (derived from ASTs, rendered pages) are stale when it changes."""
    package = Path(__file__).resolve().parent.parent
    files = sorted(package.rglob("*.py"))
    return memo.key(*(str(p.relative_to(package)) for p in files), *files)


@functools.lru_cache(maxsize=1)
def _templates_digest() -> str:
    """The page templates' contents (a cached page is stale when they change)."""
    files = sorted(TEMPLATES.glob("*.html"))
    return memo.key(*(p.name for p in files), *files)


def _project_digest(project: Project) -> str:
    """What the page template may read of the project (its root, a scratch
    folder that differs every build, excepted)."""
    import dataclasses

    return memo.key(repr(dataclasses.replace(project, root=Path("."))),
                    json.dumps([project.quarto, project.original], sort_keys=True, default=str))


def _insert_page_notes(project: Project, page: str, body: str) -> str:
    """The engine's HTML for this page (_reprobook/pages/<page>), after the
    first heading, where the extension's filter puts it under Quarto."""
    notes = project.root / "_reprobook" / "pages" / page
    if not notes.is_file():
        return body
    block = notes.read_text(encoding="utf-8")
    head, sep, rest = body.partition("</h1>")
    return head + sep + "\n" + block + rest if sep else block + body


# ------------------------------------------------------------------ PDF
def render_pdf(project: Project, chapters: list[Chapter], targets: dict[str, Target],
               stage: Path, figure_dir: Path, output: Path, context: dict,
               timestamp: int, links: BookLinks | None = None) -> Path:
    import typst

    typ = typst_source(project, chapters, targets, figure_dir, context, links)
    source = stage / "book.typ"
    source.write_text(typ, encoding="utf-8")
    def compile_pdf() -> bytes:
        try:
            return typst.compile(str(source), root=str(stage),
                                 font_paths=[str(p) for p in font_paths(project)],
                                 ignore_system_fonts=True, timestamp=timestamp)
        except Exception as exc:  # typst raises its own error type with the diagnostic
            raise RenderError(f"Typst could not compile the PDF: {exc}") from None

    # Everything the compile reads: the source, the figures, the fonts.
    inputs = sorted(p for folder in (figure_dir, *font_paths(project)) if folder.is_dir()
                    for p in folder.rglob("*") if p.is_file())
    key = memo.key(typst.__version__ if hasattr(typst, "__version__") else "typst", typ,
                   str(timestamp), *(f"{p.name}" for p in inputs), *inputs)
    output.write_bytes(memo.cached("typst", key, compile_pdf, ("PDFs compiled", output.name)))
    return output


# Marks where the chapters go in the template's output (a line of its own).
_BODY_MARK = "// reprobook:body"


def typst_source(project: Project, chapters: list[Chapter], targets: dict[str, Target],
                 figure_dir: Path, context: dict, links: BookLinks | None) -> str:
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
    cites = citations(project, chapters, targets)
    refs_chapter = cites.refs_chapter

    def chapter_typst(chapter: Chapter) -> str:
        doc = {**chapter.doc, "blocks": transform(chapter, targets, "typst", figure_dir, links)}
        if cites.args and (chapter is refs_chapter or _cites(doc)):
            doc = cite_on_page(doc, project, cites, None if chapter is refs_chapter else "")
        # Citations are already resolved: with `-citations` the writer
        # prints citeproc's text rather than Typst's own #cite (pandoc turns
        # the extension off by itself only when --citeproc is in the same run).
        return run_pandoc(["-f", "json", "-t", "typst-citations", "--wrap=preserve"],
                          json.dumps(doc), cwd=project.root, what=("PDF chapters", chapter.source))

    edition = context.get("edition") or {}
    variables = {"title": project.title, "author": project.author, "lang": project.language,
                 **print_cover(project, edition)}
    var_args = [f"--variable={k}={v}" for k, v in variables.items() if v]
    frame = {**chapters[0].doc, "meta": dict(chapters[0].doc["meta"]),
             "blocks": [{"t": "RawBlock", "c": ["typst", _BODY_MARK]}]}
    template = run_pandoc(["-f", "json", "-t", "typst", f"--template={TEMPLATES / 'book.typ'}",
                           "--wrap=preserve", *var_args], json.dumps(frame), cwd=project.root)
    head, mark, tail = template.partition(_BODY_MARK + "\n")
    if not mark:
        raise RenderError(f"{TEMPLATES / 'book.typ'} has no $body$ on a line of its own")
    body = "\n".join(part.rstrip("\n") + "\n" for part in _parallel(chapter_typst, chapters))
    return head + body + tail


def font_paths(project: Project) -> list[Path]:
    """Fonts shipped with the project (fonts/) are embedded; system fonts are
    ignored so every machine produces the same PDF."""
    folder = project.root / "fonts"
    return [folder] if folder.is_dir() else []


# ------------------------------------------------------------------ entry
def render(project: Project, facts: dict[str, dict], checks: dict[str, dict], site: Path,
           context: dict, timestamp: int,
           parsed: tuple[list[Chapter], dict[str, Target]] | None = None,
           pdf: bool = True) -> dict:
    """Render the staged book `project` (stage.py) into `site`: one HTML page
    per chapter and footer page, and one PDF of the chapters. `parsed`: the
    chapters and targets staging already read from the same files."""
    chapters, targets = parsed or (None, None)
    if chapters is None:
        chapters = parse_chapters(project, facts)
        targets = number_targets(chapters)
    links = book_links(project, chapters)
    figure_dir = project.root / "figures"
    pages = render_html(project, chapters, targets, site, figure_dir, context, facts, links)
    pdf_path = None
    if pdf and ("typst" in project.formats or "pdf" in project.formats):
        pdf_path = render_pdf(project, chapters, targets, project.root, figure_dir,
                              site / context["pdf_name"], context, timestamp, links)
    return {"pages": pages, "pdf": pdf_path,
            "facts_used": {c.source: c.facts_used for c in chapters}}
