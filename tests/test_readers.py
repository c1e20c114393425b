"""What readers get from the built publication beyond the numbers: notebook
pages a person can read (issue 12), and the links into them."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def test_notebook_pages_are_rendered_for_people(built):
    """Markdown rendered (no raw `##`), DataFrames as HTML tables, the
    book's figures inline, nothing loaded from another host."""
    _, result = built
    pages = sorted((result.output_dir / "notebooks").glob("*.html"))
    assert pages
    tables = images = 0
    for page in pages:
        soup = _soup(page)
        main = soup.find(id="notebook")
        for md in main.select(".nb-markdown"):
            text = md.get_text("\n")
            assert not re.search(r"^\s*#{1,6} ", text, re.M), f"{page.name}: raw Markdown heading"
            assert "`" not in text, f"{page.name}: raw Markdown code"
        assert main.select(".nb-markdown h2"), f"{page.name}: no rendered heading"
        assert len(soup.find_all("h1")) == 1
        tables += len(main.select(".nb-table table"))
        for img in main.find_all("img"):
            images += 1
            assert img.get("alt"), f"{page.name}: image without alt"
            assert (page.parent / img["src"]).is_file(), f"{page.name}: {img['src']} missing"
        for tag in soup.find_all(["script", "img", "link", "iframe", "source"]):
            for attr in ("src", "href"):
                assert not re.match(r"^(https?:)?//", tag.get(attr) or ""), f"{page.name}: {tag}"
    assert tables > 0 and images > 0


def test_ledger_cell_links_resolve(built):
    """Every link from the claims ledger (and under figures) into a notebook
    page lands on an existing cell anchor."""
    _, result = built
    site = result.output_dir
    links = []
    for page in [site / "claims.html", *sorted((site / "chapters").glob("*.html"))]:
        for a in _soup(page).find_all("a", href=re.compile(r"notebooks/[^/#]+\.html#")):
            links.append((page, a["href"]))
    assert links
    ids: dict[Path, set[str]] = {}
    for page, href in links:
        path, _, anchor = href.partition("#")
        target = (page.parent / path).resolve()
        if target not in ids:
            ids[target] = {t["id"] for t in _soup(target).find_all(id=True)}
        assert anchor.startswith("cell-") and anchor in ids[target], f"{page.name}: {href}"
