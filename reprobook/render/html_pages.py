"""The built-in renderer's web pages: each chapter and footer page through
pandoc into the site's template (sidebar, page TOC, previous/next, PDF
link), with the site's assets and fonts.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path, PurePosixPath

from .. import memo
from ..project import Project
from .chapters import (Chapter, engine_digest, first_heading, parallel_map, promote_title, read_chapter,
                       targets_digest)
from .book import Book
from .citations import Citations, cite_on_page, has_citations
from .pages import TEMPLATES
from .notebook_pages import NOTEBOOK_DIR
from .pandoc import key_part, pandoc_binary, pandoc_identity, run_pandoc
from .scripts import mark_languages
from .search import SEARCH_PAGE, search_records, write_search_index
from .transform import BookLinks, relative_link, relative_path, transform
from .urls import root_of
from .webfonts import publish_fonts, subset_fonts


def _parse_page(project: Project, facts: dict[str, dict], source: str) -> Chapter:
    """An unnumbered web page of the book that is not a chapter (the page
    footer's pages: the engine's ledger, data, changes and notebook pages)."""
    doc, used, digest = read_chapter(project, facts, source)
    doc = promote_title(doc, is_index=True)
    chapter = Chapter(source, None, doc, facts_used=used, digest=memo.key("page", digest))
    chapter.title = first_heading(doc) or source
    return chapter


def render_html(project: Project, book: Book, cites: Citations, site: Path, figure_dir: Path,
                context: dict, facts: dict[str, dict], links: BookLinks) -> list[Path]:
    from markupsafe import Markup

    from .pages import environment

    env = environment()
    page_template = env.get_template("page.html")
    fragment = TEMPLATES / "fragment.html"
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    fonts_css = publish_fonts(project.root / "fonts", assets)
    chapters, targets = book.chapters, book.targets
    refs_chapter = cites.refs_chapter
    extra = parallel_map(lambda source: _parse_page(project, facts, source),
                      [source for _, _, source in project.footer_pages])
    # The sidebar: chapters, then the footer's centre pages (ledger, data,
    # changes), then search; other footer pages (notebooks) are linked from
    # the footer and the ledger only.
    in_nav = [page for (region, _, _), page in zip(project.footer_pages, extra)
              if region == "center"]
    pages = [(c.title, c.number, c.page) for c in chapters + in_nav]
    pages.append(("Search", None, SEARCH_PAGE))
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
    shared = memo.key(engine_digest(), _templates_digest(), _project_digest(project),
                      json.dumps(context, sort_keys=True, default=repr), str(fonts_css),
                      json.dumps(footer, sort_keys=True))
    sidebar_item = env.get_template("sidebar.html").module.item

    def sidebar(folder: str) -> tuple[list[dict], list[str], str]:
        """The sidebar's entries as seen from `folder`, each rendered (not
        current), and their digest."""
        if folder not in sidebars:
            entries = [{"title": t, "number": n, "current": False,
                        "href": str(PurePosixPath(relative_path(PurePosixPath(p), PurePosixPath(folder))))}
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
                sidebar=Markup("".join(items)), root=root_of(page),
                prev=entries[index - 1] if listed and index > 0 else None,
                next=entries[index + 1] if listed and index + 1 < len(pages) else None,
                footer=[{**f, "href": relative_link(page, f["page"])} for f in footer],
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
    book_key = memo.key(engine_digest(), targets_digest(targets),
                        json.dumps([links.figure_links, links.narrow], sort_keys=True),
                        *(key_part(a) for a in cites.args), json.dumps(cites.nocite), fragment,
                        refs_chapter.page if refs_chapter else "", pandoc_identity(pandoc_binary()))

    def to_html(chapter: Chapter) -> tuple[str, str]:
        def compute() -> bytes:
            blocks = transform(chapter, targets, "html", figure_dir, links)
            doc = {**chapter.doc, "blocks": blocks}
            if cites.args and (chapter is refs_chapter or has_citations(doc)):
                separate = refs_chapter is not None and chapter is not refs_chapter
                doc = cite_on_page(doc, project, cites,
                                   relative_link(chapter.page, refs_chapter.page) if separate else None)
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
    for page, (body, toc) in zip(everything, parallel_map(to_html, everything)):
        if not page.source.startswith(f"{PurePosixPath(NOTEBOOK_DIR)}/"):
            search.extend(search_records(page.page, page.title, body))
        write_page(page.page, page.title, body, toc if id(page) in is_chapter else "",
                   description=page.description)
    write_search_index(search, site, assets)
    write_page(SEARCH_PAGE, "Search", env.get_template("search.html").render(), "",
               scripts=("search-index.js", "search.js"))
    for asset in ("site.js", "search.js"):
        shutil.copy2(TEMPLATES / asset, assets / asset)
    subset_fonts(project.root / "fonts", assets,
                 "".join(p.read_text(encoding="utf-8") for p in written))
    shutil.copy2(TEMPLATES / "site.css", assets / "site.css")
    return written


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
