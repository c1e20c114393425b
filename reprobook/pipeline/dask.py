"""Executor on a Dask distributed cluster: `reprobook build --scheduler
tcp://HOST:PORT` (or REPROBOOK_SCHEDULER).

Each notebook run is one Dask task. No shared filesystem is assumed: the
client sends, as bytes, what the notebook needs of the project (the
configuration files, the data package descriptor, every notebook's source
and the chapters, which loading the project checks exist, the notebook's
declared inputs, the files of its declared `imports`, and the upstream
outputs it declares). The worker writes them into a temporary project
folder, checks that it computes the same cache key from them, runs the same
`run_notebook` the local pool runs, and returns the result folder as bytes.
The client then commits it into the local cache exactly as a local run's
(`cache.commit`: a complete folder renamed into place, never half-written).

Workers need the project's environment (requirements.lock, with this
engine installed): each task first compares the worker's installed versions
with the lock, and the engine part of the cache key (the engine code
notebooks run: cache.NOTEBOOK_ENGINE_FILES) with the client's, and says what
differs.

Faults: a worker that dies mid-run is rescheduled by the scheduler on
another worker (`distributed.scheduler.allowed-failures`, default 3);
an exception raised outside the notebook (a worker's disk, a broken
connection) is retried `retries` times; a notebook's own failure or
timeout is reported with its name and never retried (it would fail again).

Large files (SCATTER_BYTES or more: rasters, microdata) are not put into
every task: `Shipper` scatters each once per build, keyed by content hash,
and tasks get a reference; if the cluster loses one (every worker holding
it died), the client sends it again and reruns the notebook, once.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from ..errors import BuildError, NotebookError
from ..layout import upstream_file
from ..project import NotebookSpec, Project, load_project
from ..validate import resource_paths
from .cache import (EXECUTED_NAME, LOCK_FILE, MANIFEST_NAME, PlannedRun, commit, components,
                    engine_component, key_of, new_scratch, package_folder)
from .local import OnDone, drive
from .runner import CONFIG_FILES, log_failure, run_notebook

RETRIES = 2  # task retries after an exception outside the notebook
# Files at least this large are sent to the cluster once per build
# (client.scatter, keyed by content hash) and passed to each task as a
# future: every notebook reading the same large raster or microdata file
# then reuses the copy already on the cluster (workers fetch it from each
# other) instead of the client sending the bytes again with each task.
SCATTER_BYTES = 1 << 20
CONNECT_TIMEOUT = 30  # seconds to reach the scheduler
WORKER_WAIT = 60  # seconds to wait for a first worker


# ------------------------------------------------------------------ client side
def _relative(project: Project, path: Path) -> str:
    return path.resolve().relative_to(project.root.resolve()).as_posix()


def project_files(project: Project, spec: NotebookSpec) -> tuple[dict[str, Path], list[str]]:
    """What a worker needs to run `spec`: {relative path: file}, plus the
    asset folders loading the project checks exist (sent empty)."""
    root = project.root
    paths: set[Path] = set()
    for pattern in CONFIG_FILES:
        paths |= {p for p in root.glob(pattern) if p.is_file()}
    if (root / project.datapackage).is_file():
        paths.add(root / project.datapackage)
    paths |= {root / nb.path for nb in project.notebooks}
    paths |= {root / chapter for chapter in project.chapters}
    paths |= {root / href for _, _, href in project.footer_pages}
    resources = resource_paths(project)
    paths |= {resources[name] for name in spec.inputs}
    for package in spec.imports:
        folder = root / package
        if folder.is_dir():  # an installed package is the worker environment's business
            paths |= {p for p in package_folder(project, package).rglob("*")
                      if p.is_file() and "__pycache__" not in p.parts}
    paths |= {upstream_file(project, name, rel) for name, rel in spec.upstream}
    return {_relative(project, p): p for p in sorted(paths)}, list(project.assets)


class Shipper:
    """Large files by content hash -> their future on the cluster, for one
    build. A large file is read and hashed once (while its size and mtime
    stay the same), not once per task."""

    def __init__(self, client, threshold: int | None = None):
        self.client = client
        self.threshold = SCATTER_BYTES if threshold is None else threshold
        self.futures: dict[str, object] = {}
        self.digests: dict[tuple, str] = {}  # (path, size, mtime) -> sha256
        self.scattered_bytes = 0

    def __call__(self, files: dict[str, Path]) -> dict:
        shipped = {}
        for relative, path in files.items():
            stat = path.stat()
            if stat.st_size < self.threshold:
                shipped[relative] = path.read_bytes()
                continue
            seen = (str(path), stat.st_size, stat.st_mtime_ns)
            digest = self.digests.get(seen)
            if digest not in self.futures:
                data = path.read_bytes()
                digest = self.digests[seen] = hashlib.sha256(data).hexdigest()
                if digest not in self.futures:
                    self.futures[digest] = self.client.scatter(data, hash=False)
                    self.scattered_bytes += len(data)
            shipped[relative] = self.futures[digest]
        return shipped

    def forget_lost(self) -> bool:
        """Drop the large files the cluster lost (every worker holding one
        died); the next payload sends them again. True if any was lost."""
        lost = [d for d, f in self.futures.items() if f.status in ("cancelled", "lost", "error")]
        for digest in lost:
            self.futures.pop(digest).release()
        return bool(lost)

    def release(self) -> None:
        for future in self.futures.values():
            future.release()
        self.futures.clear()


def payload(project: Project, run: PlannedRun, timeout: int | None, ship=None) -> dict:
    """A task's argument. With `ship` (a Shipper), large files are futures,
    which Dask replaces by their bytes before the task runs."""
    paths, dirs = project_files(project, run.spec)
    files = ship(paths) if ship is not None else {r: p.read_bytes() for r, p in paths.items()}
    return {"notebook": run.spec.name, "path": run.spec.path, "profile": project.profile,
            "key": run.key, "components": run.components, "timeout": timeout,
            "files": files, "dirs": dirs}


SCHEDULER_ADDRESS = re.compile(r"^(?:tcp://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


def check_address(address: str) -> None:
    """A scheduler address reprobook can reach: tcp://HOST:PORT (or
    HOST:PORT). Anything else is refused before Dask tries it (Dask then
    hung for a minute and printed a traceback while shutting down)."""
    if address.startswith("tls://"):
        raise BuildError(f"--scheduler {address}: TLS schedulers need certificates, which "
                         "reprobook does not configure; use tcp://HOST:PORT on a trusted network "
                         "(or through an SSH tunnel)")
    match = SCHEDULER_ADDRESS.match(address)
    if not match or not 0 < int(match.group(2)) < 65536:
        raise BuildError(f"--scheduler {address}: not a scheduler address; write tcp://HOST:PORT, "
                         "as `dask scheduler` prints it (for example tcp://127.0.0.1:8786)")


def _connect(address: str):
    from ..extras import require

    check_address(address)

    Client = require("distributed", "dask", "--scheduler (notebooks on a Dask cluster)").Client
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BuildError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=WORKER_WAIT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise BuildError(f"the Dask scheduler at {address} has no workers "
                         f"(waited {WORKER_WAIT} s): {exc}") from None
    return client


def _receive(project: Project, run: PlannedRun, reply: dict) -> Path:
    """Write a worker's result into a scratch folder and commit it."""
    spec = run.spec
    scratch = new_scratch(project, spec.name)
    try:
        for relative, data in reply["files"].items():
            target = (scratch / relative).resolve()
            if not target.is_relative_to(scratch.resolve()) or not (
                    relative in (EXECUTED_NAME, MANIFEST_NAME) or relative.startswith("outputs/")):
                raise NotebookError(f"{spec.path}: the worker returned an unexpected file "
                                    f"{relative!r}; nothing was cached")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        import json

        manifest = json.loads((scratch / MANIFEST_NAME).read_text())
        if manifest.get("key") != run.key:
            raise NotebookError(f"{spec.path}: the worker's result is for another cache key; "
                                "nothing was cached")
        (scratch / "outputs").mkdir(exist_ok=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return commit(project, spec, scratch)


def execute(project: Project, runs: list[PlannedRun], address: str,
            on_done: OnDone | None = None, timeout: int | None = None,
            retries: int = RETRIES) -> dict[str, Path]:
    """Run the needed notebooks on the cluster at `address`, upstreams first
    (a consumer is submitted when its upstreams are in the local cache)."""
    from concurrent.futures import CancelledError

    from distributed import wait
    from distributed.scheduler import KilledWorker

    client = _connect(address)
    ship = Shipper(client)

    sent: dict[str, list] = {}  # notebook -> the scattered files its task reads

    def start(run: PlannedRun):
        job = payload(project, run, timeout, ship)
        sent[run.spec.name] = [f for f in job["files"].values() if not isinstance(f, bytes)]
        return client.submit(remote_run, job, pure=False,
                             retries=retries, key=f"reprobook-{run.spec.name}-{uuid.uuid4().hex}")

    def wait_any(futures: list) -> list:
        """The finished futures; a cancelled one counts as finished (`finish`
        says why), where distributed.wait raises."""
        try:
            return list(wait(futures, return_when="FIRST_COMPLETED").done)
        except CancelledError:
            return [f for f in futures if f.done() or f.cancelled()]

    def finish(run: PlannedRun, future, resent: bool = False) -> Path:
        try:
            reply = future.result()
        except KilledWorker as exc:
            raise NotebookError(
                f"{run.spec.path}: the Dask workers running it died, on every attempt the "
                f"scheduler allows (distributed.scheduler.allowed-failures): "
                f"{str(exc).rstrip('.')}. Often a "
                "worker out of memory; nothing of this notebook was cached") from None
        except CancelledError:
            lost = any(f.status != "finished" for f in sent[run.spec.name])
            if lost and not resent:
                # a large input died with the only workers holding it: send
                # it again and run the notebook again, once
                ship.forget_lost()
                return finish(run, start(run), resent=True)
            why = ("the workers holding its large inputs died, twice" if lost else
                   f"the connection to the scheduler at {address} was lost?")
            raise NotebookError(f"{run.spec.path}: its Dask task was cancelled ({why}); "
                                "nothing of this notebook was cached") from None
        except Exception as exc:  # raised on the worker outside the notebook, after retries
            raise NotebookError(f"{run.spec.path}: failed on the Dask cluster after "
                                f"{retries + 1} attempts: {type(exc).__name__}: {exc}") from None
        finally:
            future.release()
        if reply.get("error"):
            # the whole traceback goes to this machine's .reprobook/logs/
            raise log_failure(project, run.spec, NotebookError(reply["error"], reply.get("log")))
        return _receive(project, run, reply)

    try:
        with client.as_current():  # distributed.wait uses the current client
            return drive(project, runs, start=start,
                         wait_any=wait_any,
                         finish=finish, on_done=on_done)
    finally:
        ship.release()
        client.close()


# ------------------------------------------------------------------ worker side
@functools.lru_cache(maxsize=4)
def environment_problems(lock_text: str) -> tuple[str, ...]:
    """How this worker's installed packages differ from the client's lock."""
    from importlib.metadata import PackageNotFoundError, version

    problems = []
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, wanted = (part.strip() for part in line.split("==", 1))
        try:
            have = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed (lock: {wanted})")
            continue
        if have != wanted:
            problems.append(f"{name} {have} (lock: {wanted})")
    return tuple(problems)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def remote_run(job: dict) -> dict:
    """Run on a worker: rebuild the project from bytes in a temporary
    folder, run the notebook, return its result folder as bytes (or
    {"error": message} for a failure of the notebook itself)."""
    started = time.monotonic()
    where = _worker_name()
    if job["components"].get("engine") != engine_component():
        return {"error": f"{job['path']}: the reprobook engine on Dask worker {where} differs "
                         f"from the client's (worker {engine_component()}, client "
                         f"{job['components'].get('engine')}; install the same commit of the "
                         "project on the workers: docs/pipelines.md)"}
    lock = job["files"].get(LOCK_FILE)
    if lock is not None:
        problems = environment_problems(lock.decode("utf-8"))
        if problems:
            return {"error": f"{job['path']}: Dask worker {where} does not have the project's "
                             f"environment ({LOCK_FILE}): " + "; ".join(problems[:10])}
    tmp = Path(tempfile.mkdtemp(prefix="reprobook-worker-"))
    try:
        root = tmp / "project"
        root.mkdir()
        (root / "_quarto.yml").touch()  # replaced below; marks the project root
        for relative, data in job["files"].items():
            target = (root / relative).resolve()
            if not target.is_relative_to(root.resolve()):
                return {"error": f"{job['path']}: refused to write {relative} outside the "
                                 "worker's project folder"}
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for folder in job["dirs"]:
            (root / folder).mkdir(parents=True, exist_ok=True)
        try:
            project = load_project(root, profile=job["profile"])
            spec = next(s for s in project.notebooks if s.name == job["notebook"])
            upstream_keys = {k.partition(":")[2]: v for k, v in job["components"].items()
                             if k.startswith("upstream:")}
            parts = components(project, spec, upstream_keys)
            if key_of(parts) != job["key"]:
                differ = sorted(k for k in set(parts) | set(job["components"])
                                if parts.get(k) != job["components"].get(k))
                return {"error": f"{job['path']}: on Dask worker {where} the files received "
                                 f"give another cache key (differs: {', '.join(differ)})"}
            run = PlannedRun(spec, job["key"], job["components"], ["sent to a Dask worker"])
            scratch = run_notebook(project, run, job["timeout"])
        except BuildError as exc:
            return {"error": str(exc), "log": getattr(exc, "log", None)}
        files = {p.relative_to(scratch).as_posix(): p.read_bytes()
                 for p in sorted(scratch.rglob("*")) if p.is_file()}
        return {"files": files, "worker": where, "seconds": time.monotonic() - started}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
