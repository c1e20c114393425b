"""Render with the real Quarto CLI when it is on PATH. The engine has already
written the figures into figures/ and the facts into _variables.yml, which is
all Quarto needs to render the same chapters."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..errors import RenderError
from ..project import Project


def render(project: Project, site: Path) -> None:
    quarto = shutil.which("quarto")
    if quarto is None:
        raise RenderError("quarto is not on PATH")
    cmd = [quarto, "render", str(project.root), "--output-dir", str(site)]
    if project.profile:  # an edition is a Quarto profile
        cmd += ["--profile", project.profile]
    proc = subprocess.run(cmd, cwd=project.root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RenderError(f"quarto render failed:\n{proc.stderr.strip()[-4000:]}")
