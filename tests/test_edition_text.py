"""Per-edition text inside a chapter (Quarto's `when-profile` /
`unless-profile` conditions) and the prose part of "What changed", on a
two-edition mini book built once with the built-in renderer."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook.build import build
from reprobook.project import load_project

from .conftest import ROOT, make_mini_project, quarto_binaries

EDITIONS = textwrap.dedent("""\
    editions:
      - number: "1.0"
        date: "2024-01-02"
        title: "Mini, first edition"
        status: superseded
        summary: "The fixture book."
        profile: null
      - number: "1.1"
        date: "2024-06-02"
        title: "Mini, second edition"
        status: current
        summary: "The fixture book again."
        profile: "1.1"
    """)

ONE = textwrap.dedent("""\
    # One {#sec-one}

    Alpha total is {{< fact alpha.total >}}.

    A paragraph both editions print.

    ::: {.content-visible when-profile="1.1"}
    Added in the second edition, with beta at {{< fact beta.rows >}} row.
    :::

    ::: {.content-hidden when-profile="1.1"}
    Printed in the first edition only.
    :::

    ::: {.content-hidden when-profile="1.1"}
    The mines were counted once, in May 2024.
    :::

    ::: {.content-visible when-profile="1.1"}
    The mines were counted once, in June 2024.
    :::

    ::: {.content-visible unless-profile="1.1" when-format="html"}
    First edition, web page only.
    :::
    """)


def make_two_edition_book(root: Path) -> Path:
    """Notebook b (beta's facts) runs in edition 1.1 only, so the 1.1 text
    prints a fact edition 1.0 does not have."""
    make_mini_project(root, {"one": ONE, "two": "# Two {#sec-two}\n\nSee @sec-one.\n"})
    engine = root / "reprobook.yml"
    engine.write_text(engine.read_text().replace(
        "  - path: notebooks/b.ipynb\n    inputs: [beta]\n", ""))
    (root / "reprobook-1.1.yml").write_text(
        "notebooks:\n  - path: notebooks/b.ipynb\n    inputs: [beta]\n")
    (root / "_quarto-1.1.yml").write_text('book:\n  date: "2024-06-02"\n')
    (root / "editions.yml").write_text(EDITIONS)
    return root


@pytest.fixture(scope="module")
def two_editions(tmp_path_factory) -> Path:
    root = make_two_edition_book(tmp_path_factory.mktemp("text") / "mini")
    build(load_project(root), renderer="builtin")
    return root / "_site"


def page_text(path: Path) -> str:
    return " ".join(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
                    .select_one("main").get_text(" ").split())


def pdf_text(folder: Path) -> str:
    [pdf] = folder.glob("*.pdf")
    return " ".join("".join(p.extract_text() for p in PdfReader(pdf).pages).split())


def test_when_profile_text_appears_only_in_its_edition(two_editions):
    first, second = (page_text(two_editions / n / "chapters/one.html") for n in ("1.0", "1.1"))
    assert "Printed in the first edition only." in first
    assert "First edition, web page only." in first
    assert "Added in the second edition" not in first
    assert "Added in the second edition, with beta at 1 row." in second
    assert "first edition" not in second.lower()
    first_pdf, second_pdf = pdf_text(two_editions / "1.0"), pdf_text(two_editions / "1.1")
    assert "Printed in the first edition only." in first_pdf
    assert "web page only" not in first_pdf  # when-format="html" still applies
    assert "Added in the second edition" not in first_pdf
    assert "Added in the second edition, with beta at 1 row." in second_pdf
    assert "first edition only" not in second_pdf


def test_changes_page_lists_prose_changes_per_chapter(two_editions):
    soup = BeautifulSoup((two_editions / "1.1/changes.html").read_text(encoding="utf-8"),
                         "html.parser")
    summary = soup.select_one(".changes-summary").get_text()
    assert summary.startswith("Compared with edition 1.0, edition 1.1 adds two numbers and one "
                              "paragraph, rewords one paragraph and removes two paragraphs."), summary
    assert "nothing was removed" not in summary
    heading = soup.find("h2", string="Text")
    assert heading is not None
    chapter = heading.find_next("h3")
    assert chapter.a["href"] == "chapters/one.html"
    items = [" ".join(li.get_text(" ").split()) for li in chapter.find_next("ul").select("li")]
    assert items == ["reworded: The mines were counted once, in May 2024. "
                     "The mines were counted once, in June 2024.",
                     "removed: Printed in the first edition only.",
                     "removed: First edition, web page only.",
                     "added: Added in the second edition, with beta at 1 row."], items
    assert chapter.find_next("ul").select_one("li.reworded del").get_text() == \
        "The mines were counted once, in May 2024."


def test_a_profile_condition_on_a_div_without_one_says_what_works(tmp_path):
    from reprobook.errors import RenderError

    root = make_mini_project(tmp_path / "mini", {
        "two": "# Two\n\n::: {.content-visible when-meta=\"draft\"}\nx\n:::\n"})
    with pytest.raises(RenderError, match="when-profile"):
        build(load_project(root), renderer="builtin")


QUARTOS = quarto_binaries()


@pytest.mark.skipif(not QUARTOS and os.environ.get("CI") != "true", reason="no real Quarto")
def test_when_profile_text_under_real_quarto(tmp_path):
    """Quarto settles when-profile itself; the engine renders with
    `--profile <edition>,reprobook`, which must not hide or show the wrong
    text. One Quarto version (the first listed) is enough."""
    assert QUARTOS, "CI=true needs real Quarto (./run test installs it)"
    binary = QUARTOS[0]
    root = make_two_edition_book(tmp_path / "book")
    shutil.copytree(ROOT / "_extensions", root / "_extensions")
    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace('  title: "Mini"', '  title: "Mini"\n  author: "Fixture"')
                      + "filters:\n  - reprobook\n")
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(binary).parent}{os.pathsep}{old_path}"
    try:
        build(load_project(root), renderer="quarto")
    finally:
        os.environ["PATH"] = old_path
    site = root / "_site"
    first, second = (page_text(site / n / "chapters/one.html") for n in ("1.0", "1.1"))
    assert "Printed in the first edition only." in first
    assert "Added in the second edition" not in first
    assert "Added in the second edition, with beta at 1 row." in second
    assert "first edition only" not in second
    first_pdf, second_pdf = pdf_text(site / "1.0"), pdf_text(site / "1.1")
    assert "Printed in the first edition only." in first_pdf
    assert "Added in the second edition" not in first_pdf
    assert "Added in the second edition, with beta at 1 row." in second_pdf
