"""A real Dask cluster on 127.0.0.1 for the tests and the benchmark: one
`dask scheduler` and N `dask worker` processes (by default without a nanny,
so a worker's PID is the worker itself; with `nanny=True` each worker runs
under a nanny process that restarts it when it dies, as in production), on
free ports, stopped by PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)
    log_dir: Path | None = None
    env: dict | None = None
    nanny: bool = False

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> PID, from the scheduler."""
        from distributed import Client

        with Client(self.address, timeout="10s", set_as_default=False) as client:
            return client.run(os.getpid)

    def add_worker(self, folder: Path, wait: bool = True) -> subprocess.Popen:
        """Start one more single-threaded worker (no nanny) and wait until
        the scheduler has all of them."""
        from distributed import Client

        folder.mkdir(parents=True, exist_ok=True)
        log = open(folder / "worker.log", "wb")
        proc = subprocess.Popen(
            [str(BIN / "dask"), "worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
             "--nanny" if self.nanny else "--no-nanny", "--no-dashboard",
             "--local-directory", str(folder)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.workers.append(proc)
        if wait:
            with Client(self.address, timeout="10s", set_as_default=False) as client:
                client.wait_for_workers(len(self.workers), timeout=60)
        return proc

    def replace(self, pid: int, folder: Path) -> None:
        """A worker a test killed (no nanny): reap it, start another in its place."""
        dead = next(w for w in self.workers if w.pid == pid)
        dead.wait(timeout=10)
        self.workers.remove(dead)
        self.add_worker(folder)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def start_cluster(tmp: Path, workers: int = 2, env: dict | None = None,
                  nanny: bool = False) -> Cluster:
    """Scheduler + `workers` single-threaded workers; returns once all joined.
    `env` is added to the environment of the scheduler and the workers (e.g.
    DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES)."""
    from distributed import Client

    tmp.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, **(env or {})}
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log = open(tmp / "scheduler.log", "wb")
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT, env=environment)
    cluster = Cluster(address, scheduler, log_dir=tmp, env=environment, nanny=nanny)
    try:
        for n in range(workers):
            cluster.add_worker(tmp / f"worker-{n}", wait=False)
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="5s", set_as_default=False) as client:
                    client.wait_for_workers(workers, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    except BaseException:
        cluster.stop()
        raise
    return cluster
