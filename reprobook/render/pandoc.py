"""Running pandoc: the pinned binary, and its results memoised on its
identity, arguments and input.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from .. import memo
from ..errors import RenderError
from ..locale_env import tool_environment


def pandoc_binary() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


def key_part(arg: str):
    """An argument for the memo key: a file argument counts by its contents
    (the staged book's path differs on every build)."""
    name, sep, value = arg.partition("=")
    if sep and value.startswith("/") and Path(value).is_file():
        return f"{name}=" + memo.key(Path(value))
    return arg


@functools.lru_cache(maxsize=None)
def pandoc_identity(binary: str) -> str:
    """pandoc's version line (the binary is pinned through requirements.lock)."""
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return proc.stdout.splitlines()[0] if proc.stdout else binary


def run_pandoc(args: list[str], stdin: str, cwd: Path | None = None,
               what: tuple[str, str] | None = None) -> str:
    """pandoc's output for `args` and `stdin`; reused from the build's memo
    store when the same run (same pandoc, arguments, files and input) was
    made before. `what` names the result in the build's report."""
    binary = pandoc_binary()

    def compute() -> bytes:
        proc = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True,
                              encoding="utf-8", cwd=cwd, env=tool_environment())
        if proc.returncode != 0:
            raise RenderError(f"pandoc {' '.join(args)} failed:\n{proc.stderr.strip()}")
        return proc.stdout.encode("utf-8")

    key = memo.key(pandoc_identity(binary), *(key_part(a) for a in args), stdin)
    return memo.cached("pandoc", key, compute, what).decode("utf-8")
