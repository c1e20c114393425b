"""The engine's generated pages, each written as a small Quarto document
(front matter + one raw HTML block) into the staged book, so that real
Quarto and the built-in renderer publish the very same pages. Every value
from data reaches the HTML through Jinja's autoescaping.

One function per page; each returns the document's text. Pages are linked
from the book's page footer (stage.py), which is how Quarto learns to render
files that are not chapters."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

CLAIMS = "claims.qmd"
DATA = "data.qmd"
CHANGES = "changes.qmd"
NOTEBOOKS = "notebooks"


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html"]),
                              keep_trailing_newline=True)


def document(title: str, html: str, **front) -> str:
    """A Quarto document holding `html` verbatim. The fence is longer than
    any run of backticks in the content, so code cells cannot close it."""
    longest = max((len(m) for m in re.findall(r"`+", html)), default=0)
    fence = "`" * max(3, longest + 1)
    meta = yaml.safe_dump({"title": title, **front}, allow_unicode=True, sort_keys=False)
    return f"---\n{meta}---\n\n{fence}{{=html}}\n{html.rstrip()}\n{fence}\n"


def ledger_page(env, entries, checks, notebook_pages: dict[str, str]) -> str:
    html = env.get_template("claims.html").render(entries=entries, checks=checks,
                                                  notebook_pages=notebook_pages)
    return document("Claims ledger", html, **{"page-layout": "full"})


def data_page(env, data: dict, notebooks: list) -> str:
    html = env.get_template("data.html").render(data=data, notebooks=notebooks)
    return document("Data", html, **{"page-layout": "full"})


def changes_page(env, changes, facts: dict[str, dict]) -> str:
    html = env.get_template("changes.html").render(changes=changes, facts=facts)
    return document(f"What changed since {changes.previous}", html)


def notebook_page(body: str, name: str, resources: list[str]) -> str:
    """`body` is the executed notebook as HTML (site.notebook_body); the
    files it links (images, the .ipynb) are declared as resources so Quarto
    copies them."""
    return document(f"Notebook {name}", body, **{"page-layout": "full", "resources": resources})
