"""Shared fixtures. Builds are real (real kernel, pandoc, Typst) and run in
temporary copies of the project, so tests never touch the working tree."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from reprobook.build import build
from reprobook.project import load_project
from reprobook.validate import rehash

ROOT = Path(__file__).resolve().parent.parent

# The suite builds with the built-in renderer; tests/test_quarto.py puts a
# real Quarto on PATH itself. A developer's own `quarto` must not switch
# every other test to Quarto.
_QUARTO_ON_PATH = shutil.which("quarto")
os.environ["PATH"] = os.pathsep.join(
    d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "quarto").exists())


def quarto_binaries() -> list[str]:
    """Real Quarto CLIs to test with: REPROBOOK_TEST_QUARTO (set by
    `./run test` from ../shared/tools/quarto), else the `quarto` that was on PATH before the suite removed it."""
    listed = [b for b in os.environ.get("REPROBOOK_TEST_QUARTO", "").split(":") if b]
    if not listed and _QUARTO_ON_PATH:
        listed = [_QUARTO_ON_PATH]
    return listed


def copy_project(dest: Path) -> Path:
    """A clean copy of this repository's source, as a fresh clone has it."""
    from reprobook.verify import copy_source

    return copy_source(load_project(ROOT), dest)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The real publication, built once from a clean copy."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    project = load_project(root)
    result = build(project)
    return project, result


@pytest.fixture
def project_copy(tmp_path):
    return load_project(copy_project(tmp_path / "project"))


# ---------------------------------------------------------------- mini project
NOTEBOOK_CELLS = [
    "from reprobook.notebook import Step\nstep = Step('{name}')\ndf = step.read_csv('{resource}')",
    "step.fact('{prefix}.total', int(df.amount.sum()), unit='things', fmt='{{:,}}')\n"
    "step.fact('{prefix}.rows', len(df), unit='rows')",
    "{extra}",
    "step.finish()",
]


def write_notebook(path: Path, name: str, resource: str, prefix: str, extra: str = "pass") -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell(c.format(name=name, resource=resource, prefix=prefix, extra=extra))
             for c in NOTEBOOK_CELLS]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "language": "python",
                                                            "display_name": "Python 3"}})
    nbformat.write(nb, path)


def make_mini_project(root: Path, chapters: dict[str, str] | None = None) -> Path:
    """A tiny synthetic book (a test fixture, never published): two data
    files, two independent notebooks, two chapters."""
    (root / "data/raw").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "chapters").mkdir()
    (root / "figures").mkdir()
    (root / "data/raw/alpha.csv").write_text("id,amount\n1,1000\n2,2500\n")
    (root / "data/raw/beta.csv").write_text("id,amount\n1,7\n")
    field = {"fields": [{"name": "id", "type": "integer", "unit": "id", "constraints": {"required": True}},
                        {"name": "amount", "type": "integer", "unit": "things",
                         "constraints": {"required": True, "minimum": 0}}],
             "primaryKey": ["id"]}
    resources = [{"name": n, "path": f"{n}.csv", "title": n, "description": f"fixture {n}",
                  "format": "csv", "encoding": "utf-8", "hash": "sha256:", "schema": field,
                  "sources": [{"title": "test fixture"}]} for n in ("alpha", "beta")]
    (root / "data/raw/datapackage.json").write_text(json.dumps(
        {"name": "mini", "licenses": [{"name": "CC0-1.0"}], "resources": resources}, indent=2))
    write_notebook(root / "notebooks/a.ipynb", "a", "alpha", "alpha")
    write_notebook(root / "notebooks/b.ipynb", "b", "beta", "beta")
    (root / "_quarto.yml").write_text(textwrap.dedent("""\
        project:
          type: book
          output-dir: _site
        book:
          title: "Mini"
          date: "2024-01-02"
          chapters:
            - index.qmd
            - chapters/one.qmd
            - chapters/two.qmd
        format:
          html: {}
          typst: {}
        """))
    (root / "reprobook.yml").write_text(textwrap.dedent("""\
        datapackage: data/raw/datapackage.json
        notebooks:
          - path: notebooks/a.ipynb
            inputs: [alpha]
          - path: notebooks/b.ipynb
            inputs: [beta]
        pdf: mini.pdf
        """))
    chapters = chapters or {}
    (root / "index.qmd").write_text(chapters.get("index", "---\ntitle: Welcome\n---\n\nHello.\n"))
    (root / "chapters/one.qmd").write_text(chapters.get(
        "one", "# One {#sec-one}\n\nAlpha total is {{< fact alpha.total >}}.\n"))
    (root / "chapters/two.qmd").write_text(chapters.get(
        "two", "# Two {#sec-two}\n\nBeta has {{< fact beta.rows >}} row, see @sec-one.\n"))
    rehash(load_project(root))
    return root


# The mini book's registry with one published edition.
ONE_EDITION = textwrap.dedent("""\
    editions:
      - number: "1.0"
        date: "2024-01-02"
        title: "Mini, first edition"
        status: current
        summary: "The fixture book."
        profile: null
    """)


@pytest.fixture
def mini(tmp_path):
    return load_project(make_mini_project(tmp_path / "mini"))


@pytest.fixture(scope="session")
def built_site(built) -> Path:
    """The built publication's newest edition folder (its index.html, PDF...)."""
    _, result = built
    return result.output_dir


@pytest.fixture(scope="session")
def shared_chromium():
    """One Playwright and one headless Chromium for the whole session, as
    (browser, None) or (None, why not): two sync Playwright instances cannot
    live in one thread, and tests/browser/ and test_page_safety.py both
    need one."""
    from .browser.browser import CHROMIUM, CHROMIUM_ARGS

    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        yield None, f"Chromium not found at {CHROMIUM}"
        return
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        yield None, "the playwright package is not installed"
        return
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception as exc:  # noqa: BLE001 - any launch problem means no browser
        pw.stop()
        yield None, f"Chromium did not start: {exc}"
        return
    yield chromium, None
    chromium.close()
    pw.stop()
