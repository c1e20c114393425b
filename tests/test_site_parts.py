"""The website's parts without a browser: highlights, search records, the
notebook converter, the data archive, and the colour contrast of the site's
text and the figures' data colours (WCAG 2.1 AA)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from reprobook.errors import RenderError
from reprobook.render import landing
from reprobook.render.book import read_book
from reprobook.render.data_page import deterministic_zip
from reprobook.render.notebook_pages import notebook_body, published_notebook
from reprobook.render.search import search_records
from .conftest import make_mini_project

ROOT = Path(__file__).resolve().parent.parent
CSS = ROOT / "reprobook/templates/site.css"


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_function():
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < 4.5 < contrast("#767676", "#ffffff") + 0.01


def test_site_text_colours_meet_aa_on_every_background():
    css = CSS.read_text()
    colours = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", css))
    backgrounds = [colours["bg"], colours["panel"], "#fff4c2"]  # page, panels, notices/:target
    for name in ("text", "muted", "accent", "note", "warning", "important", "tip", "caution"):
        for bg in backgrounds:
            assert contrast(colours[name], bg) >= 4.5, (name, colours[name], bg)


def test_figure_data_colours_meet_non_text_contrast(built_site):
    """WCAG 1.4.11: colours that carry data need 3:1 against the white
    background; near-white greys are gridlines and shading (decoration)."""
    found = set()
    for svg in sorted((built_site / "figures").glob("*.svg")):
        for colour in re.findall(r"(?:fill|stroke):\s*(#[0-9a-fA-F]{6})", svg.read_text()):
            found.add(colour.lower())
    data = {c for c in found if contrast(c, "#ffffff") > 1.5}
    assert data, found
    low = {c: round(contrast(c, "#ffffff"), 2) for c in data if contrast(c, "#ffffff") < 3}
    assert not low, low


# ------------------------------------------------------------- highlights
class FakeProject:
    def __init__(self, root: Path, highlights=(), chapters=("index.qmd", "chapters/a.qmd")):
        self.root = root
        self.profile = None
        self.chapters = chapters
        self.highlights = highlights


def _project(tmp_path, highlights):
    # Highlights are parsed with the rest of the configuration (project.py).
    from reprobook.project import _highlights

    chapters = ["index.qmd", "chapters/a.qmd"]
    return FakeProject(tmp_path, _highlights(highlights, chapters, "reprobook.yml"), chapters)


def test_highlights_come_from_facts_and_link_to_chapters(tmp_path):
    project = _project(tmp_path, [{"fact": "x.total", "label": "things", "chapter": "chapters/a.qmd#sec-b"}])
    [h] = landing.highlights(project, {"x.total": {"text": "1,234"}})
    assert (h.text, h.label, h.page) == ("1,234", "things", "chapters/a.html#sec-b")


@pytest.mark.parametrize("entry, message", [
    ({"fact": "nope", "label": "x"}, "unknown fact 'nope'"),
    ({"fact": "x.total", "label": "x", "chapter": "chapters/zzz.qmd"}, "not a chapter"),
    ({"fact": "x.total"}, "needs `fact` and `label`"),
])
def test_bad_highlights_stop_the_build(tmp_path, entry, message):
    from reprobook.errors import ConfigError

    with pytest.raises((RenderError, ConfigError), match=re.escape(message)):
        landing.highlights(_project(tmp_path, [entry]), {"x.total": {"text": "1"}})


# ----------------------------------------------------------------- search
def test_search_records_one_per_section():
    body = ("<section id='a' class='level1'><h1>Title</h1><p>Intro words.</p>"
            "<section id='b' class='level2'><h2>Sub</h2><p>Deep text.</p></section></section>")
    records = search_records("chapters/x.html", "Title", body)
    assert records == [
        {"page": "chapters/x.html", "title": "Title", "section": "Title", "anchor": "a", "text": "Intro words."},
        {"page": "chapters/x.html", "title": "Title", "section": "Sub", "anchor": "b", "text": "Deep text."}]


def test_search_text_is_joined_as_readers_see_it():
    """Inline elements (a printed number, a link) join their neighbours with
    no added space; blocks, cells and line breaks are separated; text marked
    data-search="skip" (quoted from another page) is left out."""
    body = ("<section id='a'><h2>Sub <em>title</em></h2>"
            "<p>In <a class='fact' href='#x'>2021</a>, the year of the coup (<a href='#f'>Figure 5.1</a>)"
            " pits rose by <span class='fact'>150</span>%.<br>Next line</p>"
            "<ul><li>one</li><li>two</li></ul><table><tr><td>cell</td><td>next</td></tr>"
            "<tr><td data-search='skip'>a quoted sentence</td></tr></table></section>")
    [record] = search_records("chapters/x.html", "Title", body)
    assert record["section"] == "Sub title"
    assert record["text"] == ("In 2021, the year of the coup (Figure 5.1) pits rose by 150%. Next line "
                              "one two cell next")


def test_changes_summary_counts_in_words():
    from reprobook.changes import Changes, summary

    c = Changes("1.0", "1.1", added=[("k", "1")] * 57, figures_added=["chart.svg", "map.webp"],
                chapters_added=["a.html", "b.html"])
    assert summary(c, {"map.webp": "map"}) == (
        "Compared with edition 1.0, edition 1.1 adds two chapters, one figure, one map and 57 numbers. "
        "No number shared with edition 1.0 has a different value, no figure was redrawn, the text of "
        "the chapters both editions have is unchanged and nothing was removed.")
    c = Changes("1.1", "2.0", changed=[("k", "1", "2")] * 3, removed=[("j", "4")])
    assert summary(c, {}) == ("Compared with edition 1.1, edition 2.0 changes the value of three numbers "
                              "and removes one number. No figure was redrawn and the text of the chapters both "
                              "editions have is unchanged.")
    c.prose = [("a.html", "reworded", "Old.", "New."), ("a.html", "added", "", "More.")]
    assert summary(c, {}) == ("Compared with edition 1.1, edition 2.0 adds one paragraph, changes the "
                              "value of three numbers, rewords one paragraph and removes one number. "
                              "No figure was redrawn.")


def test_changes_count_raster_maps_as_figures(tmp_path):
    """A map published as WebP is a figure of the edition, as an SVG chart is;
    a chart's narrow-layout variant (phones) is not a figure of its own."""
    from reprobook.changes import compare

    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "chart.svg").write_text("<svg/>")
    (new / "map-corridors.webp").write_bytes(b"RIFF")
    (new / "map-corridors.pdf").write_bytes(b"%PDF")  # the print version: not a web figure
    (new / "chart.narrow.svg").write_text("<svg/>")  # the phone layout of chart.svg: the same figure
    (new / "bars.svg").write_text("<svg/>")
    (new / "bars.narrow.svg").write_text("<svg/>")
    changes = compare("1.0", "1.1", {}, {}, old, new, [], [])
    assert changes.figures_added == ["bars.svg", "map-corridors.webp"]


def test_ledger_labels_and_keys():
    from reprobook import ledger

    assert ledger.label("sites.increase_pct") == "Sites: increase %"
    assert ledger.label("geo.chipwi.sites_q") == "Geo: chipwi sites (as worded)"
    assert ledger.label("social.fatality_compensation_text") == "Social: fatality compensation"
    assert str(ledger.key_html("geo.chipwi.pits_<x>")) == "<code>geo.<wbr>chipwi.<wbr>pits_&lt;x&gt;</code>"
    assert set(ledger.SHORT_STATUS) == set(ledger.SEVERITY) == set(ledger.STATUS_WORDS)
    assert "-" not in "".join(ledger.SHORT_STATUS.values())  # words, not ids


def _fact(text, value, label=None):
    fact = {"value": value, "unit": "things", "text": text, "notebook": "notebooks/a.ipynb", "cell": 2,
            "inputs": ["alpha"], "rows": {}, "note": ""}
    return {**fact, "label": label} if label else fact


def _cells(soup, selector):
    from bs4 import BeautifulSoup  # noqa: F401  (soup is parsed by the caller)

    return {row["id"]: [" ".join(td.get_text(" ").split()) for td in row.find_all("td")]
            for row in soup.select(selector)}


def test_labels_given_by_a_notebook_reach_the_ledger_and_changes_pages(tmp_path):
    """A label a notebook gives a fact (`Step.fact(..., label=...)`) or a
    check names it in the ledger, the reviewer notes and the "What changed"
    page; a fact without one keeps the label made from its key; a removed
    fact keeps the label the previous edition gave it."""
    from bs4 import BeautifulSoup

    from reprobook import ledger
    from reprobook.changes import compare
    from reprobook.render import pages

    old = {"alpha.rise_pct": _fact("12%", 12), "alpha.gone": _fact("3", 3, "A number dropped since")}
    new = {"alpha.rise_pct": _fact("15%", 15, "Rise in things from one year to the next"),
           "alpha.rows": _fact("2", 2), "alpha.added": _fact("9", 9, "Things added this year")}
    checks = {"alpha.rise_vs_source": {"verdict": "consistent", "claim": "c", "finding": "f",
                                       "facts": ["alpha.rise_pct"], "notebook": "notebooks/a.ipynb",
                                       "cell": 3, "label": "The rise agrees with the source"}}
    entries = ledger.build_ledger(new, checks, [])
    env = pages.environment()

    def body(document):  # the raw HTML block of the generated Quarto document
        return BeautifulSoup(document.split("{=html}", 1)[1], "html.parser")

    claims = _cells(body(pages.ledger_page(env, entries, checks, {})), "tr[id^=claim-]")
    assert claims["claim-alpha.rise_pct"][1].startswith("Rise in things from one year to the next ")
    assert "The rise agrees with the source" in claims["claim-alpha.rise_pct"][4]
    assert claims["claim-alpha.rows"][1].startswith("Alpha: rows ")  # derived from the key
    notes = body(pages.reviewer_notes_page(env, entries, checks, {}))
    row = _cells(notes, "tr[id^=check-]")["check-alpha.rise_vs_source"]
    assert row[1].startswith("The rise agrees with the source") and \
        row[4] == "Rise in things from one year to the next"
    assert notes.select_one("a[href='claims.html#claim-alpha.rise_pct']")

    (tmp_path / "figures").mkdir()
    changes = compare("1.0", "1.1", old, new, tmp_path / "figures", tmp_path / "figures", [], [])
    page = body(pages.changes_page(env, changes, new, {e.key: e for e in entries}))
    links = {a["href"]: a.get_text() for a in page.select("a[href^='claims.html#claim-']")}
    assert links["claims.html#claim-alpha.rise_pct"] == "Rise in things from one year to the next"
    assert links["claims.html#claim-alpha.added"] == "Things added this year"
    assert links["claims.html#claim-alpha.rows"] == "Alpha: rows"
    removed = " ".join(page.find("h2", string=re.compile("removed")).find_next("ul").get_text(" ").split())
    assert removed.startswith("A number dropped since")


def test_chapter_descriptions_are_listed_on_the_landing_page(tmp_path):
    """A chapter's front-matter `description:` is its line under 'What is
    here' (the built-in renderer and Quarto show the same landing block)."""
    from bs4 import BeautifulSoup

    from reprobook.project import load_project
    from reprobook.render import pages

    root = make_mini_project(tmp_path / "mini", chapters={
        "one": '---\ndescription: "What the *first* chapter covers."\n---\n\n# One\n\nText.\n',
        "two": "# Two\n\nText.\n"})
    project = load_project(root)
    chapters = read_book(project, {}).chapters
    assert [c.description for c in chapters[1:]] == ["What the first chapter covers.", ""]
    html = landing.landing_block(pages.environment(), project, {},
                                 [(c.title, c.number, c.page) for c in chapters], chapters[0].page,
                                 descriptions={c.page: c.description for c in chapters if c.description})
    items = BeautifulSoup(html, "html.parser").select(".contents-list li")
    assert items[0].select_one(".contents-description").get_text() == "What the first chapter covers."
    assert items[1].select_one(".contents-description") is None


def test_landing_helpers():
    assert landing.human_date("2025-09-20") == "20 September 2025"
    assert landing.human_date("2025-06") == "June 2025"
    assert landing.human_date("spring") == "spring"
    assert landing.float_summary(["Map 3.1", "Map 3.2", "Table 3.1"]) == "Maps 3.1 and 3.2; Table 3.1"
    chapters = [("Intro", 3, "a.html"), ("Trade", 5, "b.html"), ("Places", 9, "c.html"), ("Refs", None, "r.html")]
    floats = {"a.html": ["Map 3.1"], "b.html": ["Figure 5.1", "Table 5.1"], "c.html": ["Map 9.1"]}
    assert landing.where_floats_are(chapters, floats) == (
        "Maps are in chapters 3 and 9; figures in chapter 5; tables in chapter 5.")


# -------------------------------------------------------------- notebooks
def test_notebook_converter_escapes_and_keeps_outputs(tmp_path):
    import base64

    png = base64.b64encode(b"\x89PNG fake").decode()
    nb = {"metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "cells": [
        {"cell_type": "markdown", "source": "# <b>head</b>"},
        {"cell_type": "code", "execution_count": 1, "source": "print('<script>')", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "<script>alert(1)</script>\n"},
            {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}},
            {"output_type": "execute_result", "data": {"text/html": "<script src='https://x'></script>",
                                                        "text/plain": "plain"}}]}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    html = notebook_body(published_notebook(path, tmp_path), "n", "notebooks/n.ipynb", tmp_path / "out", "outputs")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert 'id="cell-2"' in html and "https://x" not in html
    images = list((tmp_path / "out").iterdir())
    assert [p.read_bytes() for p in images] == [b"\x89PNG fake"]
    assert f'src="outputs/{images[0].name}"' in html


def test_a_4_4_notebook_converts_without_validation_errors(tmp_path, caplog):
    """The converter gives every cell an id (its anchor); ids are nbformat
    4.5, so a notebook saved as 4.4 (as ours are) must not be reported as
    invalid JSON on each build."""
    import logging

    nb = {"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "## A heading"},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "1 + 1", "outputs": []}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb))
    with caplog.at_level(logging.WARNING):
        html = notebook_body(published_notebook(path, tmp_path), "old", "notebooks/old.ipynb",
                                     tmp_path / "out", "outputs")
    assert 'id="cell-2"' in html
    assert not [r.getMessage() for r in caplog.records if "invalid" in r.getMessage().lower()]


def test_notebook_page_renders_markdown_tables_and_images(tmp_path):
    """nbconvert's exporter: Markdown rendered (headings below the page's
    h1), a DataFrame's HTML as a table, images inline as files, the book's
    figures after the cell that saved them, every cell's anchor kept, and
    nothing that runs or loads from another host."""
    from bs4 import BeautifulSoup

    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
    table = ("<div><style scoped>td {color: red}</style><table class='dataframe'><thead><tr><th>year</th>"
             "<th>sites</th></tr></thead><tbody><tr><td>2021</td><td>4,200</td></tr></tbody></table></div>")
    nb = {"metadata": {}, "cells": [
        {"cell_type": "markdown", "source": ["## Sites per year\n", "\n", "Uses `data.csv` and **counts**."]},
        {"cell_type": "raw", "source": "raw text"},
        {"cell_type": "code", "execution_count": 2, "source": "df", "outputs": [
            {"output_type": "execute_result", "execution_count": 2, "metadata": {},
             "data": {"text/html": [table], "text/plain": "  year  sites"}},
            {"output_type": "display_data", "metadata": {},
             "data": {"image/svg+xml": svg, "text/plain": "<Figure>"}},
            {"output_type": "display_data", "metadata": {},
             "data": {"application/javascript": "alert(1)", "text/plain": "js"}},
            {"output_type": "display_data", "metadata": {}, "data": {"text/html": (
                '<img src="https://cdn.example/x.png"><a href="javascript:alert(1)" onclick="x()">a</a>'
                '<iframe src="https://example.org"></iframe>'
                '<link rel="stylesheet" href="https://cdn.example/x.css">')}}]}]}
    figures = {3: [{"src": "../figures/sites.svg", "alt": "Bars of sites per year",
                    "label": "Figure 5.1 (Sites)", "href": "../chapters/sites.html#fig-sites"}]}
    body = notebook_body(nb, "n", "notebooks/n.ipynb", tmp_path / "out", "outputs", figures)
    soup = BeautifulSoup(body, "html.parser")
    assert "##" not in soup.get_text() and "`" not in soup.get_text()
    assert soup.find("h2").get_text() == "Sites per year" and not soup.find("h1")
    cell = soup.find(id="cell-1")
    assert cell.find("strong").get_text() == "counts" and cell.find("code").get_text() == "data.csv"
    assert [c["id"] for c in soup.select(".nb-cell")] == ["cell-1", "cell-2", "cell-3"]
    assert soup.select("#cell-3 .nb-output")
    assert "raw text" in soup.find(id="cell-2").get_text()
    cell = soup.find(id="cell-3")
    assert [th.get_text() for th in cell.select(".nb-table table th")] == ["year", "sites"]
    assert cell.select_one(".nb-table td").get_text() == "2021"
    srcs = [img["src"] for img in cell.find_all("img")]
    assert srcs[0].startswith("outputs/n-") and srcs[0].endswith(".svg") and srcs[-1] == "../figures/sites.svg"
    # the drawing, rebuilt by the SVG allow-list (issue 23)
    assert (tmp_path / "out" / srcs[0].removeprefix("outputs/")).read_text().endswith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" /></svg>')
    assert cell.find("img", alt="Bars of sites per year")
    assert cell.find("a", href="../chapters/sites.html#fig-sites").get_text() == "Figure 5.1 (Sites)"
    for bad in ("<script", "<iframe", "<style", "<link", "onclick", "javascript:", "example", "alert"):
        assert bad not in body, bad
    # The same notebook gives the same bytes (no random ids).
    again = notebook_body(nb, "n", "notebooks/n.ipynb", tmp_path / "out2", "outputs", figures)
    assert again == body


# ------------------------------------------------------------------- data
def test_data_archive_is_deterministic(tmp_path):
    a = tmp_path / "b.csv"
    b = tmp_path / "a.csv"
    a.write_text("x\n1\n")
    b.write_text("y\n2\n")
    one = deterministic_zip([("b.csv", a), ("a.csv", b)], tmp_path / "1.zip", prefix="pkg")
    two = deterministic_zip([("a.csv", b), ("b.csv", a)], tmp_path / "2.zip", prefix="pkg")
    assert one.read_bytes() == two.read_bytes()
    with zipfile.ZipFile(one) as zf:
        assert zf.namelist() == ["pkg/a.csv", "pkg/b.csv"]
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_published_notebook_drops_build_paths(tmp_path):
    out = f"[PosixPath('{tmp_path}/.reprobook/run-a-x1y2/outputs/figures/f.svg')]"
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [
        {"output_type": "execute_result", "data": {"text/plain": out}}]}]}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(nb))
    text = json.dumps(published_notebook(path, tmp_path))
    assert str(tmp_path) not in text and "PosixPath('figures/f.svg')" in text
