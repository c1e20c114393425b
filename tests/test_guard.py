"""Declared inputs and outputs are enforced in the kernel (issue 10): a
notebook that reads a project file it does not declare, or writes outside
its outputs, stops the build naming the notebook and the file. Real builds
of the mini project, real kernels."""

from __future__ import annotations

import nbformat
import pytest

from reprobook.build import build
from reprobook.errors import NotebookError

from .test_bad_input import site_fingerprint


def _set_cell(mini, source: str) -> None:
    path = mini.root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = source
    nbformat.write(nb, path)


@pytest.mark.parametrize("cell, message", [
    # another resource's file, read by path, bypassing Step.read_csv
    ("import pandas as pd\npd.read_csv(step.project.root / 'data/raw/alpha.csv')",
     "notebooks/b.ipynb reads data/raw/alpha.csv, which it does not declare"),
    ("open(step.project.root / 'chapters/one.qmd').read()",
     "notebooks/b.ipynb reads chapters/one.qmd, which it does not declare"),
    ("(step.project.root / 'chapters/evil.qmd').write_text('x')",
     "notebooks/b.ipynb writes chapters/evil.qmd, which is not among its declared outputs"),
    ("open('/tmp/reprobook-guard-test.txt', 'w').write('x')",
     "notebooks/b.ipynb writes /tmp/reprobook-guard-test.txt, which is not among its declared"),
    ("import shutil\nshutil.copyfile(step.project.root / 'data/raw/beta.csv', step.project.root / 'copy.csv')",
     "notebooks/b.ipynb writes copy.csv"),
])
def test_undeclared_reads_and_writes_stop_the_build(mini, cell, message):
    build(mini)
    before = site_fingerprint(mini.site_dir)
    _set_cell(mini, cell)
    with pytest.raises(NotebookError) as info:
        build(mini)
    assert message in str(info.value)
    assert site_fingerprint(mini.site_dir) == before
    assert not (mini.root / "chapters/evil.qmd").exists() and not (mini.root / "copy.csv").exists()


def test_declared_reads_and_temporary_files_are_allowed(mini):
    """The guard lets through what a notebook legitimately does: its
    declared input by path, its package code, temporary files."""
    _set_cell(mini, "import pandas as pd, tempfile\n"
                    "pd.read_csv(step.project.root / 'data/raw/beta.csv')\n"
                    "with tempfile.NamedTemporaryFile('w') as f: f.write('ok')\n")
    build(mini)  # no error
