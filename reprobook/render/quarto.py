"""Render the staged book (stage.py) with the real Quarto CLI when it is on
PATH. The staged book holds everything Quarto needs: the chapters, the
figures, `_variables.yml`, the engine's pages as Quarto documents and the
`reprobook` profile that links them; `_extensions/reprobook` prints facts
and places the engine's notes. Quarto's warnings are returned to the
caller, which prints them: a build never hides them."""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

from ..errors import RenderError
from ..locale_env import tool_environment
from ..project import Project

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WARNING = re.compile(r"^\s*(WARN(ING)?\b.*)$")


def executable() -> str:
    quarto = shutil.which("quarto")
    if quarto is None:
        raise RenderError("quarto is not on PATH")
    return quarto


@functools.lru_cache(maxsize=None)
def _version(quarto: str) -> str:
    proc = subprocess.run([quarto, "--version"], capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def version() -> str:
    return _version(executable())


def warnings_in(log: str) -> list[str]:
    """Quarto's WARN/WARNING lines (it prints them on stderr, coloured)."""
    out = []
    for line in ANSI.sub("", log).splitlines():
        m = WARNING.match(line)
        if m and m.group(1) not in out:
            out.append(m.group(1).strip())
    return out


def render(book: Project, site: Path) -> list[str]:
    """`quarto render` of the whole staged book (every format) into `site`;
    returns Quarto's warnings."""
    cmd = [executable(), "render", str(book.root), "--output-dir", str(site)]
    if book.profile:  # the edition's profile and the engine's
        cmd += ["--profile", book.profile]
    proc = subprocess.run(cmd, cwd=book.root, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=tool_environment())
    log = ANSI.sub("", proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0:
        raise RenderError(f"quarto render failed:\n{log.strip()[-4000:]}")
    return warnings_in(log)
