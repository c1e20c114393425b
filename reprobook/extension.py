"""The engine's Quarto extension travels with the engine.

The package holds the canonical copy (reprobook/quarto_extension/); a
project renders with Quarto from its own `_extensions/reprobook/`, which
`reprobook new` writes and every build keeps current:

  missing                         written
  as the engine last wrote it,    refreshed (the engine's copy is newer)
    older than the engine's
  changed since the engine        kept; a warning names the changed files
    wrote it (or of unknown
    origin and not the engine's)

"As the engine wrote it" is known from a stamp the engine writes beside the
files, `reprobook-stamp.json`: the extension's `version:` (from
_extension.yml) and the sha256 of each file it wrote. docs/rendering.md
explains this for authors.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "quarto_extension"
FOLDER = Path("_extensions") / "reprobook"
STAMP = "reprobook-stamp.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def engine_files() -> dict[str, str]:
    """The engine's extension: file name -> sha256."""
    return {p.name: _sha256(p) for p in sorted(SOURCE.iterdir()) if p.is_file()}


def version_of(folder: Path) -> tuple[int, ...]:
    """The `version:` of an extension's _extension.yml as numbers (0 if absent)."""
    try:
        text = (folder / "_extension.yml").read_text(encoding="utf-8")
    except OSError:
        return (0,)
    m = re.search(r"^version:\s*['\"]?([0-9][0-9.]*)", text, re.MULTILINE)
    return tuple(int(n) for n in m.group(1).strip(".").split(".")) if m else (0,)


def write(root: Path) -> None:
    """Write the engine's extension into the project at `root`, with its stamp."""
    dest = root / FOLDER
    dest.mkdir(parents=True, exist_ok=True)
    files = engine_files()
    for name in files:
        shutil.copyfile(SOURCE / name, dest / name)
    stamp = {"version": ".".join(map(str, version_of(SOURCE))), "files": files,
             "note": "Written by reprobook: the files as the engine wrote them. A build "
                     "refreshes files that still match these hashes when the engine's copy "
                     "is newer, and never overwrites a file you changed."}
    (dest / STAMP).write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def ensure(root: Path) -> tuple[str, list[str]]:
    """Bring the project's extension up to date where that is safe.
    Returns (what was done: "current", "written", "refreshed" or "kept",
    warnings for the author)."""
    dest = root / FOLDER
    if not (dest / "_extension.yml").is_file():
        write(root)
        return "written", []
    ours = engine_files()
    theirs = {name: _sha256(dest / name) for name in ours if (dest / name).is_file()}
    try:
        stamp = json.loads((dest / STAMP).read_text(encoding="utf-8"))
        written = stamp["files"]
    except (OSError, ValueError, KeyError, TypeError):
        stamp, written = None, {}
    if theirs == ours:
        return "current", []  # the engine's files, stamped or not
    if stamp is None:
        changed = sorted(n for n in ours if theirs.get(n) != ours[n])
        return "kept", [f"{FOLDER}/ differs from this engine's copy and was not written by it "
                        f"(no {STAMP}), so it is kept as it is: {', '.join(changed)}. Delete "
                        f"{FOLDER}/ and build again to get the engine's copy."]
    modified = sorted(n for n in set(written) | set(theirs)
                      if n in ours and theirs.get(n) != written.get(n))
    if modified:
        return "kept", [f"{FOLDER}/ was changed since reprobook wrote it, so it is kept as it "
                        f"is and not updated: {', '.join(modified)}. To get the engine's copy, "
                        f"delete {FOLDER}/ and build again."]
    if version_of(dest) > version_of(SOURCE):
        return "kept", [f"{FOLDER}/ is version {'.'.join(map(str, version_of(dest)))}, newer "
                        f"than this engine's ({'.'.join(map(str, version_of(SOURCE)))}): "
                        "kept; upgrade reprobook."]
    write(root)
    return "refreshed", []
