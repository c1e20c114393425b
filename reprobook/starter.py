"""`reprobook new DIR`: a minimal working report, copied from the templates
in reprobook/starter/ (the data is a synthetic example, and says so)."""

from __future__ import annotations

import shutil
from pathlib import Path

from . import extension
from .errors import BuildError

TEMPLATE = Path(__file__).resolve().parent / "starter"
# Package data leaves out dotfiles, so they are stored without their dot.
RENAMED = {"gitignore": ".gitignore"}


def new_project(dest: Path) -> list[str]:
    """Write the starter report into `dest` (missing or empty); returns the
    files written, relative to `dest`."""
    if dest.exists() and not dest.is_dir():
        raise BuildError(f"{dest} is a file; give `reprobook new` a new or empty folder")
    if dest.is_dir() and any(dest.iterdir()):
        raise BuildError(f"{dest} is not empty; `reprobook new` writes only into a new or empty "
                         "folder, so that it never overwrites your files")
    created = not dest.exists()
    try:
        _write(dest)
    except BaseException:
        # Half a starter is worse than none: leave the folder as it was.
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in dest.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())


def _write(dest: Path) -> None:
    from .project import load_project
    from .validate import rehash

    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(TEMPLATE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(TEMPLATE)
            target = dest / relative.parent / RENAMED.get(relative.name, relative.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    extension.write(dest)
    # The checksums of the raw data, computed as `reprobook data rehash` does.
    rehash(load_project(dest))
