"""Swap a freshly built site in place of the published one, so readers (and
a failed build) never see a half-written publication; and the project lock
that serialises builds, cleans up after killed ones and recovers a swap that
was interrupted."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildError

LOCK_FILE = "build.lock"
AT_FDCWD = -100
RENAME_EXCHANGE = 2  # from <linux/fs.h>
# Scratch folders of a build in .reprobook/ (staging, notebook runs): any
# found while holding the lock belong to a build that was killed.
LEFTOVERS = ("stage-*", "run-*")
# A verify's copy of the project (verify-*/): the verify holds a lock on its
# VERIFY_HELD file while it runs (it does not hold the project lock while
# it rebuilds the copy); a copy whose lock is free was left by a killed one.
VERIFY_HELD = ".held"
# A notebook run's kernel sockets live in the system's temporary folder
# (socket paths are short); the run's scratch folder names that folder in
# this note, so leftovers of a killed run are found without touching the
# kernels of other projects' builds.
KERNEL_SOCKETS_PREFIX = "reprobook-kernel-"
KERNEL_SOCKETS_NOTE = "kernel-sockets"


# A finished build's scratch folder is renamed to trash-<name> and deleted by
# a detached `rm -rf`, so the author does not wait for hundreds of unlinks
# (the old site's files among them); the next build sweeps any left over.
TRASH = "trash-"
TRASH_GRACE_S = 60


def discard(folder: Path) -> None:
    """Remove `folder` (inside .reprobook/) without waiting for it."""
    if not folder.exists():
        return
    trash = folder.with_name(TRASH + folder.name)
    try:
        folder.rename(trash)
        subprocess.Popen(["rm", "-rf", "--", str(trash)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    except OSError:  # no rm, or the rename failed: delete here
        shutil.rmtree(trash if trash.exists() else folder, ignore_errors=True)


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


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step: Linux renameat2 with
    RENAME_EXCHANGE (glibc 2.28+, kernel 3.15+; ext4, xfs, btrfs, tmpfs).
    False where the platform or filesystem lacks it."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # not supported here: the caller falls back
    raise OSError(error, os.strerror(error), str(b))


def make_world_readable(folder: Path) -> None:
    """Folders 0755 and files 0644 whatever the umask: under umask 077 the
    site came out 0700/0600, which a web server running as another user
    cannot serve."""
    for parent, dirs, files in os.walk(folder):
        os.chmod(parent, 0o755)
        for name in files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                os.chmod(path, 0o644)


def swap_in(new_site: Path, site: Path) -> None:
    """Publish `new_site` (a folder on the same filesystem) as `site`.

    Readers see the old complete site or the new one, never neither: the
    two folders are exchanged in one atomic step (RENAME_EXCHANGE), then the
    old one, now at `new_site`, is discarded (deleted in the background; a
    crash before that leaves it in the build's scratch folder, which the
    next build removes). Where the
    exchange is not supported, two renames with the old site under a side
    name in between; if the second fails the old site is put back, and a
    crash between them is recovered by the next build (recover_site)."""
    make_world_readable(new_site)
    recover_site(site)  # never delete the only copy of a site
    if not site.exists():
        new_site.rename(site)  # one rename: atomic
        return
    if _exchange(new_site, site):
        discard(new_site)  # the old site, now here: deleted in the background
        return
    old = previous_of(site)
    if old.exists():
        shutil.rmtree(old)
    site.rename(old)
    try:
        new_site.rename(site)
    except OSError:
        old.rename(site)
        raise
    shutil.rmtree(old)


def remove_leftovers(work_dir: Path) -> list[Path]:
    """Scratch folders of killed builds (call only while holding the lock)."""
    removed = []
    # (a killed verify's copy has its own runs, under verify-*/project/)
    notes = [*work_dir.glob(f"run-*/{KERNEL_SOCKETS_NOTE}"),
             *work_dir.glob(f"verify-*/project/.reprobook/run-*/{KERNEL_SOCKETS_NOTE}")]
    for note in sorted(notes):
        sockets = Path(note.read_text(encoding="utf-8").strip())
        if (sockets.parent == Path(tempfile.gettempdir())
                and sockets.name.startswith(KERNEL_SOCKETS_PREFIX) and sockets.is_dir()):
            shutil.rmtree(sockets, ignore_errors=True)
            removed.append(sockets)
    for path in sorted(work_dir.glob(TRASH + "*")):
        # Being deleted by a finished build's `rm` if it changed lately
        # (each removal touches the folder); else that `rm` was killed.
        try:
            changed = path.stat().st_mtime
        except FileNotFoundError:  # that `rm` finished between glob and stat
            continue
        if path.is_dir() and time.time() - changed > TRASH_GRACE_S:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    for path in sorted(work_dir.glob("verify-*")):
        held = path / VERIFY_HELD
        if held.is_file():
            fd = os.open(held, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a verify running now
            finally:
                os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
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
