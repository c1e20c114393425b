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
