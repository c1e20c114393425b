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

    Alpha total is {{< var alpha.total >}}; see @fig-bars and @tbl-small.

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
TWO = "# Two {#sec-two}\n\nBack to @sec-detail and @fig-bars; beta has {{< var beta.rows >}} row.\n"


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
    assert links == {"Figure 1": "#fig-bars", "Table 1": "#tbl-small"}
    links = {a.get_text(): a["href"] for a in two.select("a.xref")}
    assert links == {"Section 1.1": "one.html#sec-detail", "Figure 1": "one.html#fig-bars"}
    assert one.find("figure", id="fig-bars").figcaption.get_text().startswith("Figure 1:")
    assert one.find("table", id="tbl-small").caption.get_text().startswith("Table 1:")


def test_fig_alt_becomes_the_image_alt_with_facts_substituted(book):
    img = soup(book, "chapters/one.html").find("figure", id="fig-bars").img
    assert img["alt"] == "Bars for 2 rows"


def test_figure_links_its_data(book):
    link = soup(book, "chapters/one.html").select_one("figure a.figure-data")
    assert link["href"] == "../figures/bars.csv"
    assert (book.site_dir / "figures/bars.csv").is_file()


def test_callout_is_styled_with_title(book):
    callout = soup(book, "chapters/one.html").select_one("div.callout.callout-warning")
    assert callout.select_one(".callout-title").get_text() == "Careful"


def test_navigation_prev_next_and_sidebar(book):
    page = soup(book, "chapters/one.html")
    assert page.find("a", rel="prev")["href"] == "../index.html"
    assert page.find("a", rel="next")["href"] == "two.html"
    assert [a.get_text(" ", strip=True) for a in page.select("nav.sidebar a")] == ["Welcome", "1 One", "2 Two", "Claims ledger",
                                                                              "Data", "Search"]
    assert page.select_one("a.pdf-link")["href"] == "../mini.pdf"


def test_pdf_has_resolved_references_and_numbers(book):
    text = " ".join(p.extract_text() for p in PdfReader(book.site_dir / "mini.pdf").pages)
    text = " ".join(text.split())
    assert "Alpha total is 3,500; see Figure 1 and Table 1" in text
    assert "Back to Section 1.1 and Figure 1" in text
    assert "Careful" in text
    assert "@fig" not in text and "{{<" not in text


@pytest.mark.parametrize("chapter, message", [
    ("# X\n\n{{< var nope.missing >}}\n", "chapters/one.qmd:3: unknown fact 'nope.missing'"),
    ("# X\n\nline\n{{< embed x.ipynb#fig-a >}}\n", "chapters/one.qmd:4: shortcode 'embed' is not supported"),
    ("# X\n\n![Cap](../figures/none.svg){#fig-x}\n", "has no fig-alt"),
    ("# X\n\nSee @tbl-ghost.\n", "@tbl-ghost refers to nothing"),
    ("# X {#sec-a}\n\n## Y {#sec-a}\n", "'sec-a' is defined twice"),
])
def test_unsupported_or_broken_syntax_fails_loudly(tmp_path, chapter, message):
    project = load_project(make_mini_project(tmp_path / "bad", {"one": chapter}))
    with pytest.raises(Exception) as info:
        build(project)
    assert message in str(info.value)


def test_uses_quarto_when_on_path(tmp_path, monkeypatch):
    """Where `quarto` is installed, the build hands rendering to it, after
    writing _variables.yml and figures/ for it to read."""
    project = load_project(make_mini_project(tmp_path / "q"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "quarto-args.txt"
    fake = bin_dir / "quarto"
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo "$@" >> {log}
        # a real quarto writes the site into --output-dir
        out=""; prev=""
        for a in "$@"; do [ "$prev" = "--output-dir" ] && out="$a"; prev="$a"; done
        mkdir -p "$out" && echo '<html>quarto</html>' > "$out/index.html"
        """))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = build(project)
    assert result.renderer == "quarto"
    calls = log.read_text().splitlines()
    assert calls[0].startswith(f"render {project.root} --output-dir ")
    assert "--version" in calls  # recorded in the build manifest
    assert "alpha:" in (project.root / "_variables.yml").read_text()
    assert (project.site_dir / "index.html").read_text().strip() == "<html>quarto</html>"


def test_quarto_failure_is_reported(tmp_path, monkeypatch):
    project = load_project(make_mini_project(tmp_path / "qf"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "quarto"
    fake.write_text("#!/bin/sh\necho 'ERROR: broken' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RenderError, match="quarto render failed"):
        build(project)
