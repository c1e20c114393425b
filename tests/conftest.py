"""Shared fixtures. The publication is built once per test session, in a
copy of the project, so the tests never touch the working tree's _site/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "_site", ".reprobook", ".pytest_cache", "test-artifacts", "__pycache__"}


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """A fresh copy of the project, built with the built-in renderer; returns
    its root (site in <root>/_site)."""
    from reprobook.build import build
    from reprobook.project import load_project

    copy = tmp_path_factory.mktemp("project") / "book"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in SKIP])
    build(load_project(copy), renderer="builtin")
    return copy
