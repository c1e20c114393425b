"""The site's search index: each page's text split into records, as the
reader sees it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .. import memo


SEARCH_PAGE = "search.html"


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def search_records(page: str, title: str, body: str) -> list[dict]:
    """One record per section of a rendered page: page, title, section,
    anchor and the section's own text (not its subsections'). Reused from
    the build's cache for an unchanged page."""
    return json.loads(memo.cached("search", memo.key(Path(__file__), page, title, body),
                                  lambda: json.dumps(_search_records(page, title, body)).encode()))


# Elements whose text starts on a new line (or cell): a space separates
# their text from what is around them. Inline elements (links, emphasis,
# numbers printed as facts) are joined to their neighbours as the reader
# sees them: "(10)", not "( 10 )".
BLOCKS = {"address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div",
          "dl", "dt", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
          "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
          "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "img"}


def _reader_text(node) -> str:
    """The text of an element as a reader sees it (see BLOCKS)."""
    from bs4 import NavigableString

    if isinstance(node, NavigableString):
        return str(node)
    if not hasattr(node, "children"):
        return ""
    inner = "".join(_reader_text(child) for child in node.children)
    return f" {inner} " if node.name in BLOCKS else inner


def _search_records(page: str, title: str, body: str) -> list[dict]:
    from bs4 import BeautifulSoup
    from bs4.element import Comment

    soup = BeautifulSoup(body, "html.parser")
    for hidden in soup.find_all(["style", "script"]):  # not text a reader searches
        hidden.decompose()
    # A quotation (<q>) repeats text indexed where it stands: the ledger
    # quotes each chapter sentence that prints a fact.
    for quoted in soup.find_all("q"):
        quoted.decompose()
    # Text a page repeats from elsewhere (the ledger quotes the chapters'
    # sentences) is marked data-search="skip": found once, on its own page.
    # A table marked data-search-skip="n" repeats such text in its n-th
    # column (one attribute per table rather than one per cell).
    # (find_all, not select(): a CSS selector costs soupsieve 0.25 s to compile.)
    for repeated in soup.find_all(attrs={"data-search": "skip"}):
        repeated.decompose()
    for table in soup.find_all("table", attrs={"data-search-skip": True}):
        column = table["data-search-skip"]
        if column.isdigit():
            for row in table.find_all("tr"):
                cells = row.find_all(["td", "th"], recursive=False)
                if int(column) <= len(cells):
                    cells[int(column) - 1].decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    records = []
    for section in soup.find_all("section"):
        heading = section.find(re.compile(r"^h[1-6]$"))
        parts = []
        for child in section.children:
            if getattr(child, "name", None) == "section":
                continue
            if child is heading:
                continue
            parts.append(_reader_text(child))
        text = _clean(" ".join(parts))
        if not text and heading is None:
            continue
        section_title = title if heading is None or heading.name == "h1" else _clean(_reader_text(heading))
        records.append({"page": page, "title": title, "section": section_title,
                        "anchor": section.get("id", ""), "text": text})
    if not records:
        records.append({"page": page, "title": title, "section": title, "anchor": "",
                        "text": _clean(_reader_text(soup))})
    return records


def write_search_index(records: list[dict], site: Path, assets: Path) -> None:
    payload = json.dumps(records, ensure_ascii=False, separators=(",", ":"))
    (site / "search.json").write_text(payload + "\n", encoding="utf-8")
    # The same data as a script: the search page works from a folder on disk
    # too, where browsers refuse fetch() of local files.
    (assets / "search-index.js").write_text(f"window.REPROBOOK_SEARCH={payload};\n",
                                            encoding="utf-8")
