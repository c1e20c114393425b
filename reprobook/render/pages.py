"""The engine's generated pages, each written as a small Quarto document
(front matter + one raw HTML block) into the staged book, so that real
Quarto and the built-in renderer publish the very same pages. Every value
from data reaches the HTML through Jinja's autoescaping.

One function per page; each returns the document's text. Pages are linked
from the book's page footer (stage.py), which is how Quarto learns to render
files that are not chapters."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
import yaml

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

CLAIMS = "claims.qmd"
REVIEWER_NOTES = "checks.qmd"  # the reviewer notes (beside checks.json)
DATA = "data.qmd"
CHANGES = "changes.qmd"
NOTEBOOKS = "notebooks"
# ... and the web pages they become.
CLAIMS_PAGE = "claims.html"
REVIEWER_NOTES_PAGE = "checks.html"  # the reviewer notes
CHANGES_PAGE = "changes.html"


@functools.lru_cache(maxsize=None)
def environment() -> jinja2.Environment:
    """One environment per process: Jinja compiles each template once (it
    still reloads a template whose file changed)."""
    from .content_policy import BUILTIN

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]),
                             keep_trailing_newline=True)
    env.globals["content_policy"] = BUILTIN  # page.html's <meta>
    return env


def document(title: str, html: str, **front) -> str:
    """A Quarto document holding `html` verbatim. The fence is longer than
    any run of backticks in the content, so code cells cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", html)), default=0)
    fence = "`" * max(3, longest + 1)
    meta = yaml.safe_dump({"title": title, **front}, allow_unicode=True, sort_keys=False)
    return f"---\n{meta}---\n\n{fence}{{=html}}\n{html.rstrip()}\n{fence}\n"


def _html(page: str) -> str:
    return page.rsplit(".", 1)[0] + ".html"


def ledger_page(env, entries, checks, notebook_pages: dict[str, str],
                chapter_numbers: dict[str, int] | None = None) -> str:
    """Every number, one row each; the checks are on their own page
    (reviewer_notes_page), linked from each number's status. A place a
    number is printed is named by its chapter's number (`chapter_numbers`:
    page -> number), else by the page's title: a title repeated in every
    row would weigh on the page more than anything else in it."""
    from .. import ledger

    html = env.get_template("claims.html").render(
        entries=entries, notebook_pages=notebook_pages, notes_page=_html(REVIEWER_NOTES),
        chapter_numbers=chapter_numbers or {},
        check_label=ledger.labeller(checks), key_html=ledger.key_html,
        status_words=ledger.STATUS_WORDS, short_status=ledger.SHORT_STATUS)
    return document("Claims ledger", html, **{"page-layout": "full"})


def reviewer_notes_page(env, entries, checks, notebook_pages: dict[str, str]) -> str:
    """The consistency checks: what the source says, what the data gives,
    the verdict, and the numbers each check is about (linked to the ledger)."""
    from .. import ledger

    html = env.get_template("reviewer-notes.html").render(
        checks=checks, notebook_pages=notebook_pages, ledger_page=_html(CLAIMS),
        label=ledger.labeller({e.key: e.fact for e in entries}), check_label=ledger.labeller(checks),
        key_html=ledger.key_html, status_words=ledger.STATUS_WORDS,
        short_status=ledger.SHORT_STATUS)
    return document("Reviewer notes", html, **{"page-layout": "full"})


def data_page(env, data: dict, notebooks: list) -> str:
    html = env.get_template("data.html").render(data=data, notebooks=notebooks)
    return document("Data", html, **{"page-layout": "full"})


def changes_page(env, changes, facts: dict[str, dict], entries: dict | None = None,
                 figures: dict[str, dict] | None = None, chapters: dict | None = None) -> str:
    """What changed since the previous edition, for readers: a summary in
    words, then chapters by title, figures by label and caption, and each
    number by its label, printed value and where it is printed. `entries`
    are the ledger's (key -> Entry), `figures` what readers know each figure
    file as (stage._figure_info), `chapters` page -> Chapter."""
    from .. import changes as changelib
    from .. import ledger

    figures = figures or {}
    order = {page: n for n, page in enumerate(chapters or {})}  # the book's order
    added = sorted(changes.chapters_added, key=lambda c: (order.get(c, len(order)), c))
    html = env.get_template("changes.html").render(
        chapters_added=added,
        changes=changes, facts=facts, entries=entries or {}, figures=figures,
        chapters=chapters or {}, label=lambda key: changes.labels.get(key) or ledger.label(key),
        key_html=ledger.key_html,
        summary=changelib.summary(changes, {n: f["kind"] for n, f in figures.items()}))
    return document(f"What changed since {changes.previous}", html)


def notebook_page(body: str, name: str, resources: list[str]) -> str:
    """`body` is the executed notebook as HTML (site.notebook_body); the
    files it links (images, the .ipynb) are declared as resources so Quarto
    copies them."""
    return document(f"Notebook {name}", body, **{"page-layout": "full", "resources": resources})
