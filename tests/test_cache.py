"""The execution cache: content hashes decide what re-executes."""

from __future__ import annotations

import os

from reprobook.build import build, check
from reprobook.execute import plan
from reprobook.validate import rehash


def test_second_build_executes_nothing(mini):
    first = build(mini)
    assert sorted(first.executed) == ["a", "b"]
    second = build(mini)
    assert second.executed == []
    # The no-op rebuild stops before planning (incremental builds); the
    # notebook stage itself reuses both cached results.
    assert sorted(check(mini).cached) == ["a", "b"]


def test_changed_raw_file_reexecutes_exactly_its_notebooks(mini):
    build(mini)
    path = mini.root / "data/raw/alpha.csv"
    path.write_text(path.read_text() + "3,500\n")
    rehash(mini)
    runs = {r.spec.name: r for r in plan(mini)}
    assert runs["a"].reasons == ["input 'alpha' changed"]
    assert not runs["b"].needed
    result = build(mini)
    assert result.executed == ["a"]
    assert result.facts["alpha.total"]["text"] == "4,000"


def test_touching_without_change_reexecutes_nothing(mini):
    build(mini)
    path = mini.root / "data/raw/beta.csv"
    os.utime(path, (1, 1))  # a new mtime, same bytes
    assert build(mini).executed == []


def test_changed_notebook_source_reexecutes_it(mini):
    import nbformat

    build(mini)
    path = mini.root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = "x = 1  # changed"
    nbformat.write(nb, path)
    assert build(mini).executed == ["b"]


def test_changed_imported_package_reexecutes_its_importers(mini):
    (mini.root / "analysis").mkdir()
    (mini.root / "analysis/__init__.py").write_text("VALUE = 1\n")
    config = mini.root / "reprobook.yml"
    config.write_text(config.read_text().replace("inputs: [alpha]", "inputs: [alpha]\n    imports: [analysis]"))
    from reprobook.project import load_project

    project = load_project(mini.root)
    build(project)
    (mini.root / "analysis/__init__.py").write_text("VALUE = 2\n")
    runs = {r.spec.name: r for r in plan(project)}
    assert runs["a"].reasons == ["analysis package 'analysis' changed"]
    assert build(project).executed == ["a"]


def test_saving_outputs_in_the_notebook_does_not_invalidate(mini):
    """Outputs and metadata are not source: a notebook saved after a run in
    JupyterLab keeps its cache."""
    import nbformat

    build(mini)
    path = mini.root / "notebooks/a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hello")]
    nb.cells[0].execution_count = 7
    nb.metadata["widgets"] = {"x": 1}
    nbformat.write(nb, path)
    assert build(mini).executed == []


def test_every_engine_file_in_the_key_exists():
    """A renamed engine file must not silently drop out of every cache key."""
    from reprobook.pipeline.cache import ENGINE_ROOT, NOTEBOOK_ENGINE_FILES

    assert [n for n in NOTEBOOK_ENGINE_FILES if not (ENGINE_ROOT / n).is_file()] == []


# ------------------------------------------------- the cache trusts a record, not itself
def _edit_prose(mini):
    """A change that makes the next build plan again (an unchanged tree
    stops at the no-op check, before any cache entry is read)."""
    chapter = mini.root / "chapters/two.qmd"
    chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")


def test_a_fact_edited_inside_the_cache_is_recomputed_not_published(mini):
    import json

    from reprobook.layout import cache_dir

    first = build(mini)
    assert first.facts["alpha.total"]["text"] == "3,500"
    facts_file = cache_dir(mini, "a") / "outputs" / "facts.json"
    text = facts_file.read_text()
    assert "3,500" in text
    facts_file.write_text(text.replace("3,500", "5,300"))
    _edit_prose(mini)
    runs = {r.spec.name: r for r in plan(mini)}
    assert runs["a"].reasons == ["cached files changed since the run that made them: outputs/facts.json"]
    assert not runs["b"].needed
    result = build(mini)
    assert result.executed == ["a"]
    published = json.loads((result.output_dir / "facts.json").read_text())
    assert "5,300" not in json.dumps(published) and "3,500" in json.dumps(published)
    assert "5,300" not in (result.output_dir / "chapters/one.html").read_text()


def test_a_deleted_executed_notebook_is_recomputed(mini):
    from reprobook.layout import cache_dir

    build(mini)
    (cache_dir(mini, "b") / "executed.ipynb").unlink()
    _edit_prose(mini)
    runs = {r.spec.name: r for r in plan(mini)}
    assert runs["b"].reasons == ["cached files changed since the run that made them: executed.ipynb"]
    result = build(mini)
    assert result.executed == ["b"]
    assert (result.output_dir / "notebooks/b.html").is_file()


def test_a_memo_entry_edited_with_its_own_checksum_recomputed_is_not_used(mini):
    """The renderer's memo: an HTML result edited, its sha256 header made
    to match again, is rejected (the entries carry an HMAC under a secret
    kept outside them) and the page is rendered afresh."""
    import hashlib

    first = build(mini)
    page = first.output_dir / "chapters/one.html"
    assert "3,500" in page.read_text()
    edited = 0
    for entry in (mini.work_dir / "cache/memo/pandoc").rglob("*"):
        if not entry.is_file():
            continue
        header, _, data = entry.read_bytes().partition(b"\n")
        if b"3,500" in data and b"Alpha total" in data:
            data = data.replace(b"3,500", b"9,999")
            entry.write_bytes(hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
            edited += 1
    assert edited
    _edit_prose(mini)
    lines = []

    class Lines:
        def __getattr__(self, name):
            return lambda *args, **kwargs: lines.append(" ".join(map(str, args)))

    result = build(mini, reporter=Lines())
    assert "9,999" not in page.read_text() and "3,500" in page.read_text()
    assert any("damaged or edited entries recomputed: pandoc" in line for line in lines), lines
    assert result.recomputed
