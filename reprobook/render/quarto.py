"""Render the staged book (stage.py) with the real Quarto CLI when it is on
PATH. The staged book holds everything Quarto needs: the chapters, the
figures, `_variables.yml`, the engine's pages as Quarto documents and the
`reprobook` profile that links them; `_extensions/reprobook` prints facts
and places the engine's notes. Quarto's warnings are returned to the
caller, which prints them: a build never hides them."""

from __future__ import annotations

import functools
import os
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


# What Quarto looks for before it gives up on a LaTeX PDF (quarto-cli
# src/command/render/latexmk/latex.ts and texlive.ts: the PDF engine, else
# tlmgr or pdftex on PATH, else its own TinyTeX under the home folder).
TEX_PROGRAMS = ("lualatex", "xelatex", "pdflatex", "pdftex", "latexmk", "tlmgr")
TINYTEX = (".TinyTeX/bin/*/tlmgr", "Library/TinyTeX/bin/*/tlmgr", "TinyTeX/bin/*/tlmgr.bat")
NO_TEX = "No TeX installation was detected"


def tex_installed(pdf_options) -> bool:
    engine = pdf_options.get("pdf-engine") if isinstance(pdf_options, dict) else None
    programs = ([engine] if isinstance(engine, str) else []) + list(TEX_PROGRAMS)
    if any(shutil.which(p) for p in programs):
        return True
    homes = [Path.home(), *(Path(os.environ[v]) for v in ("APPDATA", "ProgramData")
                            if os.environ.get(v))]
    return any(any(home.glob(pattern)) for home in homes for pattern in TINYTEX)


def latex_pdf_problem(project: Project) -> str | None:
    """Why Quarto cannot make this book's `format: pdf` (LaTeX) here, with
    what to do instead, or None. Checked before anything runs, so the build
    stops at once and in the engine's words, not Quarto's."""
    if "pdf" not in project.formats or tex_installed((project.quarto.get("format") or {}).get("pdf")):
        return None
    return no_tex_message(project)


def no_tex_message(project: Project | None) -> str:
    """The engine's words for "no TeX" with a LaTeX `format: pdf`; the fix
    depends on whether the book (`project`, if known) has `typst:` too."""
    if project is None:
        fix = ("replace `pdf:` with `typst:` under `format:` in _quarto.yml, or remove `pdf:` "
               "if `typst:` is there")
    elif "typst" in project.formats:
        fix = "remove `pdf:` from `format:` in _quarto.yml: its `typst:` already makes the PDF"
    else:
        fix = ("replace `pdf:` with `typst:` under `format:` in _quarto.yml (LaTeX options "
               "such as documentclass do not apply to Typst; the starting point is `typst: {}`)")
    return (f"_quarto.yml asks Quarto for `format: pdf`, a PDF made with LaTeX, and no TeX "
            f"installation was found (no {', '.join(TEX_PROGRAMS)} on PATH, no TinyTeX). "
            f"This engine makes its PDFs with Typst, which needs no TeX: {fix}. Or build with "
            "`reprobook build --renderer builtin`, which makes the PDF with Typst from the "
            "same _quarto.yml; or install TeX (`quarto install tinytex`).")


def render(book: Project, site: Path) -> list[str]:
    """`quarto render` of the whole staged book (every format) into `site`;
    returns Quarto's warnings."""
    cmd = [executable(), "render", str(book.root), "--output-dir", str(site)]
    if book.profile:  # the edition's profile and the engine's
        cmd += ["--profile", book.profile]
    proc = subprocess.run(cmd, cwd=book.root, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", env=tool_environment())
    log = ANSI.sub("", proc.stdout + "\n" + proc.stderr)
    if proc.returncode != 0 and NO_TEX in log:  # TeX found above, but not by Quarto
        # (the staged book's formats include the engine's own typst: not the author's)
        raise RenderError(no_tex_message(None))
    if proc.returncode != 0:
        raise RenderError(f"quarto render failed:\n{log.strip()[-4000:]}")
    return warnings_in(log)
