"""`reprobook verify`: first hash the published files against their
manifest (naming every altered, missing or extra file), then rebuild the
edition in a clean temporary copy of the source tree and compare it, file by
file, with the published manifest."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from . import manifest
from .errors import BuildError
from .project import Project, load_project

# Generated or machine-local state that a fresh clone does not have.
NOT_SOURCE = {".git", ".venv", ".reprobook", "__pycache__", ".pytest_cache", "test-artifacts",
              "_variables.yml", "node_modules"}


def copy_source(project: Project, dest: Path) -> Path:
    """Copy the project's source (what a clone holds) to `dest`."""
    generated = {project.output_dir, project.output_dir + ".previous"}

    def ignore(folder, names):
        skip = {n for n in names if n in NOT_SOURCE or n in generated or n.endswith(".egg-info")}
        if Path(folder).resolve() == (project.root / "figures").resolve():
            skip |= {n for n in names if n != "README.md"}
        return skip

    shutil.copytree(project.root, dest, ignore=ignore)
    return dest


def check_published(project: Project, folder: Path, expected: dict) -> list[str]:
    """The published files of one edition folder against its manifest: each
    altered, missing or extra file, named by its path in the project."""
    want = expected.get("outputs", {})
    got = manifest.outputs_of(folder)
    problems = []
    for name in sorted(set(want) | set(got)):
        where = (folder / name).relative_to(project.root)
        if name not in got:
            problems.append(f"published {where}: missing (listed in the manifest)")
        elif name not in want:
            problems.append(f"published {where}: extra (not in the manifest)")
        elif want[name] != got[name]:
            problems.append(f"published {where}: altered (sha256 differs from the manifest)")
    return problems


def verify(project: Project, edition: str | None = None) -> tuple[str, list[str]]:
    """Returns (edition label, differences); no differences = the published
    files match their manifest and the rebuild is byte-identical to it."""
    from .build import build
    from .editions import latest, load_editions

    registry = load_editions(project.root)
    if registry:
        number = edition or latest(registry).number
        published = project.site_dir / number / manifest.MANIFEST
    else:
        number = None
        published = project.site_dir / manifest.MANIFEST
    if not published.is_file():
        raise BuildError(f"no published manifest at {published.relative_to(project.root)}: "
                         "build first")
    expected = json.loads(published.read_text())
    # What readers get now, before anything is rebuilt: a file edited (or
    # added, or removed) after publication is named even if the rebuild
    # matches the manifest.
    tampered = check_published(project, published.parent, expected)
    with tempfile.TemporaryDirectory(prefix="reprobook-verify-") as tmp:
        copy = load_project(copy_source(project, Path(tmp) / "project"), profile=project.profile)
        # Inputs first: a changed raw file is named even if it no longer validates.
        current_inputs = manifest.inputs_of(copy)
        input_diffs = manifest.compare({**expected, "outputs": {}, "tools": {}},
                                       {"inputs": current_inputs, "outputs": {}, "tools": {}})
        try:
            result = build(copy, edition=number, renderer="builtin")
        except BuildError as exc:
            return number or "", [*tampered, *input_diffs, f"rebuild failed: {exc}"]
        actual = json.loads((result.output_dir / manifest.MANIFEST).read_text())
    return number or "", [*tampered, *manifest.compare(expected, actual)]
