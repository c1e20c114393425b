"""Notebooks executed on a real Dask cluster (issue 14, part 2): a `dask
scheduler` and two `dask worker` processes on 127.0.0.1, started here and
stopped by PID. The project reaches the workers only as bytes (each worker
rebuilds it in its own temporary folder); results land in the local cache as
a local run's, and the publication is byte-identical to a local build."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from reprobook.build import build, check
from reprobook.cli import main
from reprobook.errors import BuildError, NotebookError
from reprobook.pipeline import dask as dask_executor
from reprobook.project import load_project

from .conftest import copy_project
from .dask_cluster import free_port, start_cluster
from .conftest import write_notebook
from .test_pipeline import make_chained_project


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    (folder / "tmp").mkdir()
    # a worker killed mid-run leaves its temporary project folder: here, not in /tmp
    running = start_cluster(folder, workers=2, env={"TMPDIR": str(folder / "tmp")})
    yield running
    running.stop()


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def cache_folders(project) -> list:
    """The notebook caches of a build: the project's own, and those of the
    snapshot copies published editions are built in."""
    return [project.work_dir / "cache",
            *sorted(project.work_dir.glob("snapshots/*/.reprobook/cache"))]


def cache_tree(project) -> dict[str, str]:
    out = {}
    for folder in cache_folders(project):
        prefix = str(folder.relative_to(project.work_dir))
        out.update({f"{prefix}/{k}": v for k, v in tree(folder).items()
                    if not k.startswith(("memo/", ".records/"))})
    return out


def test_cluster_build_is_byte_identical_to_a_local_build(tmp_path, cluster):
    local = load_project(make_chained_project(tmp_path / "local"))
    # the same source bytes (new notebooks get random cell ids)
    remote = load_project(shutil.copytree(local.root, tmp_path / "remote"))
    build(local)
    result = build(remote, scheduler=cluster.address)
    assert sorted(result.executed) == ["a", "b", "c", "d"]
    assert tree(remote.site_dir) == tree(local.site_dir)
    assert tree(remote.root / "figures") == tree(local.root / "figures")
    # the cache entries (outputs, executed notebook, manifest with the key) too
    assert cache_tree(remote) == cache_tree(local)
    # nothing left behind: no scratch folders, no worker project folders here
    assert sorted(p.name for p in remote.work_dir.iterdir() if p.name.startswith("run-")) == []
    # a later local build reuses what the cluster computed
    assert check(remote).executed == []


class Lines:
    def __init__(self):
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    done = step


def test_the_real_book_builds_on_the_cluster_byte_identical(tmp_path, cluster, built):
    """The book itself, both editions, from a clean copy with an empty
    notebook cache: every notebook runs on the two workers (the geodata,
    the shaded-relief raster, the `unearthing` package and the fonts reach
    them only as bytes), and the whole published tree, PDFs included, is
    byte-identical to the local build of the session (`built`). Lean: the
    renderer's content-addressed memo (pandoc, Typst, search records) is
    seeded from the local build, so a page or PDF is rendered again only if
    what it is made from differs; the notebooks' own cache is not seeded."""
    local, _ = built
    remote = load_project(copy_project(tmp_path / "book"))
    shutil.copytree(local.work_dir / "cache" / "memo", remote.work_dir / "cache" / "memo")
    lines = Lines()
    result = build(remote, reporter=lines, scheduler=cluster.address)
    executed = sorted(l.split()[0] for l in lines.lines if l.endswith(" executed"))
    every = sorted({s.path for e in ("1.0", "1.1") for s in
                    load_project(remote.root, profile=None if e == "1.0" else "1.1").notebooks})
    # (each frozen edition runs in its own snapshot's copy, so a notebook
    # both editions share runs once for each)
    assert sorted(set(executed)) == every and len(every) == 7
    assert any("notebooks/maps.ipynb" in path for path in executed)
    site, reference = tree(remote.site_dir), tree(local.site_dir)
    pdfs = sorted(k for k in site if k.endswith(".pdf") and "/figures/" not in k)
    assert pdfs == ["1.0/unearthing-the-cost-1.0.pdf", "1.1/unearthing-the-cost-1.1.pdf"]
    assert [k for k in sorted(set(site) | set(reference)) if site.get(k) != reference.get(k)] == []
    assert tree(remote.root / "figures") == tree(local.root / "figures")
    # the cache entries the workers produced are those of the local runs
    assert cache_tree(remote) == cache_tree(local)
    executed_files = [p for folder in cache_folders(remote) for p in folder.glob("*/executed.ipynb")]
    assert len({p.parent.name for p in executed_files}) == 7
    stored = [p.read_text() for p in executed_files]
    # printed paths (a notebook showing where it saved a figure) are stored
    # without the worker's temporary folder or this machine's project folder
    assert not [t for t in stored if "reprobook-worker-" in t or str(remote.root) in t]
    assert any("PosixPath('figures/mining-sites-per-year.svg')" in t for t in stored)
    assert result.pdf is not None and result.pdf.name == "unearthing-the-cost-1.1.pdf"


def test_cli_uses_the_scheduler_from_the_environment(tmp_path, cluster):
    project = load_project(make_chained_project(tmp_path / "p"))
    result = CliRunner().invoke(main, ["check", "--root", str(project.root)])
    assert result.exit_code == 0, result.output
    raw = project.root / "data/raw/alpha.csv"
    raw.write_text(raw.read_text() + "3,500\n")
    from reprobook.validate import rehash

    rehash(project)
    result = CliRunner(env={"REPROBOOK_SCHEDULER": cluster.address}).invoke(
        main, ["build", "--root", str(project.root)])
    assert result.exit_code == 0, result.output
    assert f"notebooks run on the Dask cluster at {cluster.address}" in result.output
    assert "notebooks/b.ipynb up to date (cached)" in result.output
    assert "notebooks/d.ipynb executed" in result.output


def test_a_worker_killed_mid_run_is_retried_elsewhere(tmp_path, cluster):
    """c sleeps; the worker running it is killed (SIGKILL); the scheduler
    runs it again on the other worker and the build succeeds, identical to
    a local build. A replacement worker then joins, for the next tests."""
    project = load_project(make_chained_project(tmp_path / "p", sleep=6))
    shutil.copytree(project.root, tmp_path / "p-source")
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = check(project, scheduler=cluster.address)
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    from distributed import Client

    victim = None
    with Client(cluster.address, timeout="10s", set_as_default=False) as client:
        deadline = time.monotonic() + 40
        while victim is None and time.monotonic() < deadline:
            for worker, keys in client.processing().items():
                if any("reprobook-c-" in str(k) for k in keys):
                    victim = worker
            time.sleep(0.2)
        assert victim is not None, "notebook c never started on a worker"
        time.sleep(2)  # c's kernel is running now
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
    thread.join(timeout=60)
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.facts["chain.quadruple"]["value"] == 14000
    local = load_project(shutil.copytree(tmp_path / "p-source", tmp_path / "local"))
    check(local)
    assert cache_tree(project) == cache_tree(local)
    cluster.replace(pid, tmp_path / "replacement")  # two workers again for the other tests


def test_a_timed_out_notebook_is_named_and_nothing_is_cached(tmp_path, cluster):
    project = load_project(make_chained_project(tmp_path / "p", sleep=60))
    with pytest.raises(NotebookError) as info:
        check(project, scheduler=cluster.address, timeout=3)
    assert "notebooks/c.ipynb: a cell ran longer than its timeout of 3 s" in str(info.value)
    cache = project.work_dir / "cache"
    assert not (cache / "c").exists() and not (cache / "d").exists()
    assert (cache / "a/manifest.json").is_file()  # finished before c failed: kept
    assert [p.name for p in project.work_dir.iterdir() if p.name.startswith(("run-", "old-"))] == []


def test_a_failing_cell_is_reported_not_retried(tmp_path, cluster):
    project = load_project(make_chained_project(tmp_path / "p"))
    nb = project.root / "notebooks/b.ipynb"
    nb.write_text(nb.read_text().replace('"pass"', '"1 / 0"'))
    started = time.monotonic()
    with pytest.raises(NotebookError) as info:
        check(project, scheduler=cluster.address)
    assert "notebooks/b.ipynb: code cell 3 failed" in str(info.value)
    assert "ZeroDivisionError" in str(info.value)
    # the worker's traceback, written on this machine where the message says
    log = project.work_dir / "logs/b.log"
    assert f"whole traceback: {log}" in str(info.value)
    assert "Traceback" in log.read_text() or "ZeroDivisionError" in log.read_text()
    assert time.monotonic() - started < 30


def test_an_unreachable_scheduler_is_a_clear_error(mini, monkeypatch):
    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", 2)
    address = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(BuildError) as info:
        check(mini, scheduler=address)
    assert f"cannot reach the Dask scheduler at {address}" in str(info.value)


def test_a_worker_without_the_lock_says_what_differs(tmp_path, cluster):
    project = load_project(make_chained_project(tmp_path / "p"))
    (project.root / "requirements.lock").write_text("pandas==0.0.1\nno-such-package==1.0\n")
    with pytest.raises(NotebookError) as info:
        check(project, scheduler=cluster.address)
    message = str(info.value)
    assert "does not have the project's environment (requirements.lock)" in message
    assert "pandas" in message and "(lock: 0.0.1)" in message
    assert "no-such-package is not installed" in message


def test_a_worker_with_another_engine_says_so(tmp_path):
    """The worker compares the engine part of the cache key (one list of
    engine files, cache.NOTEBOOK_ENGINE_FILES) with its own, before running."""
    from reprobook.execute import plan
    from reprobook.pipeline.cache import engine_component

    project = load_project(make_chained_project(tmp_path / "p"))
    run = next(r for r in plan(project) if r.spec.name == "a")
    assert run.components["engine"] == engine_component()
    job = dask_executor.payload(project, run, None)
    job["components"] = {**job["components"], "engine": "0.0:another-engine"}
    reply = dask_executor.remote_run(job)
    assert reply["error"].startswith("notebooks/a.ipynb: the reprobook engine on Dask worker")
    assert "client 0.0:another-engine" in reply["error"]
    assert f"worker {engine_component()}" in reply["error"]


def test_a_notebook_whose_worker_dies_every_time_stops_the_build_cleanly(tmp_path):
    """The give-up path. Notebook c kills the worker running it (as a worker
    killed for using too much memory would die) on every attempt. Workers run
    under nannies, which restart them; the scheduler allows one failure, so
    the second death gives up. `reprobook build` then stops with one message
    naming the notebook, no traceback; the cache keeps c's previous entry
    whole (no scratch or half-moved folder), and the published site is the
    one from before, byte for byte."""
    import subprocess
    import sys

    project = load_project(make_chained_project(tmp_path / "p"))
    build(project)
    site_before = tree(project.site_dir)
    cache_before = cache_tree(project)
    nb = project.root / "notebooks/c.ipynb"
    nb.write_text(nb.read_text().replace(
        "import time\\n", "import os, signal, time\\nos.kill(os.getppid(), signal.SIGKILL)\\n", 1))
    assert "SIGKILL" in nb.read_text()
    worker_tmp = tmp_path / "worker-tmp"
    worker_tmp.mkdir()
    cluster = start_cluster(tmp_path / "dask", workers=2, nanny=True,
                            env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
                                 "TMPDIR": str(worker_tmp)})
    try:
        pids_before = set(cluster.worker_pids().values())
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "reprobook", "build", "--root",
                               str(project.root), "--scheduler", cluster.address],
                              capture_output=True, text=True, timeout=300)
        took = time.monotonic() - started
        pids_after = set(cluster.worker_pids().values())
    finally:
        cluster.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    message = " ".join(done.stderr.split())  # rich wraps long lines
    assert "Build stopped: notebooks/c.ipynb: the Dask workers running it died" in message
    assert "allowed-failures" in message and "nothing of this notebook was cached" in message
    assert "The previously published site (if any) is unchanged." in message
    # both workers were killed once each (and restarted by their nannies)
    assert len(pids_before) == 2 and not pids_before & pids_after, (pids_before, pids_after)
    assert took < 240
    assert tree(project.site_dir) == site_before
    assert cache_tree(project) == cache_before  # c and d keep their previous, whole entries
    assert [p.name for p in project.work_dir.iterdir() if p.name.startswith(("run-", "old-"))] == []


def test_a_large_input_is_sent_to_the_cluster_once(tmp_path, cluster, monkeypatch):
    """Three notebooks read the same large input: the client scatters its
    bytes once (keyed by content hash) and every task gets the same future;
    the notebooks compute what they compute locally. (The threshold is
    lowered so a 40 KB fixture counts as large.)"""
    from distributed import Future

    root = make_chained_project(tmp_path / "remote")
    rows = "".join(f"{i},{i * 7 % 1000}\n" for i in range(1, 4001))
    (root / "data/raw/alpha.csv").write_text("id,amount\n" + rows)
    for name in ("e", "f"):
        write_notebook(root / f"notebooks/{name}.ipynb", name, "alpha", name)
    yml = root / "reprobook.yml"
    yml.write_text(yml.read_text().replace("pdf: mini.pdf", "  - path: notebooks/e.ipynb\n"
                                           "    inputs: [alpha]\n  - path: notebooks/f.ipynb\n"
                                           "    inputs: [alpha]\npdf: mini.pdf"))
    from reprobook.validate import rehash

    rehash(load_project(root))
    local = load_project(shutil.copytree(root, tmp_path / "local"))
    remote = load_project(root)
    big = (root / "data/raw/alpha.csv").stat().st_size
    monkeypatch.setattr(dask_executor, "SCATTER_BYTES", big)
    shippers, sent = [], {}
    real_shipper, real_payload = dask_executor.Shipper, dask_executor.payload

    def shipper(client, threshold=None):
        shippers.append(real_shipper(client, threshold))
        return shippers[-1]

    def payload(project, run, timeout, ship=None):
        job = real_payload(project, run, timeout, ship)
        if "data/raw/alpha.csv" in job["files"]:  # only declared inputs are sent
            sent[run.spec.name] = job["files"]["data/raw/alpha.csv"]
        return job

    monkeypatch.setattr(dask_executor, "Shipper", shipper)
    monkeypatch.setattr(dask_executor, "payload", payload)
    result = check(remote, scheduler=cluster.address)
    assert sorted(sent) == ["a", "e", "f"]
    assert all(isinstance(f, Future) for f in sent.values())
    assert len({f.key for f in sent.values()}) == 1
    assert len(shippers) == 1 and shippers[0].scattered_bytes >= big
    assert shippers[0].scattered_bytes < 2 * big  # once, not once per task
    total = sum(i * 7 % 1000 for i in range(1, 4001))
    assert result.facts["e.total"]["value"] == result.facts["f.total"]["value"] == total
    assert result.facts["chain.quadruple"]["value"] == 4 * total
    check(local)
    assert cache_tree(remote) == cache_tree(local)


def test_a_large_input_lost_with_its_worker_is_sent_again(tmp_path, cluster, monkeypatch):
    """The worker holding a scattered input dies before the notebook runs:
    the task is cancelled for lost dependencies; the client sends the input
    again, reruns the notebook, and the build succeeds."""
    from distributed import Client

    project = load_project(make_chained_project(tmp_path / "p"))
    monkeypatch.setattr(dask_executor, "SCATTER_BYTES", 1)  # every file counts as large
    real_call = dask_executor.Shipper.__call__
    killed = []

    def ship(self, files):
        shipped = real_call(self, files)
        if not killed:  # once: kill the worker holding the files just sent
            future = self.futures[next(iter(self.futures))]
            with Client(cluster.address, timeout="10s", set_as_default=False) as client:
                holder = next(iter(client.who_has([future])[future.key]))
                pid = client.run(os.getpid, workers=[holder])[holder]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            deadline = time.monotonic() + 30
            while future.status != "cancelled" and time.monotonic() < deadline:
                time.sleep(0.1)
            assert future.status == "cancelled"
        return shipped

    monkeypatch.setattr(dask_executor.Shipper, "__call__", ship)
    try:
        result = check(project, scheduler=cluster.address)
    finally:
        if killed:
            cluster.replace(killed[0], tmp_path / "replacement")
    assert killed
    assert result.facts["chain.quadruple"]["value"] == 14000
    assert sorted(result.executed) == ["a", "b", "c", "d"]
