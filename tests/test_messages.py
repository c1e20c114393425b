"""Messages that say what to do (issue 20, item 5): each produced by a real
bad input in a mini project, read as the author reads it, from the command
line (`reprobook check`), with real kernels."""

from __future__ import annotations

import nbformat
import pytest
from click.testing import CliRunner

from reprobook.cli import main

from .conftest import make_mini_project


def run_cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback (most recent call last)" not in result.output, result.output
    return result


def set_cell(root, source: str, index: int = 2) -> None:
    """Notebook b's cell `index` becomes `source`; notebook a, whose run
    these tests do not need, leaves the plan (one kernel, not two)."""
    yml = root / "reprobook.yml"
    yml.write_text(yml.read_text().replace("  - path: notebooks/a.ipynb\n    inputs: [alpha]\n", ""))
    path = root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[index].source = source
    nbformat.write(nb, path)


def declare_outputs(root, *outputs: str) -> None:
    yml = root / "reprobook.yml"
    listed = ", ".join(outputs)
    yml.write_text(yml.read_text().replace(
        "inputs: [beta]", f"inputs: [beta]\n    outputs: [{listed}]"))


# ------------------------------------------------------------ unknown names
def test_unknown_fact_keys_suggest_the_nearest_recorded_ones(tmp_path):
    root = make_mini_project(tmp_path / "mini", {
        "one": "# One\n\nAlpha total is {{< fact alpha.totl >}}.\n\nRows: {{< var beta.row >}}.\n"})
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert "chapters/one.qmd:3: unknown fact 'alpha.totl' (did you mean 'alpha.total'?)" in result.output
    assert "chapters/one.qmd:5: unknown fact 'beta.row' (did you mean 'beta.rows'?)" in result.output
    # no far-fetched guesses: beta.total is not offered for alpha.totl
    assert "'beta.total'" not in result.output


def test_unknown_fact_in_a_notebook_lookup_suggests_the_recorded_one(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    set_cell(root, "step.value('beta.row')")
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert ("fact 'beta.row' is not recorded (yet) by notebooks/b.ipynb "
            "(did you mean 'beta.rows'?)") in result.output


@pytest.mark.parametrize("edit, message", [
    # nested mappings and lists of mappings of reprobook.yml, and editions.yml
    (("pdf: mini.pdf", "pdf: mini.pdf\noriginal:\n  titel: The report"),
     "reprobook.yml: original: unknown key 'titel' (did you mean 'title'?)"),
    (("pdf: mini.pdf", "pdf: mini.pdf\nhighlights:\n  - fakt: alpha.total\n    label: x"),
     "reprobook.yml: highlights[0]: unknown key 'fakt' (did you mean 'fact'?)"),
    (("    inputs: [beta]", "    inputs: [beta]\n    timout: 5"),
     "reprobook.yml: notebooks[1]: unknown key 'timout' (did you mean 'timeout'?)"),
])
def test_unknown_config_keys_suggest_the_nearest(tmp_path, edit, message):
    root = make_mini_project(tmp_path / "mini")
    yml = root / "reprobook.yml"
    yml.write_text(yml.read_text().replace(*edit))
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert message in result.output


def test_unknown_editions_key_suggests_the_nearest(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(
        "editions:\n  - number: '1.0'\n    date: '2024-01-02'\n    title: First\n"
        "    status: current\n    sumary: The first.\n")
    result = run_cli("build", "--root", str(root))
    assert result.exit_code == 1
    assert "editions.yml: editions[0]: unknown key 'sumary' (did you mean 'summary'?)" in result.output


# ------------------------------------------------------------ figure writes
def test_plain_savefig_to_a_declared_output_names_step_save_figure(tmp_path):
    """Declared, but written with matplotlib itself: the fix is Step."""
    root = make_mini_project(tmp_path / "mini")
    declare_outputs(root, "figures/chart.svg", "figures/chart.pdf")
    set_cell(root, "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                   "plt.savefig('../figures/chart.svg')")
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert ("notebooks/b.ipynb writes figures/chart.svg directly; a declared output is collected "
            'only when written through Step: use step.save_figure(fig, "chart")') in result.output
    assert "not among its declared outputs" not in result.output


def test_plain_write_to_a_declared_output_names_step_output_path(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    declare_outputs(root, "figures/notes.txt")
    set_cell(root, "open(step.project.root / 'figures/notes.txt', 'w').write('x')")
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert ('writes figures/notes.txt directly; a declared output is collected only when written '
            'through Step: use step.output_path("figures/notes.txt") as the path') in result.output


@pytest.mark.parametrize("cell, message", [
    # matplotlib straight into the project
    ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
     "fig.savefig(step.project.root / 'figures/trend.png')",
     'notebooks/b.ipynb writes figures/trend.png, which is not among its declared outputs: use '
     'step.save_figure(fig, "trend") and declare what it writes (figures/trend.svg and '
     "figures/trend.pdf) under `outputs:` of notebooks/b.ipynb in reprobook.yml"),
    # through Step, but not declared
    ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nstep.save_figure(fig, 'trend')",
     "notebooks/b.ipynb writes figures/trend.svg, which is not among its declared outputs: "
     "declare it under `outputs:` of notebooks/b.ipynb in reprobook.yml "
     '(step.save_figure(fig, "<stem>") writes figures/<stem>.svg and figures/<stem>.pdf'),
])
def test_undeclared_figure_names_save_figure_and_how_to_declare(tmp_path, cell, message):
    root = make_mini_project(tmp_path / "mini")
    set_cell(root, cell)
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert message in result.output


# ------------------------------------------------------------ failing cell
def test_failing_cell_shows_notebook_cell_line_exception_and_log(tmp_path):
    """The 3rd code cell fails (a markdown cell before it does not count):
    a short message with what matters; pandas' internals go to the log."""
    root = make_mini_project(tmp_path / "mini")
    set_cell(root, "import pandas as pd\nframe = pd.DataFrame({'a':[1]})\nframe['missing']")
    path = root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Beta"))
    nbformat.write(nb, path)
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    message = result.output[result.output.index("Build stopped:"):]
    assert len(message.splitlines()) < 25, message
    log = root / ".reprobook/logs/b.log"
    assert message.splitlines()[:5] == [
        "Build stopped: notebooks/b.ipynb: code cell 3 failed (In [3] when the notebook runs from "
        "the top; markdown cells are not counted)",
        "  line 3: frame['missing']",
        "  KeyError: 'missing'",
        f"  whole traceback: {log}",
        "The previously published site (if any) is unchanged.",
    ]
    trace = log.read_text()
    assert "pandas/core/indexes/base.py" in trace and "get_loc" in trace  # the whole of it
    assert "get_loc" not in message


def test_failing_cell_inside_a_function_names_where_it_was_raised(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    set_cell(root, "def share(d):\n    return d['k'] / 2\n\nshare({})")
    result = run_cli("check", "--root", str(root))
    assert result.exit_code == 1
    assert "  line 4: share({})\n  raised in code cell 3, line 2: return d['k'] / 2\n" \
        "  KeyError: 'k'" in result.output
