"""Incremental builds give the bytes a clean build gives (issue 13): after
no change, a prose edit, a changed fact, a changed raw file. Each
incremental build reuses the project's cache (notebook results, pandoc runs,
font subsets, Typst PDFs, validations); the clean build starts from a fresh
copy with no cache. Real builds of the mini project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reprobook import memo
from reprobook.build import build
from reprobook.incremental import site_files
from reprobook.project import load_project
from reprobook.validate import rehash


def clean_build_of(project, tmp_path: Path) -> dict[str, str]:
    """The same sources built from scratch in a fresh folder."""
    copy = tmp_path / "clean"
    shutil.copytree(project.root, copy, ignore=shutil.ignore_patterns(".reprobook", "_site"))
    fresh = load_project(copy)
    build(fresh)
    return site_files(fresh.site_dir)


def test_nothing_changed_means_nothing_done(mini):
    build(mini)
    before = site_files(mini.site_dir)
    result = build(mini)
    assert result.unchanged and result.plan == []
    assert site_files(mini.site_dir) == before
    assert result.pdf is not None and result.pdf.is_file()


def test_a_tampered_site_is_rebuilt_not_trusted(mini):
    build(mini)
    before = site_files(mini.site_dir)
    page = mini.site_dir / "chapters/one.html"
    page.write_text(page.read_text().replace("3,500", "9,999"))
    result = build(mini)
    assert not result.unchanged
    assert site_files(mini.site_dir) == before


@pytest.mark.parametrize("change", ["prose", "fact", "raw"])
def test_incremental_build_equals_clean_build(mini, tmp_path, change):
    build(mini)
    if change == "prose":
        chapter = mini.root / "chapters/two.qmd"
        chapter.write_text(chapter.read_text().replace("Beta has", "Beta, the smaller file, has"))
    elif change == "fact":  # the notebook prints a fact differently
        import nbformat

        path = mini.root / "notebooks/a.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells[1].source = nb.cells[1].source.replace("fmt='{:,}'", "fmt='{:_}'")
        nbformat.write(nb, path)
    else:  # a raw file changes (deliberately: rehashed)
        (mini.root / "data/raw/alpha.csv").write_text("id,amount\n1,1000\n2,2500\n3,40\n")
        rehash(mini)
    result = build(mini)
    assert not result.unchanged
    incremental = site_files(mini.site_dir)
    assert incremental == clean_build_of(mini, tmp_path)
    one = (mini.site_dir / "chapters/one.html").read_text()
    assert {"prose": "3,500", "fact": "3_500", "raw": "3,540"}[change] in one


@pytest.mark.parametrize("change", ["prose", "fact"])
def test_only_the_pages_that_changed_are_rendered_again(mini, change):
    """A prose edit re-renders its chapter's page alone; a fact printed
    differently re-renders the pages that print it (its chapter, the
    ledger), not the other chapter. Every page rendered again must be one
    whose published bytes changed, and the PDF is rebuilt from the one
    chapter converted again."""
    build(mini)
    before = site_files(mini.site_dir)
    if change == "prose":
        chapter = mini.root / "chapters/two.qmd"
        chapter.write_text(chapter.read_text().replace("Beta has", "Beta, the smaller file, has"))
    else:  # alpha.total, printed in chapter one only, changes its format
        import nbformat

        path = mini.root / "notebooks/a.ipynb"
        nb = nbformat.read(path, as_version=4)
        nb.cells[1].source = nb.cells[1].source.replace("fmt='{:,}'", "fmt='{:_}'")
        nbformat.write(nb, path)
    result = build(mini)
    after = site_files(mini.site_dir)
    changed = {name for name in after if before.get(name) != after[name]}
    pages = set(result.recomputed.get("HTML pages", []))
    edited = {"prose": "chapters/two.html", "fact": "chapters/one.html"}[change]
    untouched = {"prose": "chapters/one.html", "fact": "chapters/two.html"}[change]
    assert edited in pages and untouched not in pages, result.recomputed
    assert pages <= changed, f"rendered again but unchanged: {sorted(pages - changed)}"
    if change == "prose":
        # The ledger quotes the sentence around each printed number, and the
        # edit is in such a sentence; the data page prints the replication
        # package's size and sha256, and the package holds the chapter.
        # No other page depends on it.
        assert pages == {edited, "claims.html", "data.html"}, result.recomputed
        assert result.recomputed["PDF chapters"] == ["chapters/two.qmd"], result.recomputed


class Collect:
    def __init__(self):
        self.lines: list[str] = []

    def step(self, message):
        self.lines.append(message)

    done = step


def test_a_prose_edit_reuses_the_notebook_pages(mini):
    """A prose edit changes no notebook: each notebook's page (nbconvert,
    the slowest step of staging) and the image previews are reused, and the
    edited chapter's pandoc run is the one recomputed."""
    build(mini)
    chapter = mini.root / "chapters/two.qmd"
    chapter.write_text(chapter.read_text().replace("Beta has", "Beta, the smaller file, has"))
    reporter = Collect()
    build(mini, reporter)
    summary = next(line for line in reporter.lines if line.startswith("reused from the cache"))
    assert "notebook-page 2 reused / 2" in summary, summary
    # And a changed notebook is converted again.
    import nbformat

    path = mini.root / "notebooks/a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("fmt='{:,}'", "fmt='{:_}'")
    nbformat.write(nb, path)
    reporter = Collect()
    build(mini, reporter)
    summary = next(line for line in reporter.lines if line.startswith("reused from the cache"))
    assert "notebook-page 1 reused / 2" in summary, summary


def test_a_corrupted_cache_entry_is_recomputed(mini, tmp_path):
    build(mini)
    store = mini.work_dir / "cache" / "memo"
    entries = [p for p in (store / "pandoc").rglob("*") if p.is_file()]
    assert entries
    for entry in entries:  # every stored pandoc result damaged (a partial write)
        entry.write_bytes(entry.read_bytes()[: len(entry.read_bytes()) // 2])
    chapter = mini.root / "chapters/two.qmd"
    chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")
    build(mini)
    assert site_files(mini.site_dir) == clean_build_of(mini, tmp_path)


def test_memo_store_rejects_damaged_bytes(tmp_path):
    store = memo.Memo(tmp_path)
    store.put("kind", "ab" * 32, b"result")
    assert store.get("kind", "ab" * 32) == b"result"
    path = tmp_path / "kind" / "ab" / ("ab" * 32)
    path.write_bytes(path.read_bytes().replace(b"result", b"resulT"))
    assert store.get("kind", "ab" * 32) is None and not path.exists()
