"""Security and reliability (issue 10): data never becomes markup, includes
and configured paths stay inside the project, verify sees tampering, builds
are locked and recover from a crash. Every test runs a real build of a mini
project (real kernel, pandoc, Typst) and inspects what was published."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook.build import build
from reprobook.project import load_project
from reprobook.validate import rehash

from .conftest import make_mini_project

# Cells an attacker (or a careless spreadsheet) can put into a raw CSV.
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "{{< include /etc/passwd >}}",
    "*bold*",
    "a|b",
    "&lt;b&gt;",
]
PASSWD_MARK = "root:x:0:0"  # the first line of /etc/passwd on any Linux


def add_hostile_table(root: Path) -> None:
    """Resource `gamma` (a string column full of markup), read by notebook a
    and published through Step.save_table + {{< include >}}."""
    lines = ["id,label"] + [f"{i},{cell}" for i, cell in enumerate(HOSTILE, 1)]
    (root / "data/raw/gamma.csv").write_text("\n".join(lines) + "\n")
    descriptor_path = root / "data/raw/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text())
    descriptor["resources"].append({
        "name": "gamma", "path": "gamma.csv", "title": "gamma", "description": "hostile cells",
        "format": "csv", "encoding": "utf-8", "hash": "sha256:",
        "sources": [{"title": "test fixture"}],
        "schema": {"fields": [{"name": "id", "type": "integer", "unit": "id"},
                              {"name": "label", "type": "string"}], "primaryKey": ["id"]}})
    descriptor_path.write_text(json.dumps(descriptor, indent=2))
    config = root / "reprobook.yml"
    config.write_text(config.read_text().replace(
        "inputs: [alpha]",
        "inputs: [alpha, gamma]\n    outputs: [figures/hostile.md, figures/hostile.csv]"))
    nb_path = root / "notebooks/a.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = "step.save_table(step.read_csv('gamma'), 'hostile')"
    nbformat.write(nb, nb_path)
    (root / "chapters/one.qmd").write_text(textwrap.dedent("""\
        # One {#sec-one}

        Alpha total is {{< var alpha.total >}}; see @tbl-hostile.

        {{< include ../figures/hostile.md >}}

        : Cells from data {#tbl-hostile}
        """))
    rehash(load_project(root))


def site_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in sorted(site.rglob("*")) if p.is_file() and p.suffix != ".pdf")


def test_data_in_a_generated_table_is_printed_literally(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    add_hostile_table(root)
    project = load_project(root)
    result = build(project)

    soup = BeautifulSoup((result.output_dir / "chapters/one.html").read_text(), "html.parser")
    table = soup.find("table", id="tbl-hostile")
    assert table is not None, "the included table was not rendered as a table"
    cells = [tr.find_all("td")[1].get_text() for tr in table.find("tbody").find_all("tr")]
    assert cells == HOSTILE
    # Nothing of it became markup: no image, no handler, no javascript: link.
    assert not soup.find_all("img", onerror=True)
    assert not any(tag.has_attr("onerror") for tag in soup.find_all(True))
    assert not [a for a in soup.find_all("a") if a.get("href", "").lower().startswith("javascript")]
    assert not table.find("tbody").find_all(["img", "em", "strong", "a"])
    # The shortcode in the data was not executed, anywhere in the site.
    assert PASSWD_MARK not in site_text(result.site)
    # The PDF prints the same cells literally.
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(result.pdf).pages)
    assert PASSWD_MARK not in pdf_text
    for cell in ("<img src=x onerror=alert(1)>", "*bold*", "{{< include /etc/passwd >}}"):
        assert cell in pdf_text.replace("\n", " ")


def test_generated_markdown_is_included_as_inert_text(tmp_path):
    """Even a generated file written without save_table (no escaping) cannot
    run a shortcode: text included from figures/ is never read as source."""
    root = make_mini_project(tmp_path / "mini")
    config = root / "reprobook.yml"
    config.write_text(config.read_text().replace(
        "inputs: [alpha]", "inputs: [alpha]\n    outputs: [figures/raw.md]"))
    nb_path = root / "notebooks/a.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = ("step.output_path('figures/raw.md').write_text("
                          "'Data says {{< include /etc/passwd >}} and {{< var beta.rows >}}.\\n')")
    nbformat.write(nb, nb_path)
    (root / "chapters/one.qmd").write_text(
        "# One {#sec-one}\n\n{{< include ../figures/raw.md >}}\n\nAlpha: {{< var alpha.total >}}.\n")
    result = build(load_project(root))
    soup = BeautifulSoup((result.output_dir / "chapters/one.html").read_text(), "html.parser")
    text = soup.find("main").get_text() if soup.find("main") else soup.get_text()
    assert "Data says {{< include /etc/passwd >}} and {{< var beta.rows >}}." in text
    assert "Alpha: 3,500." in text  # the chapter's own shortcodes still work
    assert PASSWD_MARK not in site_text(result.site)


@pytest.mark.parametrize("target", ["../../../../etc/passwd", "../" * 30 + "etc/passwd"])
def test_include_outside_the_project_is_refused(tmp_path, target):
    from reprobook.errors import RenderError

    root = make_mini_project(tmp_path / "mini", {
        "two": f"# Two {{#sec-two}}\n\nBeta.\n\n{{{{< include {target} >}}}}\n"})
    project = load_project(root)
    with pytest.raises(RenderError) as info:
        build(project)
    message = str(info.value)
    assert "chapters/two.qmd:5" in message and "outside the project" in message
    assert not project.site_dir.exists()


def test_include_through_a_symlink_pointing_outside_is_refused(tmp_path):
    from reprobook.errors import RenderError

    outside = tmp_path / "secret.txt"
    outside.write_text("secret: do not publish\n")
    root = make_mini_project(tmp_path / "mini", {
        "two": "# Two {#sec-two}\n\n{{< include notes.md >}}\n"})
    (root / "chapters/notes.md").symlink_to(outside)
    project = load_project(root)
    with pytest.raises(RenderError) as info:
        build(project)
    assert "chapters/two.qmd:3" in str(info.value)
    assert "outside the project" in str(info.value)
    assert not project.site_dir.exists()
    # A symlink that stays inside the project is still followed.
    (root / "chapters/notes.md").unlink()
    (root / "shared.md").write_text("Shared text.\n")
    (root / "chapters/notes.md").symlink_to(root / "shared.md")
    result = build(project)
    assert "Shared text." in (result.output_dir / "chapters/two.html").read_text()
