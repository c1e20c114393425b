"""Bad input stops the build with a message naming file, row and column, and
the previously published site stays exactly as it was."""

from __future__ import annotations

import hashlib

import pytest

from reprobook.build import build
from reprobook.errors import DataError, NotebookError
from reprobook.validate import rehash, require_valid

RAW = "data/raw/mining-sites-per-year.csv"
GOOD = "year,new_sites,new_pits\n2013,4,58\n2014,2,27\n2015,2,23\n"


def corrupt(project, text: str, *, record_checksum: bool = True) -> None:
    (project.root / RAW).write_text(text)
    if record_checksum:
        rehash(project)  # a deliberate change: only the content is wrong


@pytest.mark.parametrize("text, row, column, words", [
    ("year,new_sites\n2013,4\n", None, "new_pits", "missing"),
    ("year,new_sites,new_pits\n2013,4,58\n2014,two,27\n", 3, "new_sites", "not of the column's type"),
    ("year,new_sites,new_pits\n2013,4,58\n2014,2,-27\n", 3, "new_pits", "constraint"),
    ("year,new_sites,new_pits\n2013,4,58\n2013,2,27\n", 3, None, "duplicate"),
    ("year,new_sites,new_pits\n2013,4,58\n2014,,27\n", 3, "new_sites", ""),
    # validated with the delimiter the notebooks read with, not a sniffed one
    ("year;new_sites;new_pits\n2013;4;58\n", 1, None, "delimiter ','"),
])
def test_malformed_file_is_reported_with_file_row_and_column(project_copy, text, row, column, words):
    corrupt(project_copy, text)
    with pytest.raises(DataError) as info:
        require_valid(project_copy)
    message = str(info.value)
    assert RAW in message
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column '{column}'" in message
    assert words in message


def test_a_number_in_words_where_digits_are_printed_is_refused(project_copy):
    """public-figures.csv `value` is text (it keeps the source's '1.4
    billion'), but a figure in words cannot be checked against anything."""
    path = project_copy.root / "data/raw/public-figures.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    assert lines[1].split(",")[header.index("value")] == "38"
    lines[1] = lines[1].replace(",38,", ",thirty-eight,", 1)
    path.write_text("\n".join(lines) + "\n")
    rehash(project_copy)
    with pytest.raises(DataError) as info:
        require_valid(project_copy)
    message = str(info.value)
    assert "data/raw/public-figures.csv" in message and "row 2" in message
    assert "column 'value'" in message and "thirty-eight" in message


def test_encoding_error_names_the_row(project_copy):
    (project_copy.root / RAW).write_bytes(GOOD.encode() + b"2016,3,\xff9\n")
    rehash(project_copy)
    with pytest.raises(DataError, match=f"{RAW}, row 5: is not valid utf-8"):
        require_valid(project_copy)


def test_checksum_mismatch_is_reported_not_accepted(project_copy):
    path = project_copy.root / RAW
    path.write_text(path.read_text().replace("2013,4,58", "2013,5,58"))
    with pytest.raises(DataError) as info:
        require_valid(project_copy)
    assert RAW in str(info.value)
    assert "checksum mismatch" in str(info.value)


def test_a_grown_file_is_one_problem_that_names_rehash(project_copy):
    # A row added changes both the checksum and the size the descriptor
    # records; one message, saying what to do, is enough.
    rehash(project_copy)  # records "bytes" as well as "hash"
    path = project_copy.root / RAW
    path.write_text(path.read_text() + "2025,4,61\n")  # a year after the last
    with pytest.raises(DataError) as info:
        require_valid(project_copy)
    message = str(info.value)
    assert "checksum mismatch" in message and "reprobook data rehash" in message
    assert "Byte Count" not in message and "size mismatch" not in message
    assert "(1 problem(s))" in message


def test_missing_provenance_is_reported(project_copy):
    import json

    path = project_copy.root / project_copy.datapackage
    descriptor = json.loads(path.read_text())
    del descriptor["resources"][0]["sources"]
    path.write_text(json.dumps(descriptor))
    with pytest.raises(DataError, match="has no 'sources'"):
        require_valid(project_copy)


def site_fingerprint(site):
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def test_bad_data_leaves_previous_publication_intact(mini):
    build(mini)
    before = site_fingerprint(mini.site_dir)
    (mini.root / "data/raw/alpha.csv").write_text("id,amount\n1,-5\n")
    rehash(mini)
    with pytest.raises(DataError, match=r"data/raw/alpha.csv, row 2, column 'amount'"):
        build(mini)
    assert site_fingerprint(mini.site_dir) == before


def test_failing_cell_names_notebook_and_cell_and_keeps_site(mini):
    import nbformat

    build(mini)
    before = site_fingerprint(mini.site_dir)
    path = mini.root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = "1 / 0"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError) as info:
        build(mini)
    message = str(info.value)
    assert "notebooks/b.ipynb: code cell 3 failed" in message
    assert "ZeroDivisionError" in message
    assert site_fingerprint(mini.site_dir) == before


def test_render_failure_keeps_site(mini):
    build(mini)
    before = site_fingerprint(mini.site_dir)
    (mini.root / "chapters/two.qmd").write_text("# Two\n\nSee @fig-nowhere.\n")
    from reprobook.errors import RenderError

    with pytest.raises(RenderError, match="@fig-nowhere"):
        build(mini)
    assert site_fingerprint(mini.site_dir) == before


def test_undeclared_input_is_refused(mini):
    import nbformat

    path = mini.root / "notebooks/b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = "step.read_csv('alpha')"
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match="does not declare it under inputs"):
        build(mini)
