"""Notebooks that feed notebooks (issue 14, part 1): `notebook:<name>/<output>`
inputs, topological order, chained cache keys, graph errors, dry-run and
`reprobook dag`. Real builds of a mini project with a chained notebook."""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from reprobook.build import build, check
from reprobook.cli import main
from reprobook.errors import ConfigError, NotebookError
from reprobook.execute import plan
from reprobook.project import load_project
from reprobook.validate import rehash

from .conftest import make_mini_project, write_notebook

CHAINED_YML = """\
datapackage: data/raw/datapackage.json
notebooks:
  - path: notebooks/a.ipynb
    inputs: [alpha]
    outputs: [figures/alpha-total.csv]
  - path: notebooks/b.ipynb
    inputs: [beta]
  - path: notebooks/c.ipynb
    inputs: [beta, notebook:a/figures/alpha-total.csv]
    outputs: [figures/chained.csv]
  - path: notebooks/d.ipynb
    inputs: [notebook:c/figures/chained.csv]
pdf: mini.pdf
"""

WRITE_TOTAL = ("import pandas as pd\n"
               "pd.DataFrame({'total': [int(df.amount.sum())]})"
               ".to_csv(step.output_path('figures/alpha-total.csv'), index=False)")


def _notebook(path: Path, *cells: str) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells],
                      metadata={"kernelspec": {"name": "python3", "language": "python",
                                               "display_name": "Python 3"}})
    nbformat.write(nb, path)


def make_chained_project(root: Path, sleep: float = 0) -> Path:
    """The mini project plus c (reads a's output and beta) and d (reads c's)."""
    make_mini_project(root)
    write_notebook(root / "notebooks/a.ipynb", "a", "alpha", "alpha", extra=WRITE_TOTAL)
    _notebook(root / "notebooks/c.ipynb",
              "from reprobook.notebook import Step\nstep = Step('c')",
              f"import time\ntime.sleep({sleep})\n"
              "total = step.read_csv('notebook:a/figures/alpha-total.csv').total.sum()\n"
              "beta = step.read_csv('beta')",
              "import pandas as pd\n"
              "pd.DataFrame({'double': [int(total) * 2], 'beta_rows': [len(beta)]})"
              ".to_csv(step.output_path('figures/chained.csv'), index=False)\n"
              "step.fact('chain.double', int(total) * 2, unit='things', fmt='{:,}')",
              "step.finish()")
    _notebook(root / "notebooks/d.ipynb",
              "from reprobook.notebook import Step\nstep = Step('d')\n"
              "import pandas as pd\n"
              "df = pd.read_csv(step.upstream_path('c', 'figures/chained.csv'))",
              "step.fact('chain.quadruple', int(df.double[0]) * 2, unit='things')",
              "step.finish()")
    (root / "reprobook.yml").write_text(CHAINED_YML)
    return root


@pytest.fixture
def chained(tmp_path):
    return load_project(make_chained_project(tmp_path / "chained"))


def test_upstream_change_reexecutes_exactly_its_dependants(chained):
    first = check(chained)
    assert sorted(first.executed) == ["a", "b", "c", "d"]
    assert first.executed.index("a") < first.executed.index("c") < first.executed.index("d")
    assert first.facts["chain.double"]["value"] == 7000
    assert first.facts["chain.quadruple"]["value"] == 14000

    raw = chained.root / "data/raw/alpha.csv"
    raw.write_text(raw.read_text() + "3,500\n")
    rehash(chained)
    runs = {r.spec.name: r for r in plan(chained)}
    assert runs["a"].reasons == ["input 'alpha' changed"]
    assert runs["c"].reasons == ["upstream notebook 'a' changed"]
    assert runs["d"].reasons == ["upstream notebook 'c' changed"]
    assert not runs["b"].needed
    second = check(chained)
    assert second.executed == ["a", "c", "d"] and second.cached == ["b"]
    assert second.facts["chain.quadruple"]["value"] == 16000
    assert (chained.root / "figures/chained.csv").read_text() == "double,beta_rows\n8000,1\n"

    # beta feeds b and c directly, not a: exactly b, c and d re-execute.
    raw = chained.root / "data/raw/beta.csv"
    raw.write_text(raw.read_text() + "2,3\n")
    rehash(chained)
    assert sorted(check(chained).executed) == ["b", "c", "d"]
    # a notebook at the end of the chain changes alone.
    path = chained.root / "notebooks/d.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\n# edited"
    nbformat.write(nb, path)
    assert check(chained).executed == ["d"]
    assert check(chained).executed == []


def test_chained_project_publishes(chained):
    result = build(chained)
    assert sorted(result.executed) == ["a", "b", "c", "d"]
    assert (chained.site_dir / "facts.json").is_file()


def test_reading_an_undeclared_upstream_file_is_refused(chained):
    """The guard lets c read exactly a's declared output, not a's other files."""
    path = chained.root / "notebooks/c.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source += "\nopen(step.project.root / '.reprobook/cache/a/outputs/facts.json').read()"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError) as info:
        check(chained)
    assert "notebooks/c.ipynb reads .reprobook/cache/a/outputs/facts.json" in str(info.value)


def _config(root: Path, yml: str) -> None:
    (root / "reprobook.yml").write_text(textwrap.dedent(yml))


@pytest.mark.parametrize("yml, words", [
    ("""\
     notebooks:
       - path: notebooks/a.ipynb
         inputs: [alpha, notebook:c/figures/chained.csv]
         outputs: [figures/alpha-total.csv]
       - path: notebooks/c.ipynb
         inputs: [notebook:a/figures/alpha-total.csv]
         outputs: [figures/chained.csv]
     """, ["cycle", "a -> c -> a", "notebooks/a.ipynb", "notebooks/c.ipynb"]),
    ("""\
     notebooks:
       - path: notebooks/a.ipynb
         inputs: [alpha, notebook:a/figures/alpha-total.csv]
         outputs: [figures/alpha-total.csv]
     """, ["cycle", "a -> a"]),
    ("""\
     notebooks:
       - path: notebooks/a.ipynb
         inputs: [alpha]
       - path: notebooks/c.ipynb
         inputs: [notebook:a/figures/alpha-total.csv]
     """, ["notebooks/c.ipynb reads notebook:a/figures/alpha-total.csv",
           "notebooks/a.ipynb does not declare"]),
    ("""\
     notebooks:
       - path: notebooks/c.ipynb
         inputs: [notebook:clean/figures/x.csv]
     """, ["notebooks/c.ipynb reads notebook:clean/figures/x.csv", "no notebook is named 'clean'"]),
    ("""\
     notebooks:
       - path: notebooks/a.ipynb
         inputs: [alpha]
       - path: other/a.ipynb
         inputs: [alpha]
     """, ["notebooks/a.ipynb and other/a.ipynb", "both named 'a'"]),
    ("""\
     notebooks:
       - path: notebooks/a.ipynb
         outputs: [figures/x.csv]
       - path: notebooks/b.ipynb
         outputs: [figures/x.csv]
     """, ["figures/x.csv", "notebooks/a.ipynb and notebooks/b.ipynb"]),
    ("""\
     notebooks:
       - path: notebooks/c.ipynb
         inputs: ["notebook:a"]
     """, ["notebook:<notebook name>/<one of its declared outputs>"]),
])
def test_graph_errors_name_the_notebooks(chained, yml, words):
    (chained.root / "other").mkdir()
    (chained.root / "other/a.ipynb").write_text((chained.root / "notebooks/a.ipynb").read_text())
    _config(chained.root, yml)
    with pytest.raises(ConfigError) as info:
        load_project(chained.root)
    for word in words:
        assert word in str(info.value)


def test_dry_run_shows_the_graph_and_why(chained):
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--dry-run", "--root", str(chained.root)])
    assert result.exit_code == 0, result.output
    assert "<- a: figures/alpha-total.csv" in result.output
    assert "4 of 4 notebooks would execute" in result.output
    check(chained)
    raw = chained.root / "data/raw/alpha.csv"
    raw.write_text(raw.read_text() + "3,500\n")
    rehash(chained)
    result = runner.invoke(main, ["build", "--dry-run", "--root", str(chained.root)])
    assert "upstream notebook 'a' changed" in result.output
    assert "3 of 4 notebooks would execute: a, c, d" in result.output


def test_dag_prints_text_and_mermaid(chained):
    runner = CliRunner()
    result = runner.invoke(main, ["dag", "--root", str(chained.root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("a (notebooks/a.ipynb)")
    assert "  c (notebooks/c.ipynb)  -> execute: never executed (no cached result)" in lines
    assert "flowchart LR" in result.output
    result = runner.invoke(main, ["dag", "--format", "mermaid", "--no-plan", "--root",
                                  str(chained.root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "flowchart LR"
    assert '  nb_a -- "figures/alpha-total.csv" --> nb_c' in result.output
    assert "  data_beta --> nb_c" in result.output
    assert "classDef" not in result.output


DOT_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<id>[A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?)'
                       r'|(?P<arrow>->)|(?P<punct>[{}\[\]=;,]))')


def parse_dot(source: str) -> tuple[dict[str, dict], list[tuple[str, str, dict]]]:
    """A strict parser for the DOT subset a digraph needs (statements: graph
    attributes, node/edge defaults, nodes, edge chains, each with optional
    [attr=value, ...]): returns (nodes, edges) with unquoted IDs, or raises
    ValueError on anything that is not valid DOT of that form."""
    tokens, pos = [], 0
    while pos < len(source):
        if source[pos:].strip() == "":
            break
        m = DOT_TOKEN.match(source, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad DOT at {source[pos:pos + 30]!r}")
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "string":
            text = re.sub(r'\\(.)', r'\1', text[1:-1])
            kind = "id"
        tokens.append((kind, text))
        pos = m.end()
    tokens.append(("end", ""))
    at = 0

    def take(kind, text=None):
        nonlocal at
        k, t = tokens[at]
        if k != kind or (text is not None and t != text):
            raise ValueError(f"expected {text or kind}, got {t!r} (token {at})")
        at += 1
        return t

    def attrs() -> dict:
        found = {}
        if tokens[at] != ("punct", "["):
            return found
        take("punct", "[")
        while tokens[at] != ("punct", "]"):
            key = take("id")
            take("punct", "=")
            found[key] = take("id")
            if tokens[at] == ("punct", ","):
                take("punct", ",")
        take("punct", "]")
        return found

    nodes, edges = {}, []
    take("id", "digraph")
    if tokens[at][0] == "id":
        take("id")
    take("punct", "{")
    while tokens[at] != ("punct", "}"):
        first = take("id")
        if tokens[at] == ("punct", "="):
            take("punct", "=")
            take("id")
        elif first in ("node", "edge", "graph") and tokens[at] == ("punct", "["):
            attrs()
        elif tokens[at][0] == "arrow":
            chain = [first]
            while tokens[at][0] == "arrow":
                take("arrow")
                chain.append(take("id"))
            found = attrs()
            edges += [(a, b, found) for a, b in zip(chain, chain[1:])]
        else:
            nodes[first] = attrs()
        take("punct", ";")
    take("punct", "}")
    take("end")
    return nodes, edges


def test_dag_prints_graphviz_dot(chained):
    """`--format dot` is valid DOT (a strict parser here; Graphviz's own `dot`
    too when it is installed) with one edge per file a notebook reads."""
    result = CliRunner().invoke(main, ["dag", "--format", "dot", "--root", str(chained.root)])
    assert result.exit_code == 0, result.output
    nodes, edges = parse_dot(result.output)
    expected = set()
    for spec in chained.notebooks:
        expected |= {(f"data:{r}", f"notebook:{spec.name}", "") for r in spec.inputs}
        expected |= {(f"notebook:{n}", f"notebook:{spec.name}", p) for n, p in spec.upstream}
    assert {(a, b, e.get("label", "")) for a, b, e in edges} == expected
    assert ("notebook:a", "notebook:c", "figures/alpha-total.csv") in expected
    assert len(edges) == len(expected)  # no edge twice
    assert {a for a, _, _ in edges} | {b for _, b, _ in edges} <= set(nodes)
    assert nodes["data:alpha"]["shape"] == "cylinder"
    assert nodes["notebook:c"]["tooltip"] == "notebooks/c.ipynb"
    assert all(nodes[f"notebook:{s.name}"].get("style") == "filled" for s in chained.notebooks)
    check(chained)  # now everything is cached: nothing is marked
    result = CliRunner().invoke(main, ["dag", "--format", "dot", "--root", str(chained.root)])
    nodes, _ = parse_dot(result.output)
    assert not any("style" in attrs for attrs in nodes.values())
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=result.output, capture_output=True,
                             text=True, check=True).stdout
        assert svg.count('class="edge"') == len(expected)
    with pytest.raises(ValueError):
        parse_dot(result.output.replace("->", "-", 1))


def test_dot_quotes_awkward_names():
    from reprobook.pipeline.graph import render_dot
    from reprobook.project import NotebookSpec

    spec = NotebookSpec(path='notebooks/we"ird\\name.ipynb', inputs=['a "b"'], outputs=[])
    nodes, edges = parse_dot(render_dot([spec]))
    assert edges == [('data:a "b"', f"notebook:{spec.name}", {})]
    assert nodes[f"notebook:{spec.name}"]["tooltip"] == 'notebooks/we"ird\\name.ipynb'


def test_real_book_graph_is_flat_and_unchanged():
    """The book's own notebooks read only data: all at depth 0, in
    reprobook.yml's order (the order they ran in before pipelines)."""
    from .conftest import ROOT

    project = load_project(ROOT)
    assert [s.name for s in project.notebooks] == [r.spec.name for r in plan(project)]
