"""The replication package: one deterministic zip per edition holding
exactly what built it (text, notebooks, the report's own code,
configuration, references, fonts, the Quarto extension, raw data, the
environment lock) and the engine itself (its source under engine/, since it
is not on PyPI), with REPLICATION.json listing the sha256 of every file.

A reviewer with only the website downloads it and runs
`reprobook verify URL`: see verify.verify_package."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from . import __version__
from .project import Project
from .validate import resource_paths

INDEX = "REPLICATION.json"
ENGINE_FOLDER = "engine"  # the engine's source inside the package
ENGINE_DIR = Path(__file__).resolve().parent
# Files a build never reads (machine state, bytecode).
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
# Root-level configuration files that can change an output.
CONFIG_GLOBS = ("_quarto*.yml", "reprobook*.yml", "editions.yml", "references*.json", "*.bib",
                "*.csl")
# Folders read whole: citation styles, fonts, the Quarto extension.
CONFIG_FOLDERS = ("csl", "fonts", "_extensions")


def _tree(folder: Path) -> list[Path]:
    out = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        out += [Path(here) / n for n in sorted(names) if not n.endswith((".pyc", ".pyo"))]
    return out


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def engine_files() -> dict[str, Path]:
    """The installed engine's files (the package folder), by path under
    reprobook/."""
    return {f"reprobook/{p.relative_to(ENGINE_DIR).as_posix()}": p for p in _tree(ENGINE_DIR)}


def engine_digest() -> str:
    """One sha256 over the installed engine's files (names and contents):
    any change to the engine's code, templates or filters changes it."""
    h = hashlib.sha256()
    for name, path in sorted(engine_files().items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def input_groups(project: Project) -> dict[str, dict[str, Path]]:
    """Every project file that can change an output, by group (path
    relative to the root -> file). The manifest hashes these groups; the
    package holds them."""
    root = project.root

    def rel(path: Path) -> str:
        return path.relative_to(root).as_posix()

    def under(folder: Path) -> dict[str, Path]:
        return {rel(p): p for p in _tree(folder)} if folder.is_dir() else {}

    chapters: dict[str, Path] = {}
    for chapter in project.chapters:
        path = root / chapter
        chapters[rel(path)] = path
        if path.parent != root:  # included files and images next to the chapters
            chapters.update(under(path.parent))
    raw = {rel(p): p for p in resource_paths(project).values()}
    if (root / project.datapackage).is_file():
        raw[project.datapackage] = root / project.datapackage
    code: dict[str, Path] = {}
    for package in sorted({name for nb in project.notebooks for name in nb.imports}):
        code.update(under(root / package))
    config = {rel(p): p for pattern in CONFIG_GLOBS for p in root.glob(pattern) if p.is_file()}
    for folder in CONFIG_FOLDERS + tuple(project.assets):
        config.update(under(root / folder))
    if (root / "figures" / "README.md").is_file():
        config["figures/README.md"] = root / "figures" / "README.md"
    lock = root / "requirements.lock"
    groups = {"raw": raw, "notebooks": {nb.path: root / nb.path for nb in project.notebooks},
              "chapters": chapters, "code": code, "configuration": config,
              "environment": {"requirements.lock": lock} if lock.is_file() else {}}
    return {name: dict(sorted(files.items())) for name, files in groups.items()}


def package_name(pdf_name: str) -> str:
    """The archive's file name, after the edition's PDF (book-1.1.pdf ->
    book-1.1-replication.zip), so downloads of two editions do not clash."""
    return Path(pdf_name).stem + "-replication.zip"


README = """Replication package of {title}{edition}

It holds everything that built this edition: the chapters, notebooks, the
report's own code, configuration, references, fonts, the Quarto extension,
the raw data with its data package, requirements.lock (the exact Python
environment) and, under engine/, the source of the publishing engine
(reprobook {version}; it is not on PyPI). {index} lists the sha256 of
every file.

To rebuild it and compare every published file byte for byte:

    python -m venv .venv && .venv/bin/pip install -r requirements.lock
    PYTHONPATH=engine .venv/bin/python -m reprobook verify THIS-ZIP-OR-THE-EDITION-URL

or, to only build it: PYTHONPATH=engine .venv/bin/python -m reprobook build
"""


def write_package(project: Project, archive: Path, edition: str | None) -> dict:
    """Write the package to `archive`; returns {path, bytes, sha256} (path
    is the archive's file name)."""
    from .render.site import deterministic_zip

    from .editions import load_editions
    from .project import load_project

    # Every edition's inputs: rebuilding one edition in an empty folder also
    # builds the editions its pages link to (build._build_editions).
    projects = [load_project(project.root, profile=e.profile)
                for e in load_editions(project.root)] or [project]
    files: dict[str, Path] = {}
    for each in projects:
        for group in input_groups(each).values():
            files.update(group)
    engine = {f"{ENGINE_FOLDER}/{name}": path for name, path in engine_files().items()}
    index = {"edition": edition, "title": project.title,
             "engine": {"name": "reprobook", "version": __version__, "digest": engine_digest(),
                        "source": f"{ENGINE_FOLDER}/reprobook/"},
             "files": {name: sha256_of(path) for name, path in sorted({**files, **engine}.items())}}
    generated = archive.parent / f".{archive.name}.parts"
    generated.mkdir(parents=True, exist_ok=True)
    (generated / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n",
                                   encoding="utf-8")
    (generated / "README.txt").write_text(README.format(
        title=project.title, edition=f", edition {edition}" if edition else "",
        version=__version__, index=INDEX), encoding="utf-8")
    entries = [*files.items(), *engine.items(), (INDEX, generated / INDEX),
               ("README.txt", generated / "README.txt")]
    deterministic_zip(entries, archive)
    for part in generated.iterdir():
        part.unlink()
    generated.rmdir()
    return {"path": archive.name, "bytes": archive.stat().st_size, "sha256": sha256_of(archive)}


# ---------------------------------------------------------------- verifying
def locked_versions(lock: str) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements.lock."""
    pins = {}
    for line in lock.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            name, version = line.split("==", 1)
            pins[_normal(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def _normal(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower().strip()


def environment_differences(lock: str, engine: dict) -> list[str]:
    """How this Python environment differs from the one a package pins:
    each locked package installed at another version (or missing), and the
    engine if its files differ. Empty: rebuild here."""
    from importlib import metadata

    installed = {_normal(d.metadata["Name"] or ""): d.version for d in metadata.distributions()}
    differences = [f"{name}=={version} is pinned, {installed.get(name, 'not installed')} here"
                   for name, version in sorted(locked_versions(lock).items())
                   if installed.get(name) != version]
    if engine.get("digest") != engine_digest():
        differences.append(f"the engine's files differ from the package's engine "
                           f"(reprobook {engine.get('version')} there, {__version__} here)")
    return differences
