"""What readers get from the built publication beyond the numbers: notebook
pages a person can read (issue 12), and the links into them."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from . import pdfpages


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


# -------------------------------------------------------------------- PDF
# The page rules are checks in tests/pdfpages.py, run here on the built-in
# renderer's PDF and in tests/test_quarto.py on real Quarto's, both editions.


def test_pdf_text_stays_in_the_text_area(built):
    """No text runs off the page's text area (Table 8.1 ran over the footer):
    outside it there is only the running header and the footer line."""
    _, result = built
    assert pdfpages.text_outside_the_text_area(result.pdf, pdfpages.BUILTIN) == []


def test_pdf_has_no_page_with_only_a_heading(built):
    _, result = built
    assert pdfpages.pages_with_only_a_heading(result.pdf, pdfpages.BUILTIN) == []


def test_pdf_leaves_out_web_only_content_and_relative_links(built):
    _, result = built
    assert pdfpages.web_only_text_and_relative_links(result.pdf) == []
    html = (result.output_dir / "chapters/maps.html").read_text(encoding="utf-8")
    assert "An interactive map" in html and 'id="interactive-map"' in html


def test_pdf_lists_figures_maps_and_tables_and_has_running_headers(built):
    _, result = built
    assert pdfpages.missing_lists_and_running_header(
        result.pdf, pdfpages.BUILTIN, "The maps: sources and limits", front_pages=8) == []


def test_conditional_content_follows_quarto_rules():
    """`.content-visible` / `.content-hidden` with `when-format` /
    `unless-format`, as Quarto renders them: web-only text stays out of the
    PDF, PDF-only text out of the web page."""
    import json

    from reprobook.render.chapters import Chapter
    from reprobook.render.pandoc import run_pandoc
    from reprobook.render.transform import transform
    from reprobook.render.ast import stringify

    source = ("# T\n\n::: {.content-visible when-format=\"html\"}\nweb only\n:::\n\n"
              "::: {.content-visible when-format=\"pdf\"}\npdf only\n:::\n\n"
              "::: {.content-hidden unless-format=\"html\"}\nweb again\n:::\n\n"
              "::: {.content-hidden when-format=\"html\"}\nprint again\n:::\n\nboth\n")
    doc = json.loads(run_pandoc(["-f", "markdown", "-t", "json"], source))
    chapter = Chapter("chapters/t.qmd", 1, doc, title="T")
    html = stringify(transform(chapter, {}, "html"))
    typst = " ".join(b["c"][1] if b["t"] == "RawBlock" else stringify(b)
                     for b in transform(chapter, {}, "typst"))
    assert "web only" in html and "web again" in html and "both" in html
    assert "pdf only" not in html and "print again" not in html
    assert "pdf only" in typst and "print again" in typst and "both" in typst
    assert "web only" not in typst and "web again" not in typst


def test_pdf_cover_names_the_original_and_this_edition(built):
    """The cover (issue 12): the original's author and date, this edition's
    number and ISO date, and "reproducible edition" said once."""
    project, result = built
    texts = pdfpages.cover_texts(project, result.output_dir.name)
    assert pdfpages.cover_problems(result.pdf, **texts) == []


# The original report's maps and figures (its lists of maps and figures).
ORIGINAL_ITEMS = [f"Map {n}" for n in range(1, 8)] + [f"Figure {n}" for n in range(1, 7)]
SEED = Path(__file__).resolve().parents[1] / "../shared/seeds/unearthing-the-cost-ISP-Myanmar-2025-06.txt"


def test_original_items_are_the_reports_lists():
    """ORIGINAL_ITEMS follows the original's LIST OF MAPS and LIST OF
    FIGURES (read from the source text where a checkout has it)."""
    import pytest

    if not SEED.is_file():
        pytest.skip("the original's text is not beside this checkout")
    text = SEED.read_text(encoding="utf-8")
    lists = text[text.index("LIST OF MAPS"):]
    lists = lists[:lists.index("LIST OF FIGURES") + 2000]
    listed = re.findall(r"^\|\s*((?:Map|Figure) \d+):", lists, re.M)
    assert listed == ORIGINAL_ITEMS


def test_concordance_covers_every_original_item_with_the_rendered_numbers(built):
    """One numbering scheme (issue 12): the concordance lists every map and
    figure of the original; each number it prints for this edition is the
    number of the caption it links to, on the web page and in the PDF."""
    from pypdf import PdfReader

    _, result = built
    site = result.output_dir
    page = site / "chapters" / "numbering.html"
    rows = [tr.find_all("td") for tr in _soup(page).select("main table tr") if tr.find_all("td")]
    assert [r[0].get_text(strip=True) for r in rows] == ORIGINAL_ITEMS
    printed = []
    for cells in rows:
        links = cells[2].find_all("a", class_="xref", href=re.compile(r"#(fig|map|tbl)-"))
        text = cells[2].get_text(" ", strip=True)
        if not links:
            assert "Not reproduced" in text, cells
            continue
        for a in links:
            path, _, ident = a["href"].partition("#")
            target = _soup(page.parent / path).find(id=ident)
            caption = target.find(["figcaption", "caption"])
            label = a.get_text(strip=True)
            assert caption.get_text(" ", strip=True).startswith(f"{label}:"), (label, caption)
            kind = {"fig": "Figure", "map": "Map", "tbl": "Table"}[ident.split("-")[0]]
            assert label.startswith(kind + " ")
            printed.append(label)
    assert len(printed) >= 11
    reader = PdfReader(result.pdf)
    pages = [re.sub(r"\s+", " ", p.extract_text()).replace("\xa0", " ") for p in reader.pages]
    concordance = next(t for t in pages if "Figure and map numbers" in t and "In the report" in t)
    for item in ORIGINAL_ITEMS:
        assert re.search(rf"{item}\b", concordance), item
    everything = " ".join(pages)
    for label in printed:
        assert label in concordance, label
        assert f"{label}: " in everything, f"no caption '{label}:' in the PDF"


def test_pdf_charts_embed_truetype_not_type3(built):
    """Charts and maps embedded in the PDF carry their text as TrueType
    subsets (matplotlib's pdf.fonttype 42), never Type 3 (issue 12)."""
    _, result = built
    found = pdfpages.fonts(result.pdf)
    assert any("DejaVuSans" in name for name, _ in found), found  # the charts' text is there
    assert [f for f in found if f[1] == "/Type3"] == []


def _plain(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def test_landing_page_lists_each_chapter_with_its_description(built):
    """'What is here' gives each chapter's one-line description, taken from
    the chapter's front matter (`description:`), in every edition."""
    import yaml

    from reprobook.project import load_project

    project, _ = built
    for edition, profile in (("1.0", None), ("1.1", "1.1")):
        book = load_project(project.root, profile=profile)
        soup = _soup(project.root / "_site" / edition / "index.html")
        items = {li.a["href"]: li for li in soup.select("nav.contents .contents-list li")}
        for source in book.chapters[1:]:
            text = (project.root / source).read_text(encoding="utf-8")
            front = yaml.safe_load(text.split("---", 2)[1]) if text.startswith("---") else {}
            assert front.get("description"), f"{source} has no description"
            shown = items[str(Path(source).with_suffix(".html"))].select_one(".contents-description")
            # printed with typographic quotes, as pandoc and Quarto print Markdown
            assert shown is not None and _plain(shown.get_text()) == front["description"], (edition, source)
            page = _soup(project.root / "_site" / edition / Path(source).with_suffix(".html"))
            meta = page.find("meta", attrs={"name": "description"})  # as Quarto writes it
            assert meta is not None and _plain(meta["content"]) == front["description"], (edition, source)
