"""The built-in renderer's Quarto subset, on a small fixture book."""

from __future__ import annotations

import os
import stat
import textwrap

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook.build import build
from reprobook.errors import RenderError
from reprobook.project import load_project

from .conftest import make_mini_project

FIGURE_CHAPTER = textwrap.dedent("""\
    # One {#sec-one}

    Alpha total is {{< fact alpha.total >}}; see @fig-bars and @tbl-small.

    ## Detail {#sec-detail}

    ![Bars of alpha.](../figures/bars.svg){#fig-bars fig-alt="Bars for {{< var alpha.rows >}} rows"}

    | a | b |
    |---|--:|
    | x | 1 |

    : A small table {#tbl-small}

    ::: {.callout-warning title="Careful"}
    Read the caveat.
    :::
    """)
TWO = "# Two {#sec-two}\n\nBack to @sec-detail and @fig-bars; beta has {{< fact beta.rows >}} row.\n"


@pytest.fixture
def book(tmp_path):
    root = make_mini_project(tmp_path / "book", {"one": FIGURE_CHAPTER, "two": TWO})
    (root / "figures").mkdir(exist_ok=True)
    # The fixture figure is declared as an output of notebook a.
    config = root / "reprobook.yml"
    config.write_text(config.read_text().replace(
        "inputs: [alpha]", "inputs: [alpha]\n    outputs: [figures/bars.svg, figures/bars.pdf, figures/bars.csv]"))
    import nbformat

    nb_path = root / "notebooks/a.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                          "ax.bar(df.id, df.amount)\nstep.save_figure(fig, 'bars', data=df)")
    nbformat.write(nb, nb_path)
    project = load_project(root)
    build(project)
    return project


def soup(project, page):
    return BeautifulSoup((project.site_dir / page).read_text(encoding="utf-8"), "html.parser")


def test_facts_become_traceable_spans(book):
    span = soup(book, "chapters/one.html").select_one("a.fact")
    assert span["data-key"] == "alpha.total" and span.get_text() == "3,500"


def test_crossrefs_number_and_link_across_pages(book):
    one, two = soup(book, "chapters/one.html"), soup(book, "chapters/two.html")
    links = {a.get_text(): a["href"] for a in one.select("a.xref")}
    # Quarto's book numbers: per chapter (chapter 1 is "One"; the index is unnumbered)
    assert links == {"Figure 1.1": "#fig-bars", "Table 1.1": "#tbl-small"}
    links = {a.get_text(): a["href"] for a in two.select("a.xref")}
    assert links == {"Section 1.1": "one.html#sec-detail", "Figure 1.1": "one.html#fig-bars"}
    assert one.find("figure", id="fig-bars").figcaption.get_text().startswith("Figure 1.1:")
    assert one.find("table", id="tbl-small").caption.get_text().startswith("Table 1.1:")


def test_fig_alt_becomes_the_image_alt_with_facts_substituted(book):
    img = soup(book, "chapters/one.html").find("figure", id="fig-bars").img
    assert img["alt"] == "Bars for 2 rows"


def test_figure_links_its_data(book):
    link = soup(book, "chapters/one.html").select_one("figure a.figure-data")
    assert link["href"] == "../figures/bars.csv"
    assert (book.site_dir / "figures/bars.csv").is_file()


def test_svg_chart_has_a_narrow_variant_for_phones(book):
    """save_figure also writes bars.narrow.svg (derived from the declared
    bars.svg, not declared itself): a smaller figure whose text is at least
    figures.NARROW_MIN_PT; the page shows it through <picture> on small
    screens, and the image still links to the chart as drawn."""
    import re

    from reprobook.figures import NARROW_MIN_PT

    spec = next(nb for nb in book.notebooks if nb.name == "a")
    assert "figures/bars.narrow.svg" in spec.outputs
    figure = soup(book, "chapters/one.html").find("figure", id="fig-bars")
    source = figure.select_one("a.figure-full > picture > source")
    assert source is not None and source["media"] == "(max-width: 600px)"
    assert source["srcset"] == "../figures/bars.narrow.svg"
    assert figure.select_one("picture > img")["src"] == "../figures/bars.svg"
    assert figure.select_one("a.figure-full")["href"] == "../figures/bars.svg"
    wide, narrow = ((book.site_dir / "figures" / name).read_text(encoding="utf-8")
                    for name in ("bars.svg", "bars.narrow.svg"))
    width = {name: float(re.search(r'<svg[^>]* width="([\d.]+)pt"', svg).group(1))
             for name, svg in (("wide", wide), ("narrow", narrow))}
    assert width["narrow"] < 0.7 * width["wide"], width
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", narrow)]  # SVG px = pt here
    assert sizes and min(sizes) >= NARROW_MIN_PT, sizes


def test_callout_is_styled_with_title(book):
    callout = soup(book, "chapters/one.html").select_one("div.callout.callout-warning")
    assert callout.select_one(".callout-title").get_text() == "Careful"


def test_navigation_prev_next_and_sidebar(book):
    page = soup(book, "chapters/one.html")
    assert page.find("a", rel="prev")["href"] == "../index.html"
    assert page.find("a", rel="next")["href"] == "two.html"
    assert [a.get_text(" ", strip=True) for a in page.select("nav.sidebar a")] == ["Welcome", "1 One", "2 Two", "Claims ledger",
                                                                              "Data", "Reviewer notes", "Search"]
    assert page.select_one("a.pdf-link")["href"] == "../mini.pdf"


def test_pdf_has_resolved_references_and_numbers(book):
    text = " ".join(p.extract_text() for p in PdfReader(book.site_dir / "mini.pdf").pages)
    text = " ".join(text.split())
    assert "Alpha total is 3,500; see Figure 1.1 and Table 1.1" in text
    assert "Back to Section 1.1 and Figure 1.1" in text
    assert "Figure 1.1: Bars of alpha." in text and "Table 1.1: A small table" in text
    assert "Careful" in text
    assert "@fig" not in text and "{{<" not in text


@pytest.mark.parametrize("chapter, message", [
    ("# X\n\n{{< var nope.missing >}}\n", "chapters/one.qmd:3: unknown fact 'nope.missing'"),
    ("# X\n\nline\n{{< embed x.ipynb#fig-a >}}\n", "chapters/one.qmd:4: shortcode 'embed' is not supported"),
    ("# X\n\n![Cap](../figures/none.svg){#fig-x}\n", "has no fig-alt"),
    ("# X\n\nSee @tbl-ghost.\n", "@tbl-ghost refers to nothing"),
    ("# X {#sec-a}\n\n## Y {#sec-a}\n", "'sec-a' is defined twice"),
    ("# X\n\n{{< fact alpha.total fmt=words >}}\n",
     "chapters/one.qmd:3: fact 'alpha.total' (value 3500) has no fmt=words form"),
    ("# X\n\n{{< fact alpha.rows fmt=roman >}}\n", "chapters/one.qmd:3: 'fmt=roman' is not an option"),
    ("# X\n\n{{< var alpha.rows fmt=words >}}\n", "chapters/one.qmd:3: 'fmt=words' is not an option of {{< var >}}"),
])
def test_unsupported_or_broken_syntax_fails_loudly(tmp_path, chapter, message):
    project = load_project(make_mini_project(tmp_path / "bad", {"one": chapter}))
    with pytest.raises(Exception) as info:
        build(project)
    assert message in str(info.value)


def test_fact_in_words(tmp_path):
    """`{{< fact key fmt=words >}}` prints a small whole number in words,
    linked to the ledger like any printed fact, in the HTML and the PDF."""
    project = load_project(make_mini_project(tmp_path / "words", {
        "one": "# One {#sec-one}\n\nAlpha has {{< fact alpha.rows fmt=words >}} rows "
               "({{< fact alpha.rows >}}).\n"}))
    build(project)
    soup = BeautifulSoup((project.site_dir / "chapters/one.html").read_text(), "html.parser")
    facts = [(a["data-key"], a.get_text()) for a in soup.select("main a.fact")]
    assert facts == [("alpha.rows", "two"), ("alpha.rows", "2")]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(project.site_dir / "mini.pdf").pages).split())
    assert "Alpha has two rows (2)" in text

