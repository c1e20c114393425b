"""Where a notebook's results are, named once for everything that writes or
reads them (the Step in the kernel, the runner, the cache, the facts merge).

The runner tells a notebook's kernel where to write in OUTPUT_ENV. A
notebook run leaves FACTS_FILE and CHECKS_FILE beside its declared
outputs; a successful run is kept in .reprobook/cache/<notebook>/, whose
outputs/ its consumers read while they run.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .project import NotebookSpec, Project

OUTPUT_ENV = "REPROBOOK_OUTPUT_DIR"
FACTS_FILE = "facts.json"
CHECKS_FILE = "checks.json"


def cache_dir(project: Project, spec: NotebookSpec | str) -> Path:
    name = spec if isinstance(spec, str) else spec.name
    return project.work_dir / "cache" / name


def upstream_file(project: Project, name: str, relative: str) -> Path:
    """Where notebook `name`'s output `relative` is while its consumers run:
    in its cache entry (a consumer starts only after it is committed)."""
    return cache_dir(project, name) / "outputs" / relative
