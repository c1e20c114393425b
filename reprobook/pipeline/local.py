"""Executors' shared scheduling loop, and the default executor: a thread
pool on this machine. A notebook starts as soon as every notebook whose
outputs it reads has finished (independent ones run in parallel); the first
failure starts nothing new, lets running notebooks finish (their results are
cached) and is then raised."""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable, Iterable

from ..errors import BuildError
from ..project import Project
from . import graph
from ..layout import cache_dir
from .cache import PlannedRun
from .runner import execute_one

OnDone = Callable[[PlannedRun, str], None]


def drive(project: Project, runs: list[PlannedRun], start: Callable[[PlannedRun], Any],
          wait_any: Callable[[list], Iterable], finish: Callable[[PlannedRun, Any], Path],
          on_done: OnDone | None = None) -> dict[str, Path]:
    """Run the needed notebooks in dependency order with any executor:
    `start(run)` returns a future, `wait_any(futures)` the finished ones,
    `finish(run, future)` the committed outputs folder (or raises)."""
    results: dict[str, Path] = {}
    finished: set[str] = set()
    for run in runs:
        if not run.needed:
            results[run.spec.name] = cache_dir(project, run.spec) / "outputs"
            finished.add(run.spec.name)
            if on_done:
                on_done(run, "cached")
    waiting = [r for r in runs if r.needed]
    running: dict[Any, PlannedRun] = {}
    error: BuildError | None = None
    while waiting or running:
        if error is None:
            for run in list(waiting):
                if all(up in finished for up in graph.upstreams(run.spec)):
                    waiting.remove(run)
                    running[start(run)] = run
        if not running:
            break
        for future in wait_any(list(running)):
            run = running.pop(future)
            try:
                results[run.spec.name] = finish(run, future)
            except BuildError as exc:
                error = error or exc
                continue
            finished.add(run.spec.name)
            if on_done:
                on_done(run, "executed")
        if error is not None:
            waiting.clear()
    if error is not None:
        raise error
    return results


def execute(project: Project, runs: list[PlannedRun], jobs: int | None = None,
            on_done: OnDone | None = None, timeout: int | None = None) -> dict[str, Path]:
    todo = [r for r in runs if r.needed]
    workers = max(1, min(len(todo) or 1, jobs or os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return drive(project, runs,
                     start=lambda run: pool.submit(execute_one, project, run, timeout),
                     wait_any=lambda fs: wait(fs, return_when=FIRST_COMPLETED).done,
                     finish=lambda run, future: future.result(),
                     on_done=on_done)
