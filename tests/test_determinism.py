"""Same inputs, same bytes: two clean builds of the real publication give
identical figures, facts, HTML and PDF."""

from __future__ import annotations

import hashlib

from reprobook.build import build
from reprobook.project import load_project

from .conftest import copy_project


def fingerprint(root):
    out = {}
    for folder in ("_site", "figures"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    out["_variables.yml"] = hashlib.sha256((root / "_variables.yml").read_bytes()).hexdigest()
    return out


def test_two_clean_builds_are_byte_identical(built, tmp_path):
    first_project, _ = built
    second = load_project(copy_project(tmp_path / "again"))
    build(second)
    a, b = fingerprint(first_project.root), fingerprint(second.root)
    assert a.keys() == b.keys()
    differing = sorted(k for k in a if a[k] != b[k])
    assert differing == []
    assert any(k.endswith(".svg") for k in a) and any(k.endswith(".pdf") for k in a)
