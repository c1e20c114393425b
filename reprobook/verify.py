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


def check_published(project: Project, folder: Path, expected: dict,
                    got: dict[str, str] | None = None) -> list[str]:
    """The published files of one folder against its manifest: each altered,
    missing or extra file, named by its path in the project."""
    want = expected.get("outputs", {})
    got = manifest.outputs_of(folder) if got is None else got
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


def check_root(project: Project) -> list[str]:
    """The site root of an editions site against its root manifest: the root
    pages (index.html, editions.json, ...) and each edition's manifest.
    Rewriting an edition's files together with its manifest is caught here;
    rewriting the root manifest too, only by the rebuild."""
    site = project.site_dir
    path = site / manifest.MANIFEST
    if not path.is_file():
        return [f"published {path.relative_to(project.root)}: missing (the site root's manifest)"]
    root = json.loads(path.read_text())
    current = manifest.root_outputs(site, root.get("editions", []))
    return check_published(project, site, root, current)


def check_published_site(project: Project, registry) -> list[str]:
    """Every published file, before anything is rebuilt: the root and every
    edition folder (or the one folder of a project without editions)."""
    if not registry:
        expected = json.loads((project.site_dir / manifest.MANIFEST).read_text())
        return check_published(project, project.site_dir, expected)
    problems = check_root(project)
    for edition in registry:
        path = project.site_dir / edition.number / manifest.MANIFEST
        if path.is_file():
            problems += check_published(project, path.parent, json.loads(path.read_text()))
    return problems


def verify(project: Project, edition: str | None = None) -> tuple[str, list[str]]:
    """Returns (edition label, differences); no differences = the published
    files match their manifests and the rebuild of the edition is
    byte-identical to its manifest."""
    from .build import build
    from .editions import latest, load_editions
    from .publish import project_lock

    registry = load_editions(project.root)
    if registry:
        number = edition or latest(registry).number
        published = project.site_dir / number / manifest.MANIFEST
    else:
        number = None
        published = project.site_dir / manifest.MANIFEST
    # Hashed holding the project lock: not while a build swaps the site.
    with project_lock(project):
        if not published.is_file():
            raise BuildError(f"no published manifest at {published.relative_to(project.root)}: "
                             "build first")
        expected = json.loads(published.read_text())
        # What readers get now: a file edited (or added, or removed) after
        # publication is named even if the rebuild matches the manifest.
        tampered = check_published_site(project, registry)
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
