"""The replication package and `reprobook verify URL-OR-PATH`: an edition
verified from what is published alone (its site served on 127.0.0.1, a site
folder, or the package by itself), on a synthetic mini book."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import textwrap
import threading
import zipfile
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from reprobook.build import build
from reprobook.cli import main
from reprobook.project import load_project
from reprobook.replication import INDEX, write_package

from .conftest import ONE_EDITION, make_mini_project

ARCHIVE = "mini-1.0-replication.zip"


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    """A mini book with one edition, built once for this module's tests;
    returns its site folder (tests copy it before changing anything)."""
    root = make_mini_project(tmp_path_factory.mktemp("replication") / "mini")
    (root / "editions.yml").write_text(ONE_EDITION)
    build(load_project(root), renderer="builtin")
    return root / "_site"


def verify(target: Path | str):
    return CliRunner().invoke(main, ["verify", str(target)])


def test_the_package_is_linked_with_size_and_sha256_and_listed_in_the_manifest(edition):
    archive = edition / "1.0" / ARCHIVE
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    manifest = json.loads((edition / "1.0/manifest.json").read_text())
    assert manifest["replication"] == {"path": ARCHIVE, "bytes": len(data), "sha256": digest}
    for page in ("index.html", "data.html"):
        soup = BeautifulSoup((edition / "1.0" / page).read_text(encoding="utf-8"), "html.parser")
        link = soup.find("a", href=ARCHIVE)
        assert link is not None, page
        text = link.find_parent(["li", "p"]).get_text(" ")
        assert f"{len(data):,} bytes" in text and digest in text, page
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        index = json.loads(zf.read(INDEX))
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o644}
    # What built it, with the engine's source; nothing generated.
    for name in ("index.qmd", "chapters/one.qmd", "notebooks/a.ipynb", "data/raw/alpha.csv",
                 "data/raw/datapackage.json", "_quarto.yml", "reprobook.yml", "editions.yml",
                 "_extensions/reprobook/_extension.yml", "engine/reprobook/build.py"):
        assert name in names and name in index["files"]
    assert not [n for n in names if n.startswith(("_site", ".reprobook", "figures/"))
                or n.endswith(".pyc")]
    # The manifest hashes the inputs the package holds, and the engine.
    assert manifest["inputs"]["configuration"]["_extensions/reprobook/fact.lua"] == \
        index["files"]["_extensions/reprobook/fact.lua"]
    assert manifest["inputs"]["engine"]["reprobook"] == index["engine"]["digest"]


def test_the_package_is_deterministic(edition, tmp_path):
    project = load_project(edition.parent)
    first = write_package(project, tmp_path / "a" / ARCHIVE, "1.0")
    (tmp_path / "b").mkdir()
    second = write_package(project, tmp_path / "b" / ARCHIVE, "1.0")
    assert first == second == json.loads((edition / "1.0/manifest.json").read_text())["replication"]


def test_verify_from_the_site_served_on_localhost_passes(edition):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(edition))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # The site's root address: verify picks the newest edition from its manifest.
        result = verify(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "rebuilt with this Python environment" in result.output
    assert "edition 1.0: the replication package matches the manifest" in " ".join(result.output.split())
    files = len(json.loads((edition / "1.0/manifest.json").read_text())["outputs"])
    assert f"reproduced all {files} published files byte for byte" in " ".join(result.output.split())


def test_verify_names_a_changed_published_file_and_a_changed_package_file(edition, tmp_path):
    site = shutil.copytree(edition, tmp_path / "site")
    page = site / "1.0/chapters/one.html"
    page.write_text(page.read_text(encoding="utf-8").replace("1,000", "1,001")
                    .replace("3,500", "3,501"), encoding="utf-8")
    result = verify(site)
    output = " ".join(result.output.split())
    assert result.exit_code == 1
    assert "published chapters/one.html: differs" in output
    assert "Traceback" not in result.output

    # The package alone, with a raw file changed inside it: its own index
    # names the file, and the rebuilt package differs from it.
    original = edition / "1.0" / ARCHIVE
    changed = tmp_path / "alone" / ARCHIVE
    changed.parent.mkdir()
    with zipfile.ZipFile(original) as src, zipfile.ZipFile(changed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "data/raw/beta.csv":
                data = data.replace(b"1,7", b"1,8")
            dst.writestr(info, data)
    result = verify(changed)
    output = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "package file data/raw/beta.csv: altered" in output

    # The untouched package alone passes: rebuilt, it makes itself again.
    shutil.copy(original, changed)
    result = verify(changed)
    assert result.exit_code == 0, result.output
    assert "no manifest beside the archive" in result.output


def test_verify_of_something_else_says_what_to_give(tmp_path):
    (tmp_path / "notes.zip").write_text("not a zip")
    result = verify(tmp_path / "notes.zip")
    assert result.exit_code == 1
    assert "is not a zip archive" in result.output and "Traceback" not in result.output
    result = verify(tmp_path / "nowhere")
    assert result.exit_code == 1 and "no such file or folder" in result.output


# ------------------------------------------------------------- provenance
VALIDATOR_LOCK = Path(__file__).parent / "rocrate" / "requirements.lock"


@pytest.fixture(scope="session")
def roc_validator() -> Path:
    """roc-validator's own virtual environment, made once per lock (its pins
    conflict with the engine's) under ~/.cache/reprobook/; returns its python."""
    import subprocess
    import sys

    digest = hashlib.sha256(VALIDATOR_LOCK.read_bytes()).hexdigest()[:12]
    venv = Path.home() / ".cache" / "reprobook" / f"roc-validator-{digest}"
    python = venv / "bin" / "python"
    if not (venv / "ready").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet",
                               "--python", str(python), "install", "--no-compile", "-r",
                               str(VALIDATOR_LOCK)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        (venv / "ready").write_text(digest)
    return python


def validate_crate(python: Path, folder: Path) -> dict:
    import subprocess

    here = Path(__file__).parent / "rocrate"
    proc = subprocess.run([str(python), str(here / "validate.py"), str(folder), "workflow-run-crate",
                           str(here / "ro-crate-1.1-context.jsonld")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_edition_has_a_valid_workflow_run_crate_and_citation_files(edition, roc_validator,
                                                                        tmp_path):
    import yaml

    folder = edition / "1.0"
    crate = json.loads((folder / "ro-crate-metadata.json").read_text())
    graph = {e["@id"]: e for e in crate["@graph"]}
    manifest = json.loads((folder / "manifest.json").read_text())
    # Every published file (but the crate itself and the manifest written
    # after it) with the manifest's sha256.
    listed = {i: e["sha256"] for i, e in graph.items() if "sha256" in e}
    assert listed == {k: v for k, v in manifest["outputs"].items() if k != "ro-crate-metadata.json"}
    alpha = graph["data/alpha.csv"]
    assert graph[alpha["license"]["@id"]]["name"] == "CC0-1.0"
    assert alpha["isBasedOn"] == "test fixture"
    run = graph["#run-a"]
    assert run["@type"] == "CreateAction" and run["instrument"] == {"@id": "notebooks/a.ipynb"}
    assert run["object"] == {"@id": "data/alpha.csv"}
    assert graph["./"]["mainEntity"] == {"@id": ARCHIVE}
    assert graph["./"]["datePublished"] == "2024-01-02"

    result = validate_crate(roc_validator, folder)
    assert result["valid"], result["issues"]
    # The check can fail: a crate without its main workflow's types does not validate.
    broken = shutil.copytree(folder, tmp_path / "broken")
    crate["@graph"] = [dict(e, **{"@type": "File"}) if e["@id"] == ARCHIVE else e
                       for e in crate["@graph"]]
    (broken / "ro-crate-metadata.json").write_text(json.dumps(crate))
    result = validate_crate(roc_validator, broken)
    assert not result["valid"]
    assert any("Main Workflow must have types" in i["message"] for i in result["issues"])

    cff = yaml.safe_load((folder / "CITATION.cff").read_text())
    assert (cff["cff-version"], cff["version"], cff["date-released"], cff["license"]) == \
        ("1.2.0", "1.0", "2024-01-02", "CC0-1.0")
    zenodo = json.loads((folder / ".zenodo.json").read_text())
    assert (zenodo["version"], zenodo["publication_date"], zenodo["upload_type"]) == \
        ("1.0", "2024-01-02", "publication")


def test_the_manifest_hashes_every_input_that_can_change_an_output(tmp_path):
    """The report's own modules, configuration, references, fonts and the
    engine are hashed (no build needed: the inputs are read from the tree)."""
    from reprobook import manifest, replication

    root = make_mini_project(tmp_path / "mini")
    (root / "helpers").mkdir()
    (root / "helpers/__init__.py").write_text("SCALE = 1\n")
    (root / "fonts").mkdir()
    (root / "fonts/Face.ttf").write_bytes(b"not really a font")
    (root / "references.json").write_text("[]\n")
    text = (root / "reprobook.yml").read_text()
    (root / "reprobook.yml").write_text(text.replace(
        "inputs: [alpha]\n", "inputs: [alpha]\n    imports: [helpers]\n"))
    inputs = manifest.inputs_of(load_project(root))
    assert list(inputs) == list(manifest.INPUT_GROUPS)
    assert "helpers/__init__.py" in inputs["code"]
    assert {"fonts/Face.ttf", "references.json", "_quarto.yml", "reprobook.yml"} <= \
        set(inputs["configuration"])
    assert inputs["engine"] == {"reprobook": replication.engine_digest()}

    # A change to the report's module is named by the comparison verify makes.
    (root / "helpers/__init__.py").write_text("SCALE = 2\n")
    changed = manifest.inputs_of(load_project(root))
    problems = manifest.compare({"inputs": inputs, "outputs": {}, "tools": {}},
                                {"inputs": changed, "outputs": {}, "tools": {}})
    assert problems == ["input helpers/__init__.py: changed"]


def test_an_older_editions_package_holds_what_the_newer_editions_need(tmp_path):
    """Rebuilding 1.0 in an empty folder builds 1.1 too (its pages link
    to it), so 1.0's package holds 1.1's notebook and chapter as well."""
    from .conftest import write_notebook

    root = make_mini_project(tmp_path / "mini")
    write_notebook(root / "notebooks/c.ipynb", "c", "beta", "gamma")
    (root / "appendix").mkdir()
    (root / "appendix/three.qmd").write_text("# Three\n\nMore.\n")
    (root / "_quarto-new.yml").write_text(textwrap.dedent("""\
        book:
          chapters: [index.qmd, chapters/one.qmd, chapters/two.qmd, appendix/three.qmd]
        """))
    (root / "reprobook-new.yml").write_text(textwrap.dedent("""\
        notebooks:
          - {path: notebooks/c.ipynb, inputs: [beta]}
        """))
    (root / "editions.yml").write_text(textwrap.dedent("""\
        editions:
          - {number: "1.0", date: "2024-01-02", title: "Mini", status: superseded,
             summary: "First.", profile: null}
          - {number: "1.1", date: "2024-06-02", title: "Mini", status: current,
             summary: "Second.", profile: new}
        """))
    older = load_project(root)
    assert "notebooks/c.ipynb" not in [nb.path for nb in older.notebooks]
    write_package(older, tmp_path / ARCHIVE, "1.0")
    names = zipfile.ZipFile(tmp_path / ARCHIVE).namelist()
    assert {"notebooks/c.ipynb", "appendix/three.qmd", "_quarto-new.yml",
            "reprobook-new.yml"} <= set(names)
