"""Execute notebooks with a real Jupyter kernel, only when something they
depend on changed.

A notebook's cache key is made of content hashes (never mtimes) of
  - its own cells' source,
  - each raw input it declares,
  - every file of the local analysis packages it declares under `imports`,
  - the environment lock file and the engine version.
Unlike Quarto's `freeze`, a changed data file therefore re-executes exactly
the notebooks that declared it. Outputs of a successful run are kept in
.reprobook/cache/<notebook>/ and reused while the key is unchanged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat

from . import __version__
from .errors import NotebookError
from .notebook import CHECKS_FILE, FACTS_FILE, OUTPUT_ENV
from .project import NotebookSpec, Project
from .validate import resource_paths, sha256_of

LOCK_FILE = "requirements.lock"
EXECUTED_NAME = "executed.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notebook_source_hash(path: Path) -> str:
    """Hash of what the notebook *does*: cell types and sources, not outputs
    or metadata, so saving it in JupyterLab after a run changes nothing."""
    nb = nbformat.read(path, as_version=4)
    cells = [(c.cell_type, c.source) for c in nb.cells]
    return _hash_text(json.dumps(cells))


def package_hash(project: Project, package: str) -> str:
    """Hash of every .py file of a local package (found relative to the root
    first, so an editable checkout is what counts)."""
    folder = project.root / package
    if not folder.is_dir():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise NotebookError(f"imported package '{package}' not found")
        folder = Path(list(spec.submodule_search_locations)[0])
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


def _components(project: Project, spec: NotebookSpec) -> dict[str, str]:
    paths = resource_paths(project)
    parts = {"notebook": notebook_source_hash(project.root / spec.path)}
    for name in spec.inputs:
        parts[f"input:{name}"] = sha256_of(paths[name])
    for package in spec.imports:
        parts[f"import:{package}"] = package_hash(project, package)
    lock = project.root / LOCK_FILE
    parts["environment"] = sha256_of(lock) if lock.is_file() else "none"
    parts["engine"] = __version__
    parts["outputs"] = _hash_text(json.dumps(sorted(spec.outputs)))
    return parts


def cache_dir(project: Project, spec: NotebookSpec) -> Path:
    return project.work_dir / "cache" / spec.name


def _explain(old: dict[str, str], new: dict[str, str]) -> list[str]:
    reasons = []
    for part in sorted(set(old) | set(new)):
        if old.get(part) != new.get(part):
            kind, _, name = part.partition(":")
            reasons.append({
                "notebook": "notebook source changed",
                "input": f"input '{name}' changed",
                "import": f"analysis package '{name}' changed",
                "environment": "environment lock changed",
                "engine": "engine version changed",
                "outputs": "declared outputs changed",
            }[kind] if kind in {"notebook", "input", "import", "environment", "engine", "outputs"}
                else f"{part} changed")
    return reasons


def plan(project: Project) -> list[PlannedRun]:
    """What would run and why, without running anything."""
    runs = []
    for spec in project.notebooks:
        parts = _components(project, spec)
        key = _hash_text(json.dumps(parts, sort_keys=True))
        manifest = cache_dir(project, spec) / "manifest.json"
        if not manifest.is_file():
            reasons = ["never executed (no cached result)"]
        else:
            cached = json.loads(manifest.read_text())
            reasons = [] if cached.get("key") == key else _explain(cached.get("components", {}), parts)
            if not reasons and not _outputs_present(project, spec):
                reasons = ["cached outputs are missing"]
        runs.append(PlannedRun(spec, key, parts, reasons))
    return runs


def _outputs_present(project: Project, spec: NotebookSpec) -> bool:
    base = cache_dir(project, spec) / "outputs"
    return all((base / o).is_file() for o in spec.outputs) and (base / FACTS_FILE).is_file()


def _locate_failure(nb) -> tuple[int, str]:
    for index, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = ANSI.sub("", "\n".join(output.get("traceback", [])))
                return index, trace
    return 0, ""


GUARD_DIR = Path(__file__).resolve().parent / "guard"
CONFIG_FILES = ("_quarto*.yml", "reprobook*.yml", "editions.yml", LOCK_FILE, "pyproject.toml")


def guard_policy(project: Project, spec: NotebookSpec, output_dir: Path, tmp: Path) -> dict:
    """What the kernel's audit hook (reprobook/guard/sitecustomize.py) lets
    the notebook read and write: its declarations in reprobook.yml, nothing
    more, inside the project."""
    import sys

    root = project.root.resolve()
    real = lambda p: os.path.realpath(p)  # noqa: E731
    paths = resource_paths(project)
    read_files = {real(paths[name]) for name in spec.inputs}
    read_files |= {real(root / project.datapackage), real(root / spec.path)}
    read_files |= {real(p) for pattern in CONFIG_FILES for p in root.glob(pattern)}
    read_dirs = {real(root / package) for package in spec.imports if (root / package).is_dir()}
    read_dirs |= {real(Path(__file__).resolve().parent), real(sys.prefix), real(sys.base_prefix)}
    home = Path.home()
    outside = {real(home / d) for d in (".cache", ".config", ".ipython", ".local", ".jupyter",
                                          ".matplotlib")}
    outside |= {real(os.environ[v]) for v in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "IPYTHONDIR")
                if os.environ.get(v)}
    outside.add("/dev")
    return {"root": str(root), "notebook": spec.path, "read_files": sorted(read_files),
            "read_dirs": sorted(read_dirs),
            "write_dirs": sorted({real(output_dir), real(tmp)}), "tmp": real(tmp),
            "outside_write_dirs": sorted(outside)}


def kernel_environment(output_dir: Path, profile: str | None = None,
                       guard: dict | None = None) -> dict[str, str]:
    """The kernel's environment. As Quarto does for the code it runs, the
    active profile is passed on in QUARTO_PROFILE, so a notebook declared
    only in a profile's reprobook-<profile>.yml finds its own declaration.
    With `guard`, the kernel enforces the notebook's declared inputs and
    outputs (reprobook/guard/), with a private TMPDIR."""
    env = dict(os.environ)
    env.pop("QUARTO_PROFILE", None)
    if profile:
        env["QUARTO_PROFILE"] = profile
    env.update({
        OUTPUT_ENV: str(output_dir),
        "PYTHONHASHSEED": "0",
        "MPLBACKEND": "Agg",
        "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
    })
    if guard is not None:
        env["REPROBOOK_GUARD"] = json.dumps(guard)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(GUARD_DIR), os.environ.get("PYTHONPATH", "")) if p)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["TMPDIR"] = guard["tmp"]
    return env


def execute_one(project: Project, run: PlannedRun, timeout: int | None = None) -> Path:
    """Execute one notebook into a fresh directory; on success move the
    result into the cache and return the cache's outputs directory."""
    from nbclient import NotebookClient
    from traitlets.config import Config
    from nbclient.exceptions import CellExecutionError

    spec = run.spec
    source = project.root / spec.path
    nb = nbformat.read(source, as_version=4)
    project.work_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f"run-{spec.name}-", dir=project.work_dir))
    outputs = scratch / "outputs"
    outputs.mkdir()
    private_tmp = scratch / "tmp"
    private_tmp.mkdir()
    # The kernel talks over IPC sockets in a private folder: no TCP port is
    # opened (and the kernel does not warn about unencrypted TCP).
    sockets = Path(tempfile.mkdtemp(prefix="kernel-"))
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "k")}})
    timeout = timeout or spec.timeout or None
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            config=config, resources={"metadata": {"path": str(source.parent)}})
    try:
        client.execute(env=kernel_environment(
            outputs, project.profile, guard_policy(project, spec, outputs, private_tmp)))
    except CellExecutionError as exc:
        cell, trace = _locate_failure(nb)
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: cell {cell} failed\n{trace or ANSI.sub('', str(exc))}") from None
    except Exception as exc:  # kernel died, timeout, ...
        shutil.rmtree(scratch, ignore_errors=True)
        if type(exc).__name__ == "CellTimeoutError":
            raise NotebookError(f"{spec.path}: a cell ran longer than its timeout of {timeout} s "
                                "(raise `timeout` for this notebook in reprobook.yml, or pass "
                                "--timeout)") from None
        raise NotebookError(f"{spec.path}: execution failed: {exc}") from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)

    missing = [o for o in spec.outputs if not (outputs / o).is_file()]
    if not (outputs / FACTS_FILE).is_file():
        missing.append(f"{FACTS_FILE} (did the notebook call step.finish()?)")
    if missing:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: ran, but did not write its declared outputs: {missing}")
    undeclared = sorted(
        str(p.relative_to(outputs)) for p in outputs.rglob("*")
        if p.is_file() and str(p.relative_to(outputs)) not in {*spec.outputs, FACTS_FILE, CHECKS_FILE})
    if undeclared:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: wrote files it does not declare as outputs: {undeclared}")

    shutil.rmtree(private_tmp, ignore_errors=True)
    _attach_cells(outputs / FACTS_FILE, nb)
    nbformat.write(nb, scratch / EXECUTED_NAME)
    (scratch / "manifest.json").write_text(
        json.dumps({"key": run.key, "components": run.components}, indent=2, sort_keys=True) + "\n")
    target = cache_dir(project, spec)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch.rename(target)
    return target / "outputs"


def _attach_cells(facts_file: Path, nb) -> None:
    """Turn each fact's IPython execution count into the notebook cell number
    (1-based, counting all cells as JupyterLab shows them)."""
    by_count = {c.get("execution_count"): i for i, c in enumerate(nb.cells, start=1)
                if c.cell_type == "code"}
    for path in (facts_file, facts_file.with_name(CHECKS_FILE)):
        if not path.is_file():
            continue
        entries = json.loads(path.read_text())
        for entry in entries.values():
            entry["cell"] = by_count.get(entry.pop("execution_count", None))
        path.write_text(json.dumps(entries, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def execute(project: Project, runs: list[PlannedRun], jobs: int | None = None,
            on_done: Callable[[PlannedRun, str], None] | None = None,
            timeout: int | None = None) -> dict[str, Path]:
    """Run what is needed (independent notebooks in parallel); return each
    notebook's outputs directory. The first failure stops the build."""
    results: dict[str, Path] = {}
    todo = [r for r in runs if r.needed]
    for run in runs:
        if not run.needed:
            results[run.spec.name] = cache_dir(project, run.spec) / "outputs"
            if on_done:
                on_done(run, "cached")
    if not todo:
        return results
    workers = max(1, min(len(todo), jobs or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(execute_one, project, run, timeout): run for run in todo}
        for future in as_completed(futures):
            run = futures[future]
            results[run.spec.name] = future.result()  # re-raises NotebookError
            if on_done:
                on_done(run, "executed")
    return results
