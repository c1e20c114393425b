"""Same inputs, same bytes: two clean builds of the real publication give
identical figures, facts, HTML and PDF, even when the notebooks finish in
another order, on one worker, under another time zone, locale and umask.
And a build's SOURCE_DATE_EPOCH is recorded, so `verify` rebuilds with it."""

from __future__ import annotations

import hashlib
import os
import stat
import time

import pytest

from reprobook import execute as execution
from reprobook.build import build
from reprobook.project import load_project

from .conftest import copy_project


def fingerprint(root):
    """Every published file (figures and facts are published in each
    edition's folder; a frozen edition builds in its snapshot's copy, not
    in the project's own figures/)."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((root / "_site").rglob("*")) if path.is_file()}


@pytest.fixture
def elsewhere(monkeypatch):
    """Another machine's habits: a time zone far from UTC, the C locale and
    a umask that keeps everything private."""
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    monkeypatch.setenv("LC_ALL", "C")
    monkeypatch.setenv("LANG", "C")
    time.tzset()
    old_umask = os.umask(0o077)
    yield
    os.umask(old_umask)
    monkeypatch.undo()
    time.tzset()


def test_two_clean_builds_are_byte_identical(built, tmp_path, monkeypatch, elsewhere):
    """The second build runs its notebooks one at a time in the reverse of
    the planned order (so they finish in another order than the session's
    parallel build), with an empty cache and memo store."""
    first_project, _ = built
    second = load_project(copy_project(tmp_path / "again"))
    planned, execute = execution.plan, execution.execute
    finished, orders = [], []

    def reversed_plan(project):
        runs = planned(project)
        orders.append([run.spec.name for run in runs if run.needed])
        return list(reversed(runs))

    def recording(project, runs, on_done=None, **kwargs):
        def done(run, how):
            if how == "executed":
                finished.append(run.spec.name)
            if on_done:
                on_done(run, how)
        return execute(project, runs, on_done=done, **kwargs)

    monkeypatch.setattr(execution, "plan", reversed_plan)
    monkeypatch.setattr(execution, "execute", recording)
    build(second, jobs=1)
    assert len(finished) >= 4 and finished != [n for order in orders for n in order if n in finished]
    a, b = fingerprint(first_project.root), fingerprint(second.root)
    assert a.keys() == b.keys()
    differing = sorted(k for k in a if a[k] != b[k])
    assert differing == []
    assert any(k.endswith(".svg") for k in a) and any(k.endswith(".pdf") for k in a)
    # published for any reader, whatever the umask
    modes = {stat.S_IMODE(p.stat().st_mode) for p in second.site_dir.rglob("*")}
    assert modes <= {0o644, 0o755} and stat.S_IMODE(second.site_dir.stat().st_mode) == 0o755


def test_verify_rebuilds_with_the_recorded_source_date_epoch(tmp_path, monkeypatch):
    """A build made under SOURCE_DATE_EPOCH (a Nix shell sets one) dates its
    PDF with it; the manifest records the value and `verify`, run without
    it, rebuilds with it: the same bytes."""
    import json

    from reprobook.verify import verify

    from .conftest import make_mini_project

    project = load_project(make_mini_project(tmp_path / "mini"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")  # 2000-01-01
    build(project, renderer="builtin")
    recorded = json.loads((project.site_dir / "manifest.json").read_text())["build_environment"]
    assert recorded == {"SOURCE_DATE_EPOCH": "946684800"}
    from pypdf import PdfReader
    assert PdfReader(project.site_dir / "mini.pdf").metadata["/CreationDate"].startswith("D:2000")
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert verify(project) == ("the publication", [])
    assert "SOURCE_DATE_EPOCH" not in os.environ
