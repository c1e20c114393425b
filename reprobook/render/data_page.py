"""The data page's files: the raw data and its descriptor published with
their checksums and sources, and deterministic zip archives of them.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import RenderError
from ..project import Project


DATA_PAGE = "data.html"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can carry


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources(resource: dict) -> list[dict]:
    out = []
    for source in resource.get("sources") or []:
        url = str(source.get("path") or source.get("url") or "")
        out.append({"title": source.get("title") or url,
                    "url": url if url.startswith(("http://", "https://")) else None})
    return out


def _licences(licences) -> list[dict]:
    """A package's or resource's licences for the data page: a licence's
    `path` is a link only when it is a web address (a `javascript:` path
    was a live link)."""
    out = []
    for licence in licences if isinstance(licences, list) else []:
        licence = licence if isinstance(licence, dict) else {"name": str(licence)}
        path = str(licence.get("path") or "")
        out.append({**licence, "path": path if re.match(r"https?://[^\s\x00-\x1f]+$", path) else None})
    return out


def publish_data(project: Project, site: Path) -> dict:
    """Copy every raw file of the data package (and the descriptor) into
    site/data/, build site/data/<name>.zip deterministically, and return
    what the data page shows."""
    descriptor = project.root / project.datapackage
    if not descriptor.is_file():  # a book without data: the page says so
        return {"title": "", "description": "", "licences": [], "resources": [],
                "archive": None, "descriptor": None}
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    folder = descriptor.parent
    dest = site / "data"
    dest.mkdir(parents=True, exist_ok=True)
    files: list[tuple[str, Path]] = [(descriptor.name, descriptor)]
    resources = []
    default_licences = _licences(package.get("licenses") or [])
    for resource in package.get("resources") or []:
        rel = resource.get("path")
        if not isinstance(rel, str):
            raise RenderError(f"{project.datapackage}: resource {resource.get('name')} has no single path")
        path = folder / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        files.append((rel, path))
        declared = str(resource.get("hash") or "").removeprefix("sha256:")
        resources.append({
            "name": resource.get("name", rel), "title": resource.get("title") or resource.get("name", rel),
            "description": _inline_code(resource.get("description", "")), "path": f"data/{rel}",
            "format": resource.get("format", PurePosixPath(rel).suffix.lstrip(".")),
            "bytes": path.stat().st_size, "sha256": declared or _sha256(path),
            "sources": _sources(resource),
            "licences": _licences(resource.get("licenses")) or default_licences,
        })
    (dest / descriptor.name).write_bytes(descriptor.read_bytes())
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", package.get("name") or "data") + ".zip"
    archive = dest / name
    deterministic_zip(files, archive, prefix=PurePosixPath(name).stem)
    return {"title": package.get("title", ""), "description": _inline_code(package.get("description", "")),
            "licences": default_licences, "resources": resources,
            "archive": {"path": f"data/{name}", "bytes": archive.stat().st_size,
                        "sha256": _sha256(archive)},
            "descriptor": f"data/{descriptor.name}"}


def _inline_code(text: str):
    """Plain text with `backticks` shown as code (descriptions in data
    packages are written that way)."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def deterministic_zip(files: list[tuple[str, Path]], archive: Path, prefix: str = "") -> Path:
    """A zip whose bytes depend only on the files' names and contents:
    sorted names, fixed timestamps and permissions, fixed compression."""
    with zipfile.ZipFile(archive, "w") as zf:
        for rel, path in sorted(files, key=lambda item: item[0]):
            arcname = f"{prefix}/{rel}" if prefix else rel
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    return archive
