"""Swap a freshly built site in place of the published one, so readers (and
a failed build) never see a half-written publication; and the project lock
that serialises builds, cleans up after killed ones and recovers a swap that
was interrupted."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError

LOCK_FILE = "build.lock"
# Scratch folders of a build in .reprobook/ (staging, notebook runs): any
# found while holding the lock belong to a build that was killed.
LEFTOVERS = ("stage-*", "run-*")


class BuildLocked(BuildError):
    """Another build of the same project holds the lock."""


def previous_of(site: Path) -> Path:
    return site.with_name(site.name + ".previous")


def recover_site(site: Path) -> bool:
    """After a crash between the two renames of swap_in only the old site is
    left, under its side name: put it back. Returns True if it did."""
    old = previous_of(site)
    if old.is_dir() and not site.exists():
        old.rename(site)
        return True
    return False


def swap_in(new_site: Path, site: Path) -> None:
    """Replace `site` by `new_site` (both on the same filesystem). Between
    the two renames the old site exists under a side name; if the second
    rename fails, it is put back."""
    old = previous_of(site)
    recover_site(site)  # never delete the only copy of a site
    if old.exists():
        shutil.rmtree(old)
    had_site = site.exists()
    if had_site:
        site.rename(old)
    try:
        new_site.rename(site)
    except OSError:
        if had_site:
            old.rename(site)
        raise
    if had_site:
        shutil.rmtree(old)


def remove_leftovers(work_dir: Path) -> list[Path]:
    """Scratch folders of killed builds (call only while holding the lock)."""
    removed = []
    for pattern in LEFTOVERS:
        for path in sorted(work_dir.glob(pattern)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def project_lock(project):
    """Hold `.reprobook/build.lock` (an flock, released by the kernel even if
    the process is killed) for the duration of a build. A second build of
    the same project stops at once with a BuildLocked naming the holder's
    pid. Once the lock is held, leftovers of killed builds are removed and an
    interrupted swap is recovered."""
    work = project.work_dir
    work.mkdir(parents=True, exist_ok=True)
    fd = os.open(work / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise BuildLocked(
                f"another build is running (pid {holder}) in {project.root}; wait for it to "
                f"finish (the lock is {work.name}/{LOCK_FILE})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        remove_leftovers(work)
        recover_site(project.site_dir)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def locked(build):
    """Run `build(project, ...)` holding the project lock."""

    @functools.wraps(build)
    def wrapper(project, *args, **kwargs):
        with project_lock(project):
            return build(project, *args, **kwargs)

    return wrapper
