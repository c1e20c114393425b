"""An existing Quarto book adopts the engine as it is (issue 20, item 4): a
book without notebooks or data needs no reprobook.yml and no data package;
the book `quarto create project book` writes builds unchanged with the
built-in renderer; under real Quarto, a LaTeX `format: pdf` without TeX
stops with the engine's message naming `format: typst`, and that advice
builds."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pypdf
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from reprobook.cli import main
from reprobook.render.quarto import tex_installed

from .conftest import make_mini_project, quarto_binaries


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback (most recent call last)" not in result.output, result.output
    return result


def digest(root: Path) -> dict[str, str]:
    """The book's own files (not the engine's .reprobook/, where a detached
    rm may still be deleting, nor the published _book/)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if Path(folder, d) not in (root / ".reprobook", root / "_book"))
        for name in files:
            path = Path(folder, name)
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def page_text(path: Path) -> str:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return " ".join((soup.find("main") or soup).get_text(" ").split())


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(path).pages)


# ------------------------------------------------- no reprobook.yml, no data
def test_a_book_without_notebooks_needs_no_engine_files(tmp_path):
    root = tmp_path / "book"
    root.mkdir()
    (root / "_quarto.yml").write_text(textwrap.dedent("""\
        project:
          type: book
        book:
          title: "Plain"
          chapters: [index.qmd, one.qmd]
        format:
          html: {}
          typst: {}
        """))
    (root / "index.qmd").write_text("# Preface {.unnumbered}\n\nA book with prose only.\n")
    (root / "one.qmd").write_text("# One\n\nNothing computed here.\n")
    before = digest(root)
    result = run_cli("build", "--root", str(root), "--renderer", "builtin")
    assert result.exit_code == 0, result.output
    assert "no data package (data/raw/datapackage.json): no raw data to validate" in result.output
    site = root / "_book"
    assert "Nothing computed here." in page_text(site / "one.html")
    assert "This book publishes no raw data" in page_text(site / "data.html")
    assert "Nothing computed here." in pdf_text(site / "book.pdf")
    assert not (root / "reprobook.yml").exists() and not (root / "data").exists()
    after = digest(root)
    assert {k: v for k, v in after.items() if k in before} == before


def test_notebook_inputs_without_a_data_package_say_what_to_write(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "data/raw/datapackage.json").unlink()
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert ("data descriptor data/raw/datapackage.json is missing, and notebooks/a.ipynb, "
            "notebooks/b.ipynb declare(s) inputs from it") in result.output
    assert "`reprobook data rehash`" in result.output


# ------------------------------------------------- Quarto's own starter book
def quarto_1_10() -> str | None:
    """Quarto 1.10.18 if the suite has it, else any real Quarto, else None."""
    binaries = quarto_binaries()
    return next((b for b in binaries if "1.10." in b), binaries[0] if binaries else None)


@pytest.fixture(scope="module")
def starter_book(tmp_path_factory) -> Path:
    """What `quarto create project book` writes, untouched (a fresh copy per
    test)."""
    quarto = quarto_1_10()
    if quarto is None:
        pytest.skip("no real Quarto: set REPROBOOK_TEST_QUARTO or put `quarto` on PATH")
    folder = tmp_path_factory.mktemp("quarto-create")
    proc = subprocess.run([quarto, "create", "project", "book", "mybook", "--no-open", "--no-prompt"],
                          cwd=folder, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    book = folder / "mybook"
    # what this test relies on Quarto writing
    config = (book / "_quarto.yml").read_text()
    assert "bibliography: references.bib" in config and "  pdf:\n" in config, config
    assert "@knuth84" in (book / "intro.qmd").read_text()
    assert "::: {#refs}" in (book / "references.qmd").read_text()
    return book


def test_quarto_starter_book_builds_unchanged_with_the_builtin_renderer(starter_book, tmp_path):
    root = Path(shutil.copytree(starter_book, tmp_path / "mybook"))
    before = digest(root)
    result = run_cli("build", "--root", str(root), "--renderer", "builtin")
    assert result.exit_code == 0, result.output
    # `format: pdf` (LaTeX) is made with Typst, and the build says so
    assert "format: pdf: the built-in renderer makes the PDF with Typst" in result.output
    after = digest(root)
    assert {k: v for k, v in after.items() if k in before} == before  # Quarto's files untouched
    site = root / "_book"
    # cited in a chapter (BibTeX), listed on the references page
    intro = BeautifulSoup((site / "intro.html").read_text(encoding="utf-8"), "html.parser")
    cite = intro.find("a", href=lambda h: h and "ref-knuth84" in h)
    assert cite is not None and "Knuth" in cite.parent.get_text(), intro.find("main")
    assert "Literate Programming" in page_text(site / "references.html")
    text = pdf_text(site / "book.pdf")
    assert "See Knuth (1984)" in text
    assert "Literate Programming" in text[text.rindex("References"):]


def test_latex_pdf_under_quarto_without_tex_names_typst(starter_book, tmp_path, monkeypatch):
    """Quarto on PATH, the starter book's `format: pdf` and no TeX: the
    engine's message (not Quarto's), before anything runs; its advice,
    `typst:` in place of `pdf:`, then builds with Quarto."""
    quarto = quarto_1_10()
    monkeypatch.setenv("PATH", f"{Path(quarto).parent}{os.pathsep}{os.environ['PATH']}")
    if tex_installed({}):
        pytest.skip("TeX is installed here: Quarto would make the LaTeX PDF")
    root = Path(shutil.copytree(starter_book, tmp_path / "mybook"))
    result = run_cli("build", "--root", str(root))
    assert result.exit_code == 1
    assert ("_quarto.yml asks Quarto for `format: pdf`, a PDF made with LaTeX, and no TeX "
            "installation was found") in result.output
    assert ("This engine makes its PDFs with Typst, which needs no TeX: replace `pdf:` with "
            "`typst:` under `format:` in _quarto.yml") in result.output
    assert "--renderer builtin" in result.output
    assert "No TeX installation was detected" not in result.output
    assert not (root / ".reprobook/cache").exists()  # stopped before any work

    config = root / "_quarto.yml"
    config.write_text(config.read_text().replace("  pdf:\n    documentclass: scrreprt\n",
                                                 "  typst: {}\n"))
    result = run_cli("build", "--root", str(root))
    assert result.exit_code == 0, result.output
    assert "render with Quarto" in result.output
    assert "Literate Programming" in pdf_text(root / "_book/book.pdf")


def test_latex_pdf_beside_typst_without_tex_says_to_drop_pdf(tmp_path):
    """`pdf:` and `typst:` both: the fix is to drop `pdf:`. Checked before
    Quarto runs, so no Quarto is needed to see it."""
    if tex_installed({}):
        pytest.skip("TeX is installed here: Quarto would make the LaTeX PDF")
    root = tmp_path / "book"
    root.mkdir()
    (root / "_quarto.yml").write_text(
        "project:\n  type: book\nbook:\n  title: Both\n  chapters: [index.qmd]\n"
        "format:\n  html: {}\n  pdf: {}\n  typst: {}\n")
    (root / "index.qmd").write_text("# Preface\n\nText.\n")
    result = run_cli("build", "--root", str(root), "--renderer", "quarto")
    assert result.exit_code == 1
    assert ("This engine makes its PDFs with Typst, which needs no TeX: remove `pdf:` from "
            "`format:` in _quarto.yml: its `typst:` already makes the PDF") in result.output
    assert not (root / "_book").exists()
