"""Execute notebooks with a real Jupyter kernel, only when something they
depend on changed: the engine's entry point to reprobook/pipeline/ (graph,
cache, runner, and the local and Dask executors). See
reprobook/pipeline/cache.py for what a cache key is made of.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from .pipeline.cache import (EXECUTED_NAME, LOCK_FILE, PlannedRun,  # noqa: F401
                             notebook_source_hash, package_hash, plan)
from .pipeline.runner import (CONFIG_FILES, GUARD_DIR, execute_one, guard_policy,  # noqa: F401
                              kernel_environment, run_notebook)

SCHEDULER_ENV = "REPROBOOK_SCHEDULER"


def execute(project, runs: list[PlannedRun], jobs: int | None = None,
            on_done: Callable[[PlannedRun, str], None] | None = None,
            timeout: int | None = None, scheduler: str | None = None) -> dict[str, Path]:
    """Run what is needed, upstreams before their consumers and independent
    notebooks in parallel; return each notebook's outputs directory. The
    first failure stops the build. With `scheduler` (or REPROBOOK_SCHEDULER),
    a Dask distributed scheduler's address, notebooks run on its workers."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler and any(r.needed for r in runs):
        from .pipeline import dask as dask_executor

        return dask_executor.execute(project, runs, scheduler, on_done=on_done, timeout=timeout)
    from .pipeline import local

    return local.execute(project, runs, jobs=jobs, on_done=on_done, timeout=timeout)
