"""The Quarto extension travels with the engine (reprobook/extension.py):
a missing copy is written, an older one the engine wrote is refreshed, one
the author changed is kept and named in a warning."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from reprobook import extension
from reprobook.build import update_extension
from reprobook.project import load_project

from .conftest import ROOT, make_mini_project


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != extension.STAMP}


def test_the_repositorys_extension_is_the_packaged_one():
    """This report is a real Quarto project with its own _extensions/reprobook:
    it must be the engine's copy (edit reprobook/quarto_extension/, then
    build, or copy it over)."""
    folder = ROOT / "_extensions/reprobook"
    assert _files(folder) == _files(extension.SOURCE)
    # stamped as the engine writes it (read only: a test never writes into the checkout)
    assert json.loads((folder / extension.STAMP).read_text())["files"] == extension.engine_files()


def test_missing_extension_is_written_by_the_build(tmp_path):
    project = load_project(make_mini_project(tmp_path / "mini"))
    messages = []

    class Reporter:
        step = done = messages.append

    update_extension(project, Reporter())
    folder = project.root / "_extensions/reprobook"
    assert _files(folder) == _files(extension.SOURCE)
    stamp = json.loads((folder / extension.STAMP).read_text())
    assert stamp["files"]["fact.lua"] == hashlib.sha256((folder / "fact.lua").read_bytes()).hexdigest()
    assert stamp["version"] == "1.0.0"
    assert messages == ["written _extensions/reprobook/ (the engine's Quarto extension, version 1.0.0)"]
    messages.clear()
    update_extension(project, Reporter())
    assert messages == []  # current: nothing written, nothing said


def _as_older_engine_wrote_it(root: Path) -> Path:
    """The extension as an older engine (version 0.9.0, another filter)
    would have written it, stamp included."""
    folder = root / "_extensions/reprobook"
    extension.write(root)
    yml = folder / "_extension.yml"
    yml.write_text(yml.read_text().replace("version: 1.0.0", "version: 0.9.0"))
    (folder / "reprobook.lua").write_text("-- an older filter\n")
    stamp = json.loads((folder / extension.STAMP).read_text())
    for name in ("_extension.yml", "reprobook.lua"):
        stamp["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    stamp["version"] = "0.9.0"
    (folder / extension.STAMP).write_text(json.dumps(stamp))
    return folder


def test_older_extension_is_refreshed(tmp_path):
    folder = _as_older_engine_wrote_it(tmp_path)
    assert extension.ensure(tmp_path) == ("refreshed", [])
    assert _files(folder) == _files(extension.SOURCE)
    assert json.loads((folder / extension.STAMP).read_text())["version"] == "1.0.0"


def test_modified_extension_is_kept_and_named(tmp_path):
    folder = _as_older_engine_wrote_it(tmp_path)
    changed = (folder / "fact.lua").read_text() + "-- my own tweak\n"
    (folder / "fact.lua").write_text(changed)
    done, warnings = extension.ensure(tmp_path)
    assert done == "kept"
    assert warnings == ["_extensions/reprobook/ was changed since reprobook wrote it, so it is kept "
                        "as it is and not updated: fact.lua. To get the engine's copy, delete "
                        "_extensions/reprobook/ and build again."]
    assert (folder / "fact.lua").read_text() == changed
    assert (folder / "reprobook.lua").read_text() == "-- an older filter\n"  # not refreshed either


def test_unstamped_copy_that_differs_is_kept_and_named(tmp_path):
    folder = tmp_path / "_extensions/reprobook"
    extension.write(tmp_path)
    (folder / extension.STAMP).unlink()
    (folder / "common.lua").write_text("-- copied from somewhere else\n")
    done, warnings = extension.ensure(tmp_path)
    assert done == "kept" and len(warnings) == 1
    assert "not written by it" in warnings[0] and "common.lua" in warnings[0]
    assert (folder / "common.lua").read_text() == "-- copied from somewhere else\n"
