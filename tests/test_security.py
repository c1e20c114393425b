"""Security and reliability (issue 10): data never becomes markup, includes
and configured paths stay inside the project, verify sees tampering, builds
are locked and recover from a crash. Every test runs a real build of a mini
project (real kernel, pandoc, Typst) and inspects what was published."""

from __future__ import annotations

import html
import json
import re
import shutil
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


# ------------------------------------------------- paths from configuration
def run_cli(*args):
    from click.testing import CliRunner

    from reprobook.cli import main

    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_clear_message(result, *words):
    """Exit status 1, the words in the message, and no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, (word, result.output)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new))


def outside_notebook(tmp_path: Path) -> Path:
    """A notebook outside the project that leaves a mark if it ever runs."""
    from nbformat.v4 import new_code_cell, new_notebook

    path = tmp_path / "outside" / "b.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(
        f"open({str(tmp_path / 'outside' / 'RAN')!r}, 'w').write('ran')")]), path)
    return path


def _notebook_relative(root, tmp):
    outside_notebook(tmp)
    edit(root / "reprobook.yml", "path: notebooks/b.ipynb", "path: ../outside/b.ipynb")


def _notebook_absolute(root, tmp):
    edit(root / "reprobook.yml", "path: notebooks/b.ipynb", f"path: {outside_notebook(tmp)}")


def _notebook_symlink(root, tmp):
    (root / "notebooks/b.ipynb").unlink()
    (root / "notebooks/b.ipynb").symlink_to(outside_notebook(tmp))


def _output(root, tmp):
    edit(root / "reprobook.yml", "inputs: [beta]", "inputs: [beta]\n    outputs: [../../escaped.txt]")


def _asset(root, tmp):
    (tmp / "outside").mkdir()
    (root / "reprobook.yml").write_text((root / "reprobook.yml").read_text()
                                        + "assets: [../outside]\n")


def _datapackage(root, tmp):
    edit(root / "reprobook.yml", "datapackage: data/raw/datapackage.json",
         "datapackage: ../datapackage.json")


def _output_dir(root, tmp):
    edit(root / "_quarto.yml", "output-dir: _site", "output-dir: ../published")


def _output_dir_is_root(root, tmp):
    edit(root / "_quarto.yml", "output-dir: _site", "output-dir: .")


def _chapter(root, tmp):
    (tmp / "x.qmd").write_text("# X\n")
    edit(root / "_quarto.yml", "- chapters/two.qmd", "- ../x.qmd")


def _pdf(root, tmp):
    edit(root / "reprobook.yml", "pdf: mini.pdf", "pdf: ../../mini.pdf")


@pytest.mark.parametrize("spoil, words", [
    (_notebook_relative, ["reprobook.yml", "notebooks[1].path", "outside the project"]),
    (_notebook_absolute, ["reprobook.yml", "notebooks[1].path", "outside the project"]),
    (_notebook_symlink, ["reprobook.yml", "notebooks[1].path", "outside the project"]),
    (_output, ["reprobook.yml", "notebooks[1].outputs", "outside the project"]),
    (_asset, ["reprobook.yml", "assets", "outside the project"]),
    (_datapackage, ["reprobook.yml", "datapackage", "outside the project"]),
    (_output_dir, ["_quarto.yml", "project.output-dir", "outside the project"]),
    (_output_dir_is_root, ["_quarto.yml", "project.output-dir", "not the project itself"]),
    (_chapter, ["_quarto.yml", "book chapter 3", "outside the project"]),
    (_pdf, ["reprobook.yml", "pdf must be a file name"]),
], ids=lambda v: getattr(v, "__name__", "")[1:] if callable(v) else None)
def test_configured_path_outside_the_project_stops_before_anything_runs(tmp_path, spoil, words):
    from reprobook.errors import ConfigError

    root = make_mini_project(tmp_path / "mini")
    spoil(root, tmp_path)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    for word in words:
        assert word in str(info.value)
    result = run_cli("build", "--root", root)
    assert_one_clear_message(result, *words)
    assert not (tmp_path / "outside" / "RAN").exists(), "a notebook outside the project ran"
    assert not (root / ".reprobook" / "cache").exists(), "notebooks ran before the error"
    assert not (root / "_site").exists() and not (tmp_path / "published").exists()


@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../../../../../../../etc/passwd",
                                  "link.csv"])
def test_resource_path_outside_the_project_is_refused(tmp_path, path):
    from reprobook.errors import DataError
    from reprobook.validate import require_valid

    root = make_mini_project(tmp_path / "mini")
    (root / "data/raw/link.csv").symlink_to("/etc/passwd")
    descriptor_path = root / "data/raw/datapackage.json"
    descriptor = json.loads(descriptor_path.read_text())
    descriptor["resources"][1]["path"] = path
    descriptor_path.write_text(json.dumps(descriptor, indent=2))
    before = descriptor_path.read_bytes()
    project = load_project(root)
    for action in (rehash, require_valid, build):
        with pytest.raises(DataError, match=r"datapackage.json: resources\[1\]\.path "
                                            r"\(resource 'beta'\).*outside the project"):
            action(project)
    assert descriptor_path.read_bytes() == before, "rehash recorded a file outside the project"
    for command in (["data", "rehash"], ["data", "validate"], ["build"]):
        assert_one_clear_message(run_cli(*command, "--root", root),
                                 "resources[1].path", "outside the project")
    assert not (root / ".reprobook" / "cache").exists(), "notebooks ran before the error"


def test_rehash_of_a_missing_file_is_one_clear_message(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    descriptor_path = root / "data/raw/datapackage.json"
    before = descriptor_path.read_bytes()
    (root / "data/raw/beta.csv").unlink()
    result = run_cli("data", "rehash", "--root", root)
    assert_one_clear_message(result, "data/raw/beta.csv", "resource 'beta'", "missing")
    assert descriptor_path.read_bytes() == before


# A fact's text as hostile as a data cell can make it: HTML, a javascript:
# link, Markdown, a shortcode, Typst code, a citation.
HOSTILE_FACT = ("<img src=x onerror=alert(1)> [x](javascript:alert(1)) *bold* "
                "{{< include /etc/passwd >}} #set page(width: 3cm) @sec-two")


def _renderers():
    from .conftest import quarto_binaries

    quartos = quarto_binaries()
    return ["builtin", pytest.param(quartos[-1] if quartos else None, id="quarto", marks=[
        pytest.mark.skipif(not quartos, reason="no Quarto (./run test installs it)")])]


@pytest.mark.parametrize("renderer", _renderers())
def test_a_hostile_fact_is_printed_literally_everywhere(tmp_path, renderer):
    """Printed by {{< fact >}} and {{< var >}} in a chapter, in the claims
    ledger (text and reviewer note), the search index and the PDF: always
    the same literal text, never markup, a link, a shortcode or Typst code;
    with the built-in renderer and with real Quarto (the Lua extension)."""
    import os

    from .conftest import ROOT

    root = make_mini_project(tmp_path / "mini", chapters={
        "one": "# One {#sec-one}\n\nLabel: {{< fact alpha.label >}}.\n\n"
               "Again: {{< var alpha.label >}}.\n"})
    nb_path = root / "notebooks/a.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source = (f"step.fact('alpha.label', {HOSTILE_FACT!r}, unit='text', "
                          f"note={HOSTILE_FACT!r})")
    nbformat.write(nb, nb_path)
    shutil.copytree(ROOT / "_extensions", root / "_extensions")
    config = root / "_quarto.yml"
    # (An author too: Quarto 1.10's Typst book template, orange-book 0.7.1,
    # fails with "expected content, found array" on a book without one.)
    config.write_text(config.read_text().replace('  title: "Mini"', '  title: "Mini"\n  author: "Fixture"')
                      + "filters:\n  - reprobook\n")
    old_path = os.environ["PATH"]
    if renderer != "builtin":
        os.environ["PATH"] = f"{Path(renderer).parent}{os.pathsep}{old_path}"
    try:
        result = build(load_project(root), renderer="builtin" if renderer == "builtin" else "quarto")
    finally:
        os.environ["PATH"] = old_path

    site = result.output_dir
    chapter = BeautifulSoup((site / "chapters/one.html").read_text(), "html.parser")
    main = chapter.find("main") or chapter
    paragraphs = [p.get_text() for p in main.find_all("p")]
    assert f"Label: {HOSTILE_FACT}." in paragraphs, paragraphs
    assert f"Again: {HOSTILE_FACT}." in paragraphs, paragraphs
    ledger = BeautifulSoup((site / "claims.html").read_text(), "html.parser")
    assert ledger.find(string=lambda t: t and HOSTILE_FACT in t), "ledger lacks the literal text"
    for soup in (chapter, ledger):
        assert not any(tag.has_attr("onerror") for tag in soup.find_all(True))
        assert not [a for a in soup.find_all("a")
                    if a.get("href", "").lower().startswith("javascript")]
        assert not main.find_all(["em", "img"])
    # The built-in search page sets result text with textContent, so its
    # index holds the literal text; Quarto's search box inserts its index's
    # text as HTML, so Quarto keeps it HTML-escaped there. Either way: no tag.
    search = json.dumps(json.loads((site / "search.json").read_text()), ensure_ascii=False)
    want = HOSTILE_FACT if renderer == "builtin" else html.escape(HOSTILE_FACT, quote=False)
    assert want in search, "the search index lacks the text"
    assert renderer == "builtin" or "<img" not in search
    assert PASSWD_MARK not in site_text(result.site)
    reader = PdfReader(result.pdf)
    pdf_text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    assert PASSWD_MARK not in pdf_text
    assert HOSTILE_FACT in pdf_text  # printed, not run:
    assert all(float(page.mediabox.width) > 300 for page in reader.pages)


# ------------------------------------------------------------------ verify
def test_verify_names_published_files_altered_missing_or_extra(tmp_path):
    from reprobook.verify import verify

    root = make_mini_project(tmp_path / "mini")
    project = load_project(root)
    build(project, renderer="builtin")
    assert verify(project) == ("the publication", [])

    page = root / "_site/chapters/one.html"
    content = bytearray(page.read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit of one byte
    page.write_bytes(bytes(content))
    (root / "_site/facts.json").unlink()
    (root / "_site/chapters/extra.html").write_text("<p>planted</p>\n")

    _, differences = verify(project)
    assert differences[:3] == [
        "published _site/chapters/extra.html: extra (not in the manifest)",
        "published _site/chapters/one.html: altered (sha256 differs from the manifest)",
        "published _site/facts.json: missing (listed in the manifest)",
    ], differences
    # Only those: the rebuild itself still matches the manifest.
    assert differences[3:] == [], differences

    result = run_cli("verify", "--root", root)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "_site/chapters/one.html: altered" in result.output


# ------------------------------------------------- lock, leftovers, recovery
HOLD_LOCK = """
import sys
from reprobook.project import load_project
from reprobook.publish import project_lock
with project_lock(load_project(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_second_build_while_one_runs_stops_with_a_clear_message(tmp_path):
    import subprocess
    import sys

    root = make_mini_project(tmp_path / "mini")
    work = root / ".reprobook"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(root)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        # The running build's scratch folders: the second build must not touch them.
        (work / "stage-running").mkdir()
        (work / "run-a-running").mkdir()
        result = run_cli("build", "--root", root)
        assert_one_clear_message(result, f"another build is running (pid {holder.pid})")
        assert (work / "stage-running").is_dir() and (work / "run-a-running").is_dir()
        assert not (root / "_site").exists()
        assert not (root / "figures").exists() or not any(
            p.name != "README.md" for p in (root / "figures").iterdir())
        assert_one_clear_message(run_cli("check", "--root", root), "another build is running")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    # Lock released (as when the holder is killed): the next build runs, and
    # what the dead build left in .reprobook/ is removed.
    result = run_cli("build", "--root", root)
    assert result.exit_code == 0, result.output
    assert (root / "_site/index.html").is_file()
    assert not list(work.glob("stage-*")) and not list(work.glob("run-*"))


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    import subprocess
    import sys

    root = make_mini_project(tmp_path / "mini")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(root)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait(timeout=60)
    (root / ".reprobook/stage-killed/site").mkdir(parents=True)
    (root / ".reprobook/run-b-killed").mkdir()
    # The killed build's kernel sockets (in the system's temporary folder,
    # named in its run folder), and another project's, which must stay.
    import tempfile

    sockets = Path(tempfile.mkdtemp(prefix="reprobook-kernel-"))
    (sockets / "k-1").write_text("")
    (root / ".reprobook/run-b-killed/kernel-sockets").write_text(str(sockets))
    others = Path(tempfile.mkdtemp(prefix="reprobook-kernel-"))
    try:
        build(load_project(root))
        assert (root / "_site/index.html").is_file()
        assert not (root / ".reprobook/stage-killed").exists()
        assert not (root / ".reprobook/run-b-killed").exists()
        assert not sockets.exists(), "the killed build's kernel sockets were left behind"
        assert others.is_dir(), "another build's kernel sockets were removed"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        shutil.rmtree(others, ignore_errors=True)


def test_clean_and_verify_wait_for_no_one_and_touch_nothing_while_a_build_runs(tmp_path):
    import subprocess
    import sys

    from .test_bad_input import site_fingerprint

    root = make_mini_project(tmp_path / "mini")
    project = load_project(root)
    build(project)
    before = site_fingerprint(project.site_dir)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(root)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for command in ("clean", "verify"):
            assert_one_clear_message(run_cli(command, "--root", root),
                                     f"another build is running (pid {holder.pid})")
        assert site_fingerprint(project.site_dir) == before
        assert (root / ".reprobook/cache").is_dir()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    result = run_cli("clean", "--root", root)
    assert result.exit_code == 0, result.output
    assert not project.site_dir.exists()
    # Everything in .reprobook/ but the lock file itself: a build started
    # during the clean would lock the same file.
    assert [p.name for p in (root / ".reprobook").iterdir()] == ["build.lock"]


# Set while a test watches the published site through every file-system
# operation Python makes (sys.addaudithook: hooks cannot be removed, so one
# is installed once and switched by this list).
_WATCH: list = []


def _watch_site(event, args):
    if _WATCH and not _WATCH[0]["inside"]:
        state = _WATCH[0]
        state["inside"] = True  # is_file below must not recurse into the hook
        try:
            index = state["site"] / "index.html"
            state["seen"].append((event, index.read_text() if index.is_file() else None))
        finally:
            state["inside"] = False


def test_publishing_never_leaves_a_moment_without_a_complete_site(tmp_path):
    """Before every file-system operation of a publish (and after the last),
    the published site is complete: the old one or the new one, never none
    (before: between the two renames of the swap there was no site)."""
    import sys

    from reprobook.publish import swap_in

    site = tmp_path / "_site"
    site.mkdir()
    (site / "index.html").write_text("old")
    (site / "page.html").write_text("old page")
    for attempt in range(3):
        new = tmp_path / f".reprobook/stage-{attempt}/site"
        new.mkdir(parents=True)
        (new / "index.html").write_text(f"new {attempt}")
        if not _WATCH and not getattr(sys, "_reprobook_site_hook", False):
            sys.addaudithook(_watch_site)
            sys._reprobook_site_hook = True
        state = {"site": site, "seen": [], "inside": False}
        _WATCH.append(state)
        try:
            swap_in(new, site)
        finally:
            _WATCH.clear()
        states = [text for _, text in state["seen"]] + [(site / "index.html").read_text()]
        assert None not in states, f"no site during {[e for e, t in state['seen'] if t is None]}"
        assert states[-1] == f"new {attempt}" and not (site / "page.html").exists()
        assert set(states) <= {"old", f"new {attempt - 1}", f"new {attempt}"}
        assert not new.exists(), "the old site was left in the stage folder"
        assert not (tmp_path / "_site.previous").exists()


def test_crash_between_the_swap_renames_is_recovered_by_the_next_build(tmp_path):
    from reprobook.errors import DataError

    from .test_bad_input import site_fingerprint

    root = make_mini_project(tmp_path / "mini")
    project = load_project(root)
    build(project)
    before = site_fingerprint(project.site_dir)
    # The crash: the old site was renamed aside, the new one never arrived.
    project.site_dir.rename(root / "_site.previous")
    # The next build fails (bad data); the site must be back, unchanged.
    (root / "data/raw/alpha.csv").write_text("id,amount\n1,-5\n")
    rehash(project)
    result = run_cli("build", "--root", root)
    assert_one_clear_message(result, "data/raw/alpha.csv", "previously published site")
    assert site_fingerprint(project.site_dir) == before
    assert not (root / "_site.previous").exists()
    with pytest.raises(DataError):
        build(project)
    assert site_fingerprint(project.site_dir) == before
    # And a successful build after another such crash publishes normally.
    (root / "data/raw/alpha.csv").write_text("id,amount\n1,1000\n2,2500\n")
    rehash(project)
    project.site_dir.rename(root / "_site.previous")
    build(project)
    assert (root / "_site/index.html").is_file() and not (root / "_site.previous").exists()
