"""The no-op rebuild: when nothing the publication depends on changed since
the last publish, and the published site is still exactly what was
published, a build does nothing at all.

What the publication depends on is fingerprinted: every source file of the
project (what a clone holds, the same set `reprobook verify` copies: text,
data, notebooks, configuration, fonts, extension), the engine's own files,
the renderer (Quarto's executable, or the built-in renderer, whose tools are
pinned in requirements.lock), the build's arguments and the environment
variables that change output. The last publish's fingerprint and the sha256
of every published file are kept in .reprobook/published.json."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from .project import Project

STATE = "published.json"
ENGINE_DIR = Path(__file__).resolve().parent
# What a build never reads as a source (machine state, generated files).
NOT_SOURCE = {".git", ".venv", ".reprobook", "__pycache__", ".pytest_cache", "test-artifacts",
              "node_modules", ".quarto", "_variables.yml", "_reprobook"}
OUTPUT_ENV = ("SOURCE_DATE_EPOCH", "QUARTO_PROFILE", "UNEARTHING_TILES")


def _files(root: Path, skip: set[str]) -> list[Path]:
    out = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.endswith(".egg-info"))
        out += [Path(folder) / n for n in sorted(names) if n not in skip]
    return out


def _digest(paths: list[Path], base: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(str(path.relative_to(base)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def renderer_identity(renderer: str) -> str:
    quarto = shutil.which("quarto") if renderer in ("auto", "quarto") else None
    if quarto:
        real = Path(quarto).resolve()
        stat = real.stat()
        return f"quarto:{real}:{stat.st_size}:{int(stat.st_mtime)}"
    return "builtin"


def fingerprint(project: Project, renderer: str, edition: str | None, pdf: bool = True) -> str:
    skip = NOT_SOURCE | {project.output_dir, project.output_dir + ".previous"}
    sources = [p for p in _files(project.root, skip)
               if not (p.parent == project.root / "figures" and p.name != "README.md")]
    parts = {
        "sources": _digest(sources, project.root),
        "engine": _digest(_files(ENGINE_DIR, {"__pycache__"}), ENGINE_DIR),
        "renderer": renderer_identity(renderer),
        "edition": edition or "",
        "pdf": pdf,  # a preview build publishes no PDF: a later build must make it
        "env": json.dumps({k: os.environ.get(k) for k in OUTPUT_ENV}, sort_keys=True),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def site_files(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in _files(site, set())} if site.is_dir() else {}


def unchanged(project: Project, print_: str) -> bool:
    """True when `print_` is the last publish's fingerprint and the site is
    byte for byte what that publish wrote."""
    state = project.work_dir / STATE
    try:
        recorded = json.loads(state.read_text())
    except (OSError, ValueError):
        return False
    return recorded.get("fingerprint") == print_ and \
        recorded.get("files") == site_files(project.site_dir)


def record(project: Project, print_: str) -> None:
    state = project.work_dir / STATE
    state.parent.mkdir(parents=True, exist_ok=True)
    tmp = state.with_suffix(".tmp")
    tmp.write_text(json.dumps({"fingerprint": print_, "files": site_files(project.site_dir)},
                              sort_keys=True))
    os.replace(tmp, state)


def forget(project: Project) -> None:
    (project.work_dir / STATE).unlink(missing_ok=True)
