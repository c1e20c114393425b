"""`reprobook verify`: first hash the published files against their
manifest (naming every altered, missing or extra file), then rebuild the
edition in a clean temporary copy of the source tree and compare it, file by
file, with the published manifest."""

from __future__ import annotations

import fcntl
import json
import shutil
import tempfile
from pathlib import Path

from . import manifest
from .errors import BuildError
from .project import NOT_SOURCE, Project, load_project
from .publish import VERIFY_HELD

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
    """Returns (what was verified, differences); no differences = the
    published files match their manifests and the rebuild is byte-identical
    to them. Without `edition`, every edition of an editions site is
    rebuilt (one build, as a fresh clone's `reprobook build` makes them) and
    compared, and so is the site root's manifest: replacing an older
    edition's PDF together with its manifests is caught too."""
    from .build import build
    from .editions import load_editions

    registry = load_editions(project.root)
    numbers = [edition] if edition else [e.number for e in registry]
    folders = {n: project.site_dir / n for n in numbers} if registry else {None: project.site_dir}
    # Hashed holding the project lock: not while a build swaps the site.
    from .publish import project_lock

    with project_lock(project):
        expected = {}
        for number, folder in folders.items():
            published = folder / manifest.MANIFEST
            if not published.is_file():
                raise BuildError(f"no published manifest at {published.relative_to(project.root)}: "
                                 "build first")
            expected[number] = json.loads(published.read_text())
        root_expected = None
        if registry and not edition:
            root_path = project.site_dir / manifest.MANIFEST
            root_expected = json.loads(root_path.read_text()) if root_path.is_file() else None
        # What readers get now: a file edited (or added, or removed) after
        # publication is named even if the rebuild matches the manifest.
        tampered = check_published_site(project, registry)
    label = ("the publication" if not registry else
             f"edition {numbers[0]}" if len(numbers) == 1 else f"editions {', '.join(numbers)}")
    # In the project's work folder, not $TMPDIR: a killed verify's copy is
    # removed by the next build or verify (publish.remove_leftovers).
    project.work_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="verify-", dir=project.work_dir) as tmp, \
            open(Path(tmp) / VERIFY_HELD, "w") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # released when closed, or when killed
        copy = load_project(copy_source(project, Path(tmp) / "project"), profile=project.profile)
        problems = list(tampered)
        # Inputs first: a changed raw file is named even if it no longer validates.
        for number, want in expected.items():
            current = load_project(_source_of(copy, registry, number),
                                   profile=_profile_of(registry, number, copy.profile))
            problems += _prefixed(number, len(expected), manifest.compare(
                {**want, "outputs": {}, "tools": {}},
                {"inputs": manifest.inputs_of(current), "outputs": {}, "tools": {}}))
        try:
            with manifest.replayed_build_environment(next(iter(expected.values()))):
                result = build(copy, edition=edition, renderer="builtin")
        except BuildError as exc:
            return label, [*problems, f"rebuild failed: {exc}"]
        for number, want in expected.items():
            folder = copy.site_dir / number if number else result.output_dir
            actual = json.loads((folder / manifest.MANIFEST).read_text())
            problems += _prefixed(number, len(expected),
                                  [p for p in manifest.compare(want, actual)
                                   if not p.startswith("input ")])
        if root_expected is not None:
            actual_root = json.loads((copy.site_dir / manifest.MANIFEST).read_text())
            problems += [f"site root: {p}" for p in _compare_outputs(root_expected, actual_root)]
    return label, problems


def _source_of(copy: Project, registry, number: str | None) -> Path:
    """Where an edition's inputs are: a published edition's snapshot (what
    the rebuild reads; editions.py), else the working files."""
    from . import editions as editionlib

    ed = next((e for e in registry if e.number == number), None)
    record = editionlib.read_snapshot(copy.root, number) if ed and ed.status != editionlib.DRAFT \
        else None
    return editionlib.materialize(copy.root, record, copy.work_dir) if record else copy.root


def _profile_of(registry, number: str | None, default: str | None) -> str | None:
    for ed in registry:
        if ed.number == number:
            return ed.profile
    return default


def _prefixed(number: str | None, count: int, lines: list[str]) -> list[str]:
    return [f"edition {number}: {line}" for line in lines] if number and count > 1 else lines


def _compare_outputs(expected: dict, actual: dict) -> list[str]:
    want, got = expected.get("outputs", {}), actual.get("outputs", {})
    return [f"output {name}: " + ("missing" if name not in got else "new" if name not in want
                                  else "differs")
            for name in sorted(set(want) | set(got)) if want.get(name) != got.get(name)]
