"""`reprobook verify URL-or-PATH`: verify an edition from what is published
alone (its site on the web, a downloaded site folder, or the replication
package by itself), with no git and no clone. Fetch the edition's manifest
and replication package, check the package against the manifest and its own
index, unpack it into an empty folder, rebuild there with the pinned
environment, and compare every file byte for byte."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import manifest, replication
from .errors import BuildError


@dataclass
class Report:
    label: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was done, for the reviewer
    identical: int = 0  # published files the rebuild reproduced byte for byte


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (http(s) only)
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise BuildError(f"could not fetch {url}: {getattr(exc, 'reason', exc)}") from None


def _json(data: bytes, where: str) -> dict:
    try:
        return json.loads(data)
    except ValueError:
        raise BuildError(f"{where} is not a reprobook manifest (not JSON)") from None


class _Source:
    """Where the edition is published: a URL or a folder."""

    def __init__(self, location: str):
        self.url = location.startswith(("http://", "https://"))
        self.base = (location.rstrip("/") + "/") if self.url else Path(location)

    def read(self, name: str) -> bytes:
        if self.url:
            return _get(urllib.parse.urljoin(self.base, name))
        path = self.base / name
        if not path.is_file():
            raise BuildError(f"{path} not found: is {self.base} a published reprobook site "
                             "(a folder holding manifest.json)?")
        return path.read_bytes()

    def child(self, name: str) -> "_Source":
        return _Source(urllib.parse.urljoin(self.base, name + "/") if self.url
                       else str(self.base / name))

    def __str__(self) -> str:
        return str(self.base)


def verify_published(location: str, edition: str | None = None,
                     python: str | None = None) -> Report:
    """Verify the edition published at `location` (an http(s) URL of a site
    or edition folder, a local site or edition folder, or a replication
    package .zip)."""
    if not location.startswith(("http://", "https://")):
        path = Path(location)
        if path.is_file():
            return _verify_archive_alone(path, python)
        if not path.is_dir():
            raise BuildError(f"{location}: no such file or folder (give an edition's address, "
                             "a published site folder or a replication package .zip)")
    source = _Source(location)
    expected = _json(source.read(manifest.MANIFEST), f"{source}{manifest.MANIFEST}")
    if "editions" in expected and "inputs" not in expected:  # a site root: pick the edition
        numbers = expected["editions"]
        number = edition or numbers[-1]
        if number not in numbers:
            raise BuildError(f"no edition '{number}' at {source} (published: {', '.join(numbers)})")
        source = source.child(number)
        expected = _json(source.read(manifest.MANIFEST), f"{source}{manifest.MANIFEST}")
    package = expected.get("replication")
    if not package:
        raise BuildError(f"the manifest at {source} lists no replication package (an edition "
                         "built before packages existed): verify it from its project instead")
    report = Report(label=f"edition {expected.get('edition')}" if expected.get("edition")
                    else "the publication")
    if not source.url:
        # What readers get now, before any rebuild.
        got = manifest.outputs_of(source.base)
        report.problems += [_state("published", name, expected["outputs"], got)
                            for name in sorted(set(expected["outputs"]) | set(got))
                            if expected["outputs"].get(name) != got.get(name)]
    else:
        report.notes.append("fetched the manifest and the replication package; the rebuild is "
                            "compared with the manifest's sha256 of every published file")
    data = source.read(package["path"])
    digest = hashlib.sha256(data).hexdigest()
    if digest != package["sha256"] or len(data) != package["bytes"]:
        report.problems.append(f"package {package['path']}: sha256 or size differs from the "
                               "manifest (the archive was altered or replaced)")
    with tempfile.TemporaryDirectory(prefix="reprobook-replicate-") as tmp:
        archive = Path(tmp) / package["path"]
        archive.write_bytes(data)
        _rebuild_and_compare(archive, Path(tmp), expected, report, python)
    return report


def _state(kind: str, name: str, want: dict, got: dict) -> str:
    if name not in got:
        return f"{kind} {name}: missing (listed in the manifest)"
    if name not in want:
        return f"{kind} {name}: extra (not in the manifest)"
    return f"{kind} {name}: differs (sha256 is not the manifest's)"


def _verify_archive_alone(archive: Path, python: str | None) -> Report:
    """The package without its site: a manifest.json beside it (a
    downloaded edition folder) is used if it lists this archive; otherwise
    the package is checked against its own index, rebuilt, and the rebuilt
    package compared with it."""
    beside = archive.parent / manifest.MANIFEST
    if beside.is_file():
        expected = _json(beside.read_bytes(), str(beside))
        if (expected.get("replication") or {}).get("path") == archive.name:
            return verify_published(str(archive.parent), python=python)
    report = Report(label=archive.name)
    report.notes.append("no manifest beside the archive: checked it against its own index "
                        f"({replication.INDEX}) and compared the rebuilt package with it")
    with tempfile.TemporaryDirectory(prefix="reprobook-replicate-") as tmp:
        _rebuild_and_compare(archive, Path(tmp), None, report, python)
    return report


def _unpack(archive: Path, dest: Path) -> dict:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                parts = PurePosixPath(info.filename).parts
                if info.filename.startswith("/") or ".." in parts:
                    raise BuildError(f"{archive.name}: unsafe path {info.filename!r} in the archive")
            zf.extractall(dest)
    except zipfile.BadZipFile:
        raise BuildError(f"{archive.name} is not a zip archive (a replication package is one)") from None
    index = dest / replication.INDEX
    if not index.is_file():
        raise BuildError(f"{archive.name} has no {replication.INDEX}: not a replication package")
    return json.loads(index.read_text(encoding="utf-8"))


def _rebuild_and_compare(archive: Path, tmp: Path, expected: dict | None, report: Report,
                         python: str | None = None) -> None:
    project_dir = tmp / "project"
    index = _unpack(archive, project_dir)
    # Every file against the package's own index.
    listed = index.get("files", {})
    present = {p.relative_to(project_dir).as_posix(): p for p in project_dir.rglob("*")
               if p.is_file() and p.name not in (replication.INDEX, "README.txt")}
    for name in sorted(set(listed) | set(present)):
        if name not in present:
            report.problems.append(f"package file {name}: missing (listed in {replication.INDEX})")
        elif name not in listed:
            report.problems.append(f"package file {name}: extra (not in {replication.INDEX})")
        elif replication.sha256_of(present[name]) != listed[name]:
            report.problems.append(f"package file {name}: altered (sha256 differs from "
                                   f"{replication.INDEX})")
    # The engine's source leaves the book's folder (the build does not read it).
    engine_src = tmp / replication.ENGINE_FOLDER
    (project_dir / replication.ENGINE_FOLDER).rename(engine_src)
    for extra in (replication.INDEX, "README.txt"):
        (project_dir / extra).unlink()
    lock = project_dir / "requirements.lock"
    differences = replication.environment_differences(
        lock.read_text(encoding="utf-8") if lock.is_file() else "", index.get("engine", {}))
    number = index.get("edition")
    renderer = ((expected or {}).get("tools") or {}).get("renderer", "builtin")
    recorded = expected or {"build_environment": {}}
    if python:
        report.notes.append(f"rebuilt with {python} as asked, with the package's own engine "
                            "(PYTHONPATH=engine)")
        rebuild = functools.partial(_rebuild_with, python, project_dir, engine_src, number,
                                    renderer, recorded)
    elif not differences:
        report.notes.append(
            "rebuilt with this Python environment: "
            + ("every package pinned in requirements.lock is installed at its pinned version, "
               if lock.is_file() else "the package pins no packages (it has no requirements.lock), ")
            + "and the engine's files match the package's")
        rebuild = functools.partial(_rebuild_here, project_dir, number, renderer, recorded)
    else:
        report.notes.append("this Python environment differs from the pinned one ("
                            + "; ".join(differences[:3]) + ("; ..." if len(differences) > 3 else "")
                            + "): rebuilt in a fresh virtual environment from requirements.lock "
                            "with the package's engine")
        rebuild = functools.partial(_rebuild_in_venv, project_dir, engine_src, tmp / "venv",
                                    number, renderer, recorded)
    try:
        site = rebuild()
    except BuildError as exc:  # the files named above are kept: they say why
        report.problems.append(f"the rebuild from the package failed: {exc}")
        return
    folder = site / number if number else site
    actual = json.loads((folder / manifest.MANIFEST).read_text())
    if expected is None:
        rebuilt = actual.get("replication", {})
        if rebuilt.get("sha256") != replication.sha256_of(archive):
            report.problems.append("package: the rebuild made a different replication package "
                                   "(a file in it was changed or added after it was made)")
        report.identical = len(actual.get("outputs", {}))
        return
    report.problems += manifest.compare(expected, actual)
    report.identical = sum(1 for name, digest in expected["outputs"].items()
                           if actual["outputs"].get(name) == digest)


def _rebuild_here(project_dir: Path, number: str | None, renderer: str, recorded: dict) -> Path:
    from .build import build
    from .project import load_project

    with manifest.replayed_build_environment(recorded):
        return build(load_project(project_dir), edition=number, renderer=renderer).site


def _rebuild_in_venv(project_dir: Path, engine_src: Path, venv: Path, number: str | None,
                     renderer: str, recorded: dict) -> Path:
    """The pinned environment: a fresh virtual environment with exactly
    requirements.lock, and the package's own engine on PYTHONPATH."""
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "-r", str(project_dir / "requirements.lock")])
    return _rebuild_with(python, project_dir, engine_src, number, renderer, recorded)


def _run(args: list[str], **kw) -> None:
    proc = subprocess.run(args, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise BuildError(f"{' '.join(args[:4])} ... failed:\n{(proc.stderr or proc.stdout)[-2000:]}")


def _rebuild_with(python: str, project_dir: Path, engine_src: Path, number: str | None,
                  renderer: str, recorded: dict) -> Path:
    """`reprobook build` of the unpacked package with `python`, the
    package's engine first on its path."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PYTHONPATH"] = str(engine_src)
    # its scripts (the notebooks' kernel) before anything else on PATH
    env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", "")])
    for name, value in (recorded.get("build_environment") or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    args = [python, "-m", "reprobook", "build", "--root", str(project_dir), "--renderer", renderer]
    _run(args + (["--edition", number] if number else []), env=env)
    from .project import load_project

    return load_project(project_dir).site_dir
