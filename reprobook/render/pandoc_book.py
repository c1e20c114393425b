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

from pathlib import Path

from ..project import Project
from .book import Book
from .citations import citations
from .html_pages import render_html
from .transform import book_links
from .typst_pdf import render_pdf


def render(project: Project, book: Book, facts: dict[str, dict], site: Path, context: dict,
           timestamp: int, pdf: bool = True) -> dict:
    """Render the staged book `project` (stage.py) into `site`: one HTML page
    per chapter and footer page, and one PDF of the chapters. `book`: the
    chapters and targets staging read from the same files."""
    chapters = book.chapters
    links = book_links(project, chapters)
    # Worked out once, for the web pages and the PDF alike.
    cites = citations(project, chapters, book.targets)
    figure_dir = project.root / "figures"
    pages = render_html(project, book, cites, site, figure_dir, context, facts, links)
    pdf_path = None
    if pdf and ("typst" in project.formats or "pdf" in project.formats):
        pdf_path = render_pdf(project, book, cites, project.root, figure_dir,
                              site / context["pdf_name"], context, timestamp, links)
    return {"pages": pages, "pdf": pdf_path,
            "facts_used": {c.source: c.facts_used for c in chapters}}
