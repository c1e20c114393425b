"""The engine's configuration files are checked before anything runs: a typo
or a wrongly typed value is one clear error naming the key (issue 10); a
notebook cell that runs too long stops the build naming the notebook."""

from __future__ import annotations

import nbformat
import pytest
from click.testing import CliRunner

from reprobook.build import build
from reprobook.cli import main
from reprobook.errors import ConfigError, NotebookError
from reprobook.project import load_project


@pytest.mark.parametrize("edit, message", [
    (("highlights:", "higlights:"), "reprobook.yml: unknown key 'higlights' (did you mean 'highlights'?)"),
    (("    outputs:", "    output:"), "notebooks[0]: unknown key 'output' (did you mean 'outputs'?)"),
    (("pdf: mini.pdf", "pdf: [mini.pdf]"), "reprobook.yml: pdf: expected text"),
])
def test_engine_config_typos_are_errors(tmp_path, edit, message):
    from .conftest import make_mini_project

    root = make_mini_project(tmp_path / "mini")
    config = root / "reprobook.yml"
    text = config.read_text().replace("pdf: mini.pdf", "pdf: mini.pdf\nhighlights: []")
    text = text.replace("inputs: [alpha]", "inputs: [alpha]\n    outputs: []", 1)
    old, new = edit
    assert old in text
    config.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert message in str(info.value)
    result = CliRunner().invoke(main, ["build", "--root", str(root)])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_editions_registry_typo_is_an_error(tmp_path):
    from reprobook.editions import load_editions

    (tmp_path / "editions.yml").write_text(
        "editions:\n  - number: '1.0'\n    date: '2025-01-01'\n    title: T\n    status: current\n"
        "    summary: S\n    pin: {}\n")
    with pytest.raises(ConfigError, match=r"editions.yml: editions\[0\]: unknown key 'pin' \(did you mean 'pins'\?\)"):
        load_editions(tmp_path)


def test_cell_timeout_stops_the_build_with_the_notebook_named(mini):
    path = mini.root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = "import time\ntime.sleep(30)"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match=r"notebooks/b.ipynb: a cell ran longer than its timeout of 2 s"):
        build(mini, timeout=2)
