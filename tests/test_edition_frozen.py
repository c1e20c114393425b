"""A published edition is frozen: its first build records its inputs under
editions/, later edits of the working files change only the draft edition,
`verify --edition` proves the published one unchanged, and a deliberate
correction (`reprobook edition amend`) is recorded and shown."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from click.testing import CliRunner

from reprobook.build import build
from reprobook.cli import main
from reprobook.editions import load_editions
from reprobook.project import load_project
from reprobook.validate import rehash
from reprobook.verify import verify

from .conftest import make_mini_project
from .test_edition_text import make_two_edition_book, page_text


def site_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_published_edition_survives_later_edits_and_an_amend_is_shown(tmp_path):
    root = make_two_edition_book(tmp_path / "mini")
    registry = root / "editions.yml"
    registry.write_text(registry.read_text().replace("status: current", "status: draft"))
    build(load_project(root), renderer="builtin")
    record = json.loads((root / "editions/1.0/inputs.json").read_text())
    assert {"data/raw/alpha.csv", "chapters/one.qmd", "notebooks/a.ipynb", "reprobook.yml",
            "_quarto.yml", "_quarto-1.1.yml"} <= set(record["files"])
    assert not (root / "editions/1.1").exists()  # the draft is not frozen
    sha = record["files"]["data/raw/alpha.csv"]
    assert (root / f"editions/store/{sha[:2]}/{sha}").read_bytes() == \
        (root / "data/raw/alpha.csv").read_bytes()
    first = site_bytes(root / "_site/1.0")

    # The working files move on: new data, a reworded paragraph.
    (root / "data/raw/alpha.csv").write_text("id,amount\n1,1000\n2,2600\n")
    one = root / "chapters/one.qmd"
    one.write_text(one.read_text().replace("A paragraph both editions print.",
                                           "A paragraph both editions print, reworded later."))
    rehash(load_project(root))
    build(load_project(root), renderer="builtin")
    assert site_bytes(root / "_site/1.0") == first
    assert "Alpha total is 3,500" in page_text(root / "_site/1.0/chapters/one.html")
    second = page_text(root / "_site/1.1/chapters/one.html")
    assert "Alpha total is 3,600" in second and "reworded later" in second
    changes = BeautifulSoup((root / "_site/1.1/changes.html").read_text(), "html.parser")
    assert "alpha.total" in [c.get_text() for c in changes.select("main code")]
    reworded = changes.select_one("li.reworded")
    assert reworded.ins.get_text() == "A paragraph both editions print, reworded later."
    assert verify(load_project(root), "1.0") == ("edition 1.0", [])

    # A deliberate correction of 1.0: recorded with its reason, and shown.
    runner = CliRunner()
    result = runner.invoke(main, ["edition", "amend", "1.0", "--root", str(root),
                                  "--why", "Row 2 of alpha was mistyped.", "--date", "2024-03-01"])
    assert result.exit_code == 0, result.output
    amended = json.loads((root / "editions/1.0/inputs.json").read_text())
    assert amended["amendments"] == [{"date": "2024-03-01", "why": "Row 2 of alpha was mistyped.",
                                      "changed": ["chapters/one.qmd", "data/raw/alpha.csv",
                                                  "data/raw/datapackage.json"]}]
    build(load_project(root), renderer="builtin")
    page = " ".join(BeautifulSoup((root / "_site/1.0/index.html").read_text(), "html.parser")
                    .select_one(".edition-amended").get_text().split())
    assert ("Edition 1.0 was corrected on 2024-03-01: Row 2 of alpha was mistyped. (inputs changed: "
            "chapters/one.qmd, data/raw/alpha.csv, data/raw/datapackage.json).") == page
    assert "Alpha total is 3,600" in page_text(root / "_site/1.0/chapters/one.html")
    assert verify(load_project(root), "1.0") == ("edition 1.0", [])

    # Nothing left to correct: said, without a traceback.
    result = runner.invoke(main, ["edition", "amend", "1.0", "--root", str(root), "--why", "again"])
    assert result.exit_code == 1
    assert "nothing to amend" in result.output and "Traceback" not in result.output
    result = runner.invoke(main, ["edition", "amend", "1.1", "--root", str(root), "--why", "x"])
    assert result.exit_code == 1 and "is a draft" in result.output


def test_edition_new_writes_a_draft_entry_and_commented_profiles(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(textwrap.dedent("""\
        # a comment the author wrote
        editions:
          - number: "1.0"
            date: "2024-01-02"
            title: "Mini, first edition"
            status: current
            summary: "The fixture book."
            profile: "1.0"
        """))
    (root / "_quarto-1.0.yml").write_text("book:\n  date: \"2024-01-02\"\n")
    runner = CliRunner()
    result = runner.invoke(main, ["edition", "new", "1.1", "--root", str(root)],
                           env={"SOURCE_DATE_EPOCH": "1717286400"})  # 2024-06-02
    assert result.exit_code == 0, result.output
    text = (root / "editions.yml").read_text()
    assert text.startswith("# a comment the author wrote\n")
    [_, new] = load_editions(root)
    assert (new.number, new.date, new.status, new.profile) == ("1.1", "2024-06-02", "draft", "1.0,1.1")
    quarto = (root / "_quarto-1.1.yml").read_text()
    assert 'when-profile="1.1"' in quarto
    assert yaml.safe_load(quarto) == {"book": {"date": "2024-06-02"}}
    assert yaml.safe_load((root / "reprobook-1.1.yml").read_text()) is None  # comments only
    assert load_project(root, profile=new.profile).date == "2024-06-02"

    again = runner.invoke(main, ["edition", "new", "1.1", "--root", str(root)])
    assert again.exit_code == 1 and "already exists in editions.yml" in again.output
    older = runner.invoke(main, ["edition", "new", "0.9", "--root", str(root)])
    assert older.exit_code == 1 and "would not be the newest" in older.output
    assert "Traceback" not in again.output + older.output


def test_a_failed_build_freezes_nothing(tmp_path):
    """The snapshot is what a published edition was built from: a build that
    stops publishes nothing, so it leaves no snapshot either."""
    import pytest

    from reprobook.errors import BuildError

    root = make_mini_project(tmp_path / "mini", {"two": "# Two\n\n{{< fact no.such >}}\n"})
    (root / "editions.yml").write_text(textwrap.dedent("""\
        editions:
          - number: "1.0"
            date: "2024-01-02"
            title: "Mini"
            status: current
            summary: "The fixture book."
            profile: null
        """))
    with pytest.raises(BuildError, match="no.such"):
        build(load_project(root), renderer="builtin")
    assert not (root / "editions/1.0/inputs.json").exists()
