"""Citations in a book: cited from any page, listed on the page that holds
`::: {#refs}`, without `nocite`, in both renderers and both formats; and
the same citation text on every build, however many pages run citeproc at
once (a `nocite` file rewritten by every parallel run once printed
"Global Witness, 2024" in one build and "2024a" in the next)."""

from __future__ import annotations

import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook.build import build
from reprobook.project import load_project
from reprobook.render import pandoc_book

from .conftest import ROOT, make_mini_project, quarto_binaries

# A fixture bibliography: two works by one author in one year (so citeproc
# must print "2024a" and "2024b"), and one work no page cites.
ENTRIES = [
    {"id": "gw-report", "type": "report", "title": "A report on mining",
     "author": [{"literal": "Watchdog Group"}], "issued": {"date-parts": [[2024]]}},
    {"id": "gw-release", "type": "article", "title": "A press release on mining",
     "author": [{"literal": "Watchdog Group"}], "issued": {"date-parts": [[2024]]}},
    {"id": "uncited", "type": "book", "title": "A book nobody cites",
     "author": [{"literal": "Someone Else"}], "issued": {"date-parts": [[2001]]}},
]


def cited_book(root: Path, nocite: str | None = None) -> Path:
    """The mini book with a bibliography: chapter one cites the report,
    chapter two the press release, the references page is a chapter of its
    own (Quarto's starter book's layout)."""
    make_mini_project(root, chapters={
        "one": "# One {#sec-one}\n\nAs reported [@gw-report]. Alpha is {{< fact alpha.total >}}.\n",
        "two": "# Two {#sec-two}\n\nAs released [@gw-release], see @sec-one.\n"})
    (root / "references.json").write_text(json.dumps(ENTRIES, indent=1), encoding="utf-8")
    (root / "chapters/references.qmd").write_text(
        "# References {.unnumbered}\n\n::: {#refs}\n:::\n", encoding="utf-8")
    quarto = (root / "_quarto.yml").read_text(encoding="utf-8")
    quarto = quarto.replace("    - chapters/two.qmd\n", "    - chapters/two.qmd\n    - chapters/references.qmd\n")
    quarto += "bibliography: references.json\n"
    if nocite:
        quarto += f"nocite: |\n  {nocite}\n"
    # Quarto's Typst output hands citations to Typst unless citeproc is on.
    quarto = quarto.replace("  typst: {}\n", "  typst:\n    citeproc: true\n")
    (root / "_quarto.yml").write_text(quarto, encoding="utf-8")
    return root


def texts(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")


def reference_list(soup: BeautifulSoup) -> list[str]:
    """The entries of the page's visible reference list (Quarto keeps each
    chapter's own list hidden, `display: none`, for its citation pop-ups)."""
    refs = soup.select_one("#refs")
    if refs is None or "display: none" in refs.get("style", ""):
        return []
    return [" ".join(e.get_text(" ").split()) for e in refs.select("[id^=ref-]")]


def pdf_text(path: Path) -> str:
    return " ".join("".join(p.extract_text() for p in PdfReader(path).pages).split())


def suffixes(entries: list[str]) -> dict[str, str]:
    """The year suffix citeproc gave each cited work in the list ("a"/"b":
    the style decides the order)."""
    out = {}
    for entry in entries:
        found = re.search(r"2024([ab])", entry)
        key = "report" if "report on mining" in entry.lower() else "release"
        out[key] = found.group(1) if found else ""
    return out


def cited_years(text: str) -> set[str]:
    return set(re.findall(r"Watchdog Group,? 2024([ab]?)", " ".join(text.split())))


def check_book(site: Path, pdf: Path) -> None:
    one, two = texts(site, "chapters/one.html"), texts(site, "chapters/two.html")
    listed = reference_list(texts(site, "chapters/references.html"))
    assert len(listed) == 2, listed
    assert not any("nobody cites" in e.lower() for e in listed)
    year = suffixes(listed)
    assert sorted(year.values()) == ["a", "b"], listed
    # each page prints the year as the list disambiguates it, and links to
    # the list's entry; a chapter carries no list of its own
    assert cited_years(one.get_text(" ")) == {year["report"]}
    assert cited_years(two.get_text(" ")) == {year["release"]}
    links = [a["href"] for a in one.find_all("a", href=True) if "#ref-" in a["href"]]
    assert links and all(h.endswith("references.html#ref-gw-report") for h in links), links
    assert not reference_list(one) and not reference_list(two)
    text = pdf_text(pdf)
    assert cited_years(text) == {"a", "b"}
    assert "report on mining" in text.lower() and "press release on mining" in text.lower()
    assert "nobody cites" not in text.lower()


def test_citations_work_from_any_page_without_nocite(tmp_path):
    project = load_project(cited_book(tmp_path / "book"))
    result = build(project, renderer="builtin")
    check_book(result.output_dir, result.pdf)


def test_the_books_own_nocite_still_lists_everything(tmp_path):
    project = load_project(cited_book(tmp_path / "book", nocite="@*"))
    result = build(project, renderer="builtin")
    listed = reference_list(texts(result.output_dir, "chapters/references.html"))
    assert len(listed) == 3 and any("nobody cites" in e.lower() for e in listed)
    assert "nobody cites" in pdf_text(result.pdf).lower()


QUARTOS = quarto_binaries()


@pytest.mark.skipif(not QUARTOS and os.environ.get("CI") != "true", reason="no real Quarto")
@pytest.mark.parametrize("binary", QUARTOS or ["missing"], ids=lambda b: Path(b).parent.parent.name)
def test_citations_work_from_any_page_under_real_quarto(tmp_path, binary):
    assert Path(binary).exists(), "CI=true needs real Quarto (./run test installs it)"
    root = cited_book(tmp_path / "book")
    # The engine's Quarto extension prints the facts; Quarto 1.10's Typst
    # book template (orange-book 0.7.1) fails on a book without an author.
    shutil.copytree(ROOT / "_extensions", root / "_extensions")
    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace('  title: "Mini"', '  title: "Mini"\n  author: "Fixture"')
                      + "filters:\n  - reprobook\n")
    project = load_project(root)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(binary).parent}{os.pathsep}{old_path}"
    try:
        result = build(project, renderer="quarto")
    finally:
        os.environ["PATH"] = old_path
    check_book(result.output_dir, result.pdf)


def test_parallel_citeproc_runs_print_the_same_text(tmp_path):
    """Many pages run citeproc at once (as the renderer's thread pool does),
    with no memo store: every run prints the same disambiguated citation.
    Before, each run rewrote the shared nocite file that the others read."""
    project = load_project(cited_book(tmp_path / "book", nocite="@*"))
    chapters = pandoc_book.parse_chapters(project, {"alpha.total": {"text": "3,500"}})
    targets = pandoc_book.number_targets(chapters)
    cites = pandoc_book.citations(project, chapters, targets)
    doc = next(c for c in chapters if c.source == "chapters/one.qmd").doc

    def once(_):
        out = pandoc_book.cite_on_page(doc, project, cites, None)
        return json.dumps(out["blocks"], sort_keys=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(once, range(32)))
    assert len(set(results)) == 1
    assert "2024a" in results[0]
    # nothing was written into the book for citeproc to read back
    assert not (project.root / "_reprobook").exists()


@pytest.mark.parametrize("renderer", ["builtin", "quarto"])
def test_a_citation_without_an_entry_stops_both_renderers_before_rendering(tmp_path, renderer):
    """Quarto alone publishes "(nokey2006?)" and carries on; both renderers
    now stop while the book is staged, naming the key and the chapter."""
    from reprobook.errors import BuildError

    if renderer == "quarto" and not QUARTOS:
        pytest.skip("no real Quarto")
    root = cited_book(tmp_path / "book")
    one = root / "chapters/one.qmd"
    one.write_text(one.read_text() + "\nAlso [@nokey2006; @gw-report].\n")
    project = load_project(root)
    old_path = os.environ["PATH"]
    if renderer == "quarto":
        os.environ["PATH"] = f"{Path(QUARTOS[0]).parent}{os.pathsep}{old_path}"
    try:
        with pytest.raises(BuildError) as error:
            build(project, renderer=renderer)
    finally:
        os.environ["PATH"] = old_path
    message = str(error.value)
    assert "@nokey2006 in chapters/one.qmd" in message and "references.json" in message
    assert "gw-report" not in message
    assert not (root / "_site").exists()


def test_bibtex_keys_are_read_too(tmp_path):
    """A BibTeX file (Quarto's starter book has one) is read through pandoc."""
    from reprobook.render.bibliography import _keys_of

    bib = tmp_path / "refs.bib"
    bib.write_text("@book{knuth84, author={Donald Knuth}, title={The TeXbook}, year={1984}}\n")
    assert _keys_of(bib) == {"knuth84"}
