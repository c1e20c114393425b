"""Issue 23, serious items 2 and 3: a notebook's declared outputs stay in the
folder the engine owns, and nothing published is a symbolic link. Real
configuration loads and real builds of the mini project."""

from __future__ import annotations

import nbformat
import pytest

from reprobook.build import build
from reprobook.errors import ConfigError
from reprobook.project import load_project

from .conftest import make_mini_project
from .test_editions import TWO_EDITIONS
from .test_security import assert_one_clear_message, edit, run_cli


@pytest.mark.parametrize("output", [
    "chapters/one.qmd", ".git/hooks/pre-commit", "data/raw/alpha.csv", "reprobook.yml",
    "_site/index.html", "notebooks/b.ipynb", "index.qmd", "figures", "figures/../chapters/x.qmd",
])
def test_an_output_outside_figures_is_refused_at_load(tmp_path, output):
    root = make_mini_project(tmp_path / "mini")
    (root / ".git/hooks").mkdir(parents=True)
    edit(root / "reprobook.yml", "inputs: [beta]", f"inputs: [beta]\n    outputs: [{output}]")
    with pytest.raises(ConfigError) as info:
        load_project(root)
    message = str(info.value)
    assert "notebooks[1].outputs" in message and output in message and "figures/" in message
    result = run_cli("check", "--root", root)
    assert_one_clear_message(result, "notebooks[1].outputs", "under figures/")


def test_outputs_under_figures_subfolders_are_accepted(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    edit(root / "reprobook.yml", "inputs: [beta]",
         "inputs: [beta]\n    outputs: [figures/a.svg, figures/sub/b.csv]")
    assert load_project(root).notebooks[1].outputs[:2] == ("figures/a.svg", "figures/sub/b.csv")


def test_an_output_made_a_symlink_is_refused_and_nothing_published(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-OUTSIDE-THE-PROJECT\n")
    root = make_mini_project(tmp_path / "mini")
    edit(root / "reprobook.yml", "inputs: [beta]", "inputs: [beta]\n    outputs: [figures/leak.txt]")
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = f"import os\nos.symlink({str(secret)!r}, step.output_path('figures/leak.txt'))"
    nbformat.write(nb, nb_path)
    result = run_cli("build", "--root", root, "--renderer", "builtin")
    assert_one_clear_message(result, "notebooks/b.ipynb", "symbolic links among its outputs",
                             "figures/leak.txt", "regular files")
    assert not (root / "_site").exists()
    assert not (root / "figures/leak.txt").exists()


def test_a_symlink_in_the_published_site_is_not_copied_by_an_edition_build(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-OUTSIDE-THE-PROJECT\n")
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(TWO_EDITIONS)
    build(load_project(root), renderer="builtin")
    (root / "_site/1.0/leak.txt").symlink_to(secret)
    result = run_cli("build", "--root", root, "--renderer", "builtin", "--edition", "1.1")
    assert_one_clear_message(result, "_site/1.0/leak.txt", "symbolic link", "regular files")
    # the published site is as it was: the link was not followed into a copy
    assert (root / "_site/1.0/leak.txt").is_symlink()
    assert not any("SECRET" in p.read_text(errors="replace") for p in (root / "_site").rglob("*")
                   if p.is_file() and not p.is_symlink() and p.suffix != ".pdf")


# Every route a notebook has to the project besides Python's open(): each
# is tried and its outcome recorded as a fact ("done" when it worked).
ROUTES = r'''
import ctypes, json, os, sqlite3, subprocess
root = step.project.root
raw = root / "data/raw"
results = {}

def attempt(name, action):
    try:
        action()
        results[name] = "done"
    except Exception as exc:  # what stopped it
        results[name] = type(exc).__name__

def c_open():
    fd = ctypes.CDLL(None, use_errno=True).open(bytes(raw / "alpha.csv"), 0)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "open")

attempt("shell writes a chapter", lambda: subprocess.run(
    ["sh", "-c", f"echo EVIL > {root}/chapters/one.qmd"], check=True))
attempt("shell writes the site", lambda: subprocess.run(
    ["sh", "-c", f"mkdir -p {root}/_site && echo EVIL > {root}/_site/evil.html"], check=True))
attempt("shell writes .git", lambda: subprocess.run(
    ["sh", "-c", f"mkdir -p {root}/.git/hooks && echo EVIL > {root}/.git/hooks/pre-commit"],
    check=True))
attempt("truncate", lambda: os.truncate(raw / "beta.csv", 0))
attempt("link", lambda: os.link(raw / "beta.csv", root / "chapters/hard.csv"))
attempt("symlink", lambda: os.symlink("/etc/passwd", root / "chapters/link.qmd"))
attempt("chmod", lambda: os.chmod(raw / "beta.csv", 0o777))
attempt("utime", lambda: os.utime(raw / "beta.csv", (0, 0)))
attempt("rmdir", lambda: os.rmdir(root / "chapters"))
attempt("sqlite3", lambda: sqlite3.connect(str(raw / "evil.db")).execute("create table t(x)"))
attempt("ctypes reads an undeclared file", c_open)
attempt("shell reads an undeclared file", lambda: subprocess.run(
    ["cat", str(raw / "alpha.csv")], check=True, capture_output=True))
step.fact("b.routes", json.dumps(results, sort_keys=True), unit="text")
'''


def _snapshot(root):
    """Every path of the project with its bytes, mode and mtime. .reprobook/
    is never entered: the build's detached `rm -rf` may still be emptying a
    trash-* folder there (a walk into it failed once with FileNotFoundError)."""
    import os
    from pathlib import Path

    paths = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".reprobook")
        paths += [Path(folder) / n for n in dirs + names]
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None,
                                       p.lstat().st_mode, p.lstat().st_mtime_ns)
            for p in sorted(paths)}


def test_a_notebook_sees_the_project_read_only_except_its_outputs(tmp_path):
    import json

    from reprobook.pipeline.runner import sandbox_available

    if not sandbox_available():
        pytest.skip("this system allows no user namespaces: the sandbox is off (a warning says so)")
    root = make_mini_project(tmp_path / "mini")
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = ROUTES
    nbformat.write(nb, nb_path)
    before = _snapshot(root)
    result = build(load_project(root), renderer="builtin")
    routes = json.loads(result.facts["b.routes"]["value"])
    assert [name for name, outcome in routes.items() if outcome == "done"] == [], routes
    assert len(routes) == 12
    after = {k: v for k, v in _snapshot(root).items()
             if not k.startswith(("_site", "figures/", "_extensions", "_variables.yml"))}
    assert after == {k: v for k, v in before.items() if not k.startswith("figures/")}
