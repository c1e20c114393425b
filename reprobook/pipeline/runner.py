"""Run one notebook with a real Jupyter kernel inside a project folder,
guarded by its declarations, and assemble the result in a scratch folder
(outputs/, executed.ipynb, manifest.json). The local pool and the Dask
workers both call `run_notebook`; only where the project folder is differs
(the project itself, or a temporary copy of what the notebook needs)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from .. import extras
from ..errors import NotebookError
from ..locale_env import tool_environment
from ..layout import CHECKS_FILE, FACTS_FILE, OUTPUT_ENV, upstream_file
from ..project import NotebookSpec, Project
from ..publish import KERNEL_SOCKETS_NOTE, KERNEL_SOCKETS_PREFIX
from ..validate import resource_paths
from .cache import (EXECUTED_NAME, LOCK_FILE, PlannedRun, commit, new_scratch, read_notebook,
                    write_manifest)

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# IPython names a notebook cell's frames "Cell In[3], line 2".
CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
IPYTHON_FILE = re.compile(r" \(\d+\.py, line \d+\)$", re.M)
MAX_MESSAGE_LINES = 8  # of the exception's own message; the log has all of it


def describe_failure(nb, path: str) -> tuple[str, str]:
    """(message, whole traceback) for the cell of `nb` that failed. The
    message is short: the notebook, the cell counted as Jupyter counts it
    (the code cell's position, which is its In [n] when run from the top;
    markdown cells do not count), its failing line, and the exception."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is None:
            continue
        trace = ANSI.sub("", "\n".join(error.get("traceback", [])))
        lines = [f"{path}: code cell {number} failed (In [{number}] when the notebook runs "
                 "from the top; markdown cells are not counted)"]
        frames = _cell_frames(trace, cell)
        if frames:
            line = frames[0][1]
            lines.append(f"  line {line}: {_source_line(cell, line)}")
            # raised deeper, in a function a cell defines: where
            inner, inner_line = frames[-1]
            if (inner, inner_line) != frames[0]:
                where = code_cells[inner - 1] if 0 < inner <= len(code_cells) else None
                if where is not None:
                    lines.append(f"  raised in code cell {inner}, line {inner_line}: "
                                 f"{_source_line(where, inner_line)}")
        # IPython names a cell's code after a temporary file: noise here
        evalue = IPYTHON_FILE.sub("", ANSI.sub("", str(error.get("evalue", ""))))
        message = evalue.strip().splitlines() or [""]
        if len(message) > MAX_MESSAGE_LINES:
            message = message[:MAX_MESSAGE_LINES] + ["(...)"]
        lines.append(f"  {error.get('ename', 'Error')}: {message[0][:300]}".rstrip())
        lines += [f"    {m[:300]}" for m in message[1:]]
        return "\n".join(lines), trace
    return f"{path}: a cell failed", ""


def _cell_frames(trace: str, cell) -> list[tuple[int, int]]:
    """(execution count, line) of the notebook-cell frames the exception
    passed through, outermost first, starting at `cell`'s own frame: those
    of the last traceback of the chain (an exception raised while handling
    another prints the first one above)."""
    count = cell.get("execution_count")
    last = trace.rfind("Traceback (most recent call last)")
    frames = [m for m in CELL_FRAME.finditer(trace) if m.start() > last] or \
        list(CELL_FRAME.finditer(trace))
    found = [(int(m.group(1)), int(m.group(2))) for m in frames]
    start = next((i for i, (n, _) in enumerate(found) if n == count), None)
    return found[start:] if start is not None else []


def _source_line(cell, line: int) -> str:
    lines = cell.source.splitlines()
    return lines[line - 1].strip()[:200] if 1 <= line <= len(lines) else "?"


LOG_DIR = "logs"


def log_failure(project: Project, spec: NotebookSpec, exc: NotebookError) -> NotebookError:
    """`exc` with its whole traceback written to .reprobook/logs/<name>.log
    and the message naming that file; unchanged when there is nothing to log."""
    if not exc.log:
        return exc
    log = project.work_dir / LOG_DIR / f"{spec.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(f"{exc}\n\n{exc.log}\n", encoding="utf-8")
    return NotebookError(f"{exc}\n  whole traceback: {log}")


RUN_DIR = re.compile(r"\.reprobook/run-[^/\s'\"]+/outputs/")


def scrub_paths(value, root: Path):
    """`value` (an executed notebook, or any part of it) with the paths of the
    machine that ran it cut from every string: the project folder and the
    scratch run folder, so an output printing `figures/x.svg` reads the same
    whichever folder, machine or Dask worker ran the notebook."""
    prefixes = sorted({str(root).rstrip("/") + "/", os.path.realpath(root).rstrip("/") + "/"},
                      key=len, reverse=True)

    def scrub(item):
        if isinstance(item, str):
            for prefix in prefixes:
                item = item.replace(prefix, "")
            return RUN_DIR.sub("", item)
        if isinstance(item, list):
            return [scrub(v) for v in item]
        if isinstance(item, dict):
            return {k: scrub(v) for k, v in item.items()}
        return item

    return scrub(value)


GUARD_DIR = Path(__file__).resolve().parent.parent / "guard"
ENGINE_DIR = GUARD_DIR.parent
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
    # exactly the upstream outputs it declares (notebook:<name>/<path>)
    read_files |= {real(upstream_file(project, name, rel)) for name, rel in spec.upstream}
    read_files |= {real(root / project.datapackage), real(root / spec.path)}
    read_files |= {real(p) for pattern in CONFIG_FILES for p in root.glob(pattern)}
    read_dirs = {real(root / package) for package in spec.imports if (root / package).is_dir()}
    read_dirs |= {real(ENGINE_DIR), real(sys.prefix), real(sys.base_prefix)}
    home = Path.home()
    outside = {real(home / d) for d in (".cache", ".config", ".ipython", ".local", ".jupyter",
                                          ".matplotlib")}
    outside |= {real(os.environ[v]) for v in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "IPYTHONDIR")
                if os.environ.get(v)}
    outside.add("/dev")
    return {"root": str(root), "notebook": spec.path, "read_files": sorted(read_files),
            "read_dirs": sorted(read_dirs),
            "write_dirs": sorted({real(output_dir), real(tmp)}), "tmp": real(tmp),
            "outputs": list(spec.outputs),  # to say which writes should go through Step
            "outside_write_dirs": sorted(outside)}


SANDBOX = GUARD_DIR / "sandbox.py"
_sandbox: list[bool] = []  # probed once per process


def sandbox_available() -> bool:
    """Whether kernels can run in the project view of guard/sandbox.py (a
    user and mount namespace). Where they cannot, say so once: only the
    in-kernel audit hook then checks what a notebook does."""
    import subprocess
    import sys

    if os.environ.get("REPROBOOK_SANDBOX") == "off":
        return False
    if not _sandbox:
        probe = subprocess.run([sys.executable, "-I", str(SANDBOX), "--probe"], capture_output=True,
                               text=True)
        _sandbox.append(probe.returncode == 0)
        if probe.returncode != 0:
            print("reprobook: warning: notebooks run without the read-only view of the project "
                  f"({probe.stdout.strip() or probe.stderr.strip()[-200:]}): this system does not "
                  "let a process make a user namespace (Linux with user namespaces enabled "
                  "does). Only Python's own file accesses are checked against the "
                  "declarations; a subprocess or a C library is not.", file=sys.stderr)
    return _sandbox[0]


def _sandboxed_kernel(project: Project, guard: dict, python_path: tuple[str, ...]):
    """A kernel manager class starting the kernel through guard/sandbox.py,
    which shows it only what `guard` lets it read and write. Step reads the
    configuration, which checks that the chapters, notebooks and asset
    folders it lists exist: they are there as empty placeholders."""
    import sys

    from jupyter_client import AsyncKernelManager

    read = [*guard["read_files"], *guard["read_dirs"], *python_path]
    root = Path(guard["root"])
    names = [*project.chapters, *(n.path for n in project.notebooks),
             *(page for _, _, page in project.footer_pages)]
    placeholders = {"files": [os.path.realpath(root / n) for n in names],
                    "dirs": [os.path.realpath(root / a) for a in project.assets]}
    policy = json.dumps({"root": guard["root"], "read": read, "write": guard["write_dirs"],
                         "placeholders": placeholders})

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [sys.executable, "-I", str(SANDBOX), policy, "--",
                    *super().format_kernel_cmd(extra_arguments)]

    return SandboxedKernelManager


def kernel_environment(output_dir: Path, profile: str | None = None,
                       guard: dict | None = None, python_path: tuple[str, ...] = ()) -> dict[str, str]:
    """The kernel's environment. As Quarto does for the code it runs, the
    active profile is passed on in QUARTO_PROFILE, so a notebook declared
    only in a profile's reprobook-<profile>.yml finds its own declaration.
    With `guard`, the kernel enforces the notebook's declared inputs and
    outputs (reprobook/guard/), with a private TMPDIR."""
    env = tool_environment()
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
            p for p in (str(GUARD_DIR), *python_path, os.environ.get("PYTHONPATH", "")) if p)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["TMPDIR"] = guard["tmp"]
    return env


def execute_one(project: Project, run: PlannedRun, timeout: int | None = None) -> Path:
    """Execute one notebook into a fresh directory; on success move the
    result into the cache and return the cache's outputs directory."""
    try:
        scratch = run_notebook(project, run, timeout)
    except NotebookError as exc:
        raise log_failure(project, run.spec, exc) from None
    return commit(project, run.spec, scratch)


def import_roots(project: Project, spec: NotebookSpec, folder: Path) -> tuple[str, ...]:
    """A folder (`folder`) of links to the packages the notebook declares
    under `imports` that are folders of the project, first on the kernel's
    path: the kernel then imports exactly the files its cache key hashed
    (the project's own copy, on this machine or in a worker's temporary
    one), not another installed copy, and nothing else of the project."""
    links = [p for p in spec.imports if (project.root / p).is_dir()]
    if not links:
        return ()
    folder.mkdir()
    for package in links:
        (folder / Path(package).name).symlink_to((project.root / package).resolve(),
                                                 target_is_directory=True)
    return (str(folder),)


def run_notebook(project: Project, run: PlannedRun, timeout: int | None = None) -> Path:
    """Execute one notebook into a fresh scratch folder under .reprobook/ and
    return it, complete (outputs/, executed.ipynb, manifest.json), or raise
    NotebookError naming the notebook (the scratch folder then removed)."""
    from nbclient import NotebookClient
    from traitlets.config import Config
    from nbclient.exceptions import CellExecutionError

    spec = run.spec
    source = project.root / spec.path
    nb = read_notebook(source)
    scratch = new_scratch(project, spec.name)
    outputs = scratch / "outputs"
    outputs.mkdir()
    private_tmp = scratch / "tmp"
    private_tmp.mkdir()
    # The kernel talks over IPC sockets in a private folder: no TCP port is
    # opened (and the kernel does not warn about unencrypted TCP).
    # (In the system's temporary folder: a socket path must stay under ~100
    # bytes, which a project path may not. Its name is written down in the
    # scratch folder so that the next build removes it if this one is killed.)
    sockets = Path(tempfile.mkdtemp(prefix=KERNEL_SOCKETS_PREFIX))
    (scratch / KERNEL_SOCKETS_NOTE).write_text(str(sockets), encoding="utf-8")
    # The connection file (it holds the kernel's key) goes there too, so a
    # killed build leaves it nowhere else.
    config = Config({"KernelManager": {"transport": "ipc", "ip": str(sockets / "k"),
                                       "connection_file": str(sockets / "kernel.json")}})
    timeout = timeout or spec.timeout or None
    guard = guard_policy(project, spec, outputs, private_tmp)
    python_path = import_roots(project, spec, scratch / "imports")
    extra = {}
    if sandbox_available():
        extra["kernel_manager_class"] = _sandboxed_kernel(project, guard, python_path)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            config=config, resources={"metadata": {"path": str(source.parent)}},
                            **extra)
    try:
        client.execute(env=kernel_environment(outputs, project.profile, guard,
                                              python_path=python_path))
    except CellExecutionError as exc:
        message, trace = describe_failure(nb, spec.path)
        if "Read-only file system" in message:
            message += (f"\n  (a notebook runs with the project read-only except its output "
                        f"folder: write files through Step and declare them under `outputs:` "
                        f"of {spec.path} in reprobook.yml)")
        shutil.rmtree(scratch, ignore_errors=True)
        # a missing geodata or Dask package: name the extra that installs it
        raise NotebookError(message + extras.hint(message), log=trace or ANSI.sub("", str(exc))) from None
    except Exception as exc:  # kernel died, timeout, ...
        shutil.rmtree(scratch, ignore_errors=True)
        if type(exc).__name__ == "CellTimeoutError":
            raise NotebookError(f"{spec.path}: a cell ran longer than its timeout of {timeout} s "
                                "(raise `timeout` for this notebook in reprobook.yml, or pass "
                                "--timeout)") from None
        raise NotebookError(f"{spec.path}: execution failed: {exc}") from None
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        (scratch / KERNEL_SOCKETS_NOTE).unlink(missing_ok=True)

    # A symlink as an output would publish whatever it points to (a file
    # outside the project): outputs are regular files, nothing else.
    links = sorted(str(p.relative_to(outputs)) for p in outputs.rglob("*") if p.is_symlink())
    if links:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: made symbolic links among its outputs: {links} "
                            "(outputs must be regular files: write the file itself, e.g. with "
                            "shutil.copyfile, not a link to it)")
    missing = [o for o in spec.outputs if not (outputs / o).is_file()]
    if not (outputs / FACTS_FILE).is_file():
        missing.append(f"{FACTS_FILE} (did the notebook call step.finish()?)")
    if missing:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: ran, but did not write its declared outputs: {missing} "
                            "(a notebook writes them through Step: step.save_figure, "
                            "step.save_table or step.output_path)")
    undeclared = sorted(
        str(p.relative_to(outputs)) for p in outputs.rglob("*")
        if p.is_file() and str(p.relative_to(outputs)) not in {*spec.outputs, FACTS_FILE, CHECKS_FILE})
    if undeclared:
        shutil.rmtree(scratch, ignore_errors=True)
        raise NotebookError(f"{spec.path}: wrote files it does not declare as outputs: {undeclared} "
                            f"(declare each under `outputs:` of {spec.path} in reprobook.yml; "
                            "a figure through step.save_figure(fig, \"<stem>\") writes "
                            "figures/<stem>.svg and figures/<stem>.pdf)")

    shutil.rmtree(private_tmp, ignore_errors=True)
    shutil.rmtree(scratch / "imports", ignore_errors=True)
    _attach_cells(outputs / FACTS_FILE, nb)
    # stored without this machine's paths: the same bytes from a local run
    # and from a Dask worker's temporary copy of the project
    nbformat.write(nbformat.from_dict(scrub_paths(nb, project.root)), scratch / EXECUTED_NAME)
    write_manifest(scratch, run)
    return scratch


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


