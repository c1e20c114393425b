"""The execution cache: keys, store and lookup, shared by every executor.

A notebook's cache key is made of content hashes (never mtimes) of
  - its own cells' source,
  - each raw input it declares,
  - every file of the local analysis packages it declares under `imports`,
  - the cache key of every notebook whose outputs it reads (chained, as
    OWID's etl does: a change upstream changes the keys of exactly its
    dependants, transitively, and of nothing else),
  - the environment lock file and the engine version.
Unlike Quarto's `freeze`, a changed data file therefore re-executes exactly
the notebooks that declared it, and those that consume theirs. A
successful run is kept in .reprobook/cache/<notebook>/ (outputs/,
executed.ipynb, manifest.json with the key) and reused while the key is
unchanged. A result enters the store only complete, by renaming a finished
folder into place (`commit`), whichever executor produced it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import NotebookError
from ..layout import FACTS_FILE, cache_dir
from ..project import NotebookSpec, Project
from ..validate import resource_paths, sha256_of
from . import graph

LOCK_FILE = "requirements.lock"
EXECUTED_NAME = "executed.ipynb"
MANIFEST_NAME = "manifest.json"


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notebook_source_hash(path: Path) -> str:
    """Hash of what the notebook *does*: cell types and sources, not outputs
    or metadata, so saving it in JupyterLab after a run changes nothing."""
    nb = read_notebook(path)
    cells = [(c.cell_type, c.source) for c in nb.cells]
    return _hash_text(json.dumps(cells))


def read_notebook(path: Path):
    """The notebook at `path`, or a NotebookError saying what is wrong with
    the file (empty, not JSON, not a notebook) instead of nbformat's traceback."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
        return nb
    except Exception as exc:  # noqa: BLE001 - any failure means an unreadable file
        size = path.stat().st_size if path.is_file() else 0
        why = "the file is empty" if size == 0 else f"{type(exc).__name__}: {str(exc)[:200]}"
        raise NotebookError(f"{path.name} ({path}) is not a readable Jupyter notebook ({why}): "
                            "open it in Jupyter and save it again, or restore it from version "
                            "control") from None


def package_folder(project: Project, package: str) -> Path:
    """A local package's folder (relative to the root first, so an editable
    checkout is what counts)."""
    folder = project.root / package
    if not folder.is_dir():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise NotebookError(f"imported package '{package}' not found")
        folder = Path(list(spec.submodule_search_locations)[0])
    return folder


def package_hash(project: Project, package: str) -> str:
    """Hash of every .py file of a local package."""
    folder = package_folder(project, package)
    parts = [f"{p.relative_to(folder)}:{sha256_of(p)}" for p in sorted(folder.rglob("*.py"))]
    return _hash_text("\n".join(parts))


@dataclass
class PlannedRun:
    spec: NotebookSpec
    key: str
    components: dict[str, str]
    reasons: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return bool(self.reasons)


# The engine code that decides what a notebook writes: what its kernel runs
# (Step and what it imports, the figure writer, the guard) and the runner
# that assembles the result (facts' cell numbers, the executed notebook).
# A change to it can change a notebook's outputs, so it is part of every
# notebook's key (the rest of the engine, renderers, CLI and executors, is
# not). This is also what a Dask worker must share with the client: the
# worker recomputes the key from its own engine (pipeline/dask.py).
ENGINE_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_ENGINE_FILES = ("notebook.py", "layout.py", "markdown.py", "figures.py", "validate.py",
                         "project.py", "schema.py", "errors.py", "memo.py", "pipeline/graph.py",
                         "pipeline/runner.py", "guard/sitecustomize.py")


@functools.lru_cache(maxsize=1)
def notebook_engine_hash() -> str:
    return _hash_text("\n".join(f"{name}:{sha256_of(ENGINE_ROOT / name)}"
                                 for name in NOTEBOOK_ENGINE_FILES))


def engine_component() -> str:
    """The `engine` part of every cache key: version and notebook_engine_hash."""
    return f"{__version__}:{notebook_engine_hash()}"


def components(project: Project, spec: NotebookSpec, upstream_keys: dict[str, str],
               paths: dict[str, Path] | None = None) -> dict[str, str]:
    paths = resource_paths(project) if paths is None else paths
    parts = {"notebook": notebook_source_hash(project.root / spec.path)}
    for name in spec.inputs:
        parts[f"input:{name}"] = sha256_of(paths[name])
    for package in spec.imports:
        parts[f"import:{package}"] = package_hash(project, package)
    for name in graph.upstreams(spec):
        parts[f"upstream:{name}"] = upstream_keys[name]
    if spec.upstream:
        parts["reads"] = _hash_text(json.dumps(sorted(f"{n}/{p}" for n, p in spec.upstream)))
    lock = project.root / LOCK_FILE
    parts["environment"] = sha256_of(lock) if lock.is_file() else "none"
    parts["engine"] = engine_component()
    parts["outputs"] = _hash_text(json.dumps(sorted(spec.outputs)))
    return parts


def key_of(parts: dict[str, str]) -> str:
    return _hash_text(json.dumps(parts, sort_keys=True))


REASONS = {
    "notebook": "notebook source changed",
    "input": "input '{}' changed",
    "import": "analysis package '{}' changed",
    "upstream": "upstream notebook '{}' changed",
    "reads": "declared upstream inputs changed",
    "environment": "environment lock changed",
    "engine": "engine (version, or the code notebooks run) changed",
    "outputs": "declared outputs changed",
}


def explain(old: dict[str, str], new: dict[str, str]) -> list[str]:
    reasons = []
    for part in sorted(set(old) | set(new)):
        if old.get(part) != new.get(part):
            kind, _, name = part.partition(":")
            reasons.append(REASONS[kind].format(name) if kind in REASONS else f"{part} changed")
    return reasons


def lookup(project: Project, spec: NotebookSpec, key: str, parts: dict[str, str]) -> list[str]:
    """Why `spec` must execute for `key` ([] when its cached result is valid)."""
    manifest = cache_dir(project, spec) / MANIFEST_NAME
    if not manifest.is_file():
        return ["never executed (no cached result)"]
    try:
        cached = json.loads(manifest.read_text())
    except ValueError:
        return ["cached result is damaged"]
    if cached.get("key") != key:
        return explain(cached.get("components", {}), parts)
    if not outputs_present(project, spec):
        return ["cached outputs are missing"]
    return check_record(project, spec)


# The run's record: the sha256 of every file of a cache entry, written when
# the entry is committed and kept outside it, so an entry changed after its
# run (a fact edited in outputs/facts.json, executed.ipynb deleted) is
# noticed and recomputed, never published.
RECORDS = ".records"


def record_path(project: Project, spec: NotebookSpec) -> Path:
    return project.work_dir / "cache" / RECORDS / f"{spec.name}.json"


def entry_digests(entry: Path) -> dict[str, str]:
    return {str(p.relative_to(entry)): sha256_of(p) for p in sorted(entry.rglob("*"))
            if p.is_file()}


def write_record(project: Project, spec: NotebookSpec, entry: Path) -> None:
    path = record_path(project, spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(entry_digests(entry), handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def check_record(project: Project, spec: NotebookSpec) -> list[str]:
    """Why the cached entry cannot be trusted ([] if every file is the one
    its run wrote)."""
    try:
        recorded = json.loads(record_path(project, spec).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["cached result has no record of its files (made by an older engine, or damaged)"]
    current = entry_digests(cache_dir(project, spec))
    changed = sorted(n for n in set(recorded) | set(current) if recorded.get(n) != current.get(n))
    if changed:
        shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        return [f"cached files changed since the run that made them: {shown}"]
    return []


def plan(project: Project) -> list[PlannedRun]:
    """What would run and why, without running anything: upstreams first."""
    runs, keys = [], {}
    paths = resource_paths(project)
    for spec in graph.topological(project.notebooks):
        parts = components(project, spec, keys, paths)
        key = keys[spec.name] = key_of(parts)
        runs.append(PlannedRun(spec, key, parts, lookup(project, spec, key, parts)))
    return runs


def outputs_present(project: Project, spec: NotebookSpec) -> bool:
    base = cache_dir(project, spec) / "outputs"
    return all((base / o).is_file() for o in spec.outputs) and (base / FACTS_FILE).is_file()


def new_scratch(project: Project, name: str) -> Path:
    """A fresh folder under .reprobook/ where one result is assembled (same
    filesystem as the store, so `commit` is a rename)."""
    project.work_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"run-{name}-", dir=project.work_dir))


def write_manifest(folder: Path, run: PlannedRun) -> None:
    (folder / MANIFEST_NAME).write_text(
        json.dumps({"key": run.key, "components": run.components}, indent=2, sort_keys=True) + "\n")


def commit(project: Project, spec: NotebookSpec, scratch: Path) -> Path:
    """Move a complete result (outputs/, executed.ipynb, manifest.json) into
    the store; return its outputs folder. The old entry is moved aside
    first, then deleted: at every instant the entry is absent, the old one or
    the new one, never a mix."""
    for required in ("outputs", EXECUTED_NAME, MANIFEST_NAME):
        if not (scratch / required).exists():
            shutil.rmtree(scratch, ignore_errors=True)
            raise NotebookError(f"{spec.path}: incomplete result ({required} missing); "
                                "nothing was cached")
    target = cache_dir(project, spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f"old-{spec.name}-", dir=project.work_dir))
        os.rename(target, old / "entry")
    record_path(project, spec).unlink(missing_ok=True)  # no record vouches for a half-moved entry
    os.rename(scratch, target)
    write_record(project, spec, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target / "outputs"
