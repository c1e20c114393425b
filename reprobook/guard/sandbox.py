"""Start a notebook's kernel in a view of the project that holds only what
the notebook declares (issue 23): `python sandbox.py POLICY -- CMD...`.

In a private mount namespace (a user namespace makes that possible without
privileges, where the system allows user namespaces), the project folder is
covered by an empty read-only tmpfs into which are bound, read-only, the
files the notebook may read (its declared inputs and upstream outputs, its
own source, the configuration, the data package) and the folders of the
code it runs (the engine, the Python environment, its declared imports);
its output folder and private TMPDIR are bound writable. Every route a
kernel has to the project - open(), a subprocess, os.link/symlink/truncate/
chmod/utime/rmdir, sqlite3, ctypes, GDAL - sees that view: an undeclared
file is not there, a declared input cannot be changed, nothing outside the
output folder can be written. A second user namespace locks the mounts, so
the kernel cannot unmount them. Outside the project nothing changes
(the guard's audit hook, sitecustomize.py, still checks Python's own
writes there).

Runs with the Python standard library only (ctypes for unshare(2) and
mount(2)), before the kernel's interpreter starts."""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 32, 4096, 16384, 1 << 18)
# statvfs flags with the same values as MS_*: kept when remounting a bind
# read-only (a user namespace may not drop them)
KEPT_FLAGS = 2 | 4 | 8 | 1024 | 2048 | 4096

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _new_namespaces() -> None:
    """A new user and mount namespace, this process keeping its own ids."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                       ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def _bind(fd: int, root: str, rel: str, writable: bool) -> None:
    source = f"/proc/self/fd/{fd}/{rel}"
    target = os.path.join(root, rel)
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    elif os.path.exists(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "a").close()
    else:
        return  # declared but absent: the notebook gets "no such file", as without the view
    _mount(source, target, None, MS_BIND | MS_REC)
    if not writable:
        kept = os.statvfs(target).f_flag & KEPT_FLAGS
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)


def enter(policy: dict) -> None:
    """Replace the project, for this process and its children, by the view."""
    root = policy["root"]
    _new_namespaces()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing of this leaks back
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)  # the real tree, under the tmpfs
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")

    def rel(path: str) -> str | None:
        inner = os.path.relpath(path, root)
        return None if inner == "." or inner.startswith("..") else inner

    # names the configuration lists, without their contents
    for path in policy.get("placeholders", {}).get("dirs", []):
        if rel(path):
            os.makedirs(path, exist_ok=True)
    for path in policy.get("placeholders", {}).get("files", []):
        if rel(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
    # read-only first (shortest first: a folder before what is inside it),
    # then the writable folders, which may lie inside a read-only one
    for path in sorted({p for p in policy["read"] if rel(p)}, key=len):
        _bind(fd, root, rel(path), writable=False)
    for path in sorted({p for p in policy["write"] if rel(p)}, key=len):
        _bind(fd, root, rel(path), writable=True)
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.close(fd)
    # Mounts made above are locked together in a namespace of lesser
    # privilege: the kernel cannot unmount the tmpfs to see what it covers.
    _new_namespaces()


def main(argv: list[str]) -> None:
    if argv[1:2] == ["--probe"]:
        # everything enter() needs: namespaces, a tmpfs (over /tmp, in this
        # process's namespace only), a read-only bind
        try:
            _new_namespaces()
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
            os.mkdir("/tmp/x")
            _mount("/tmp", "/tmp/x", None, MS_BIND)
            _mount(None, "/tmp/x", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        except OSError as exc:
            print(exc)
            sys.exit(1)
        sys.exit(0)
    policy = json.loads(argv[1])
    assert argv[2] == "--"
    cwd = os.getcwd()
    enter(policy)
    os.chdir(cwd)  # the cwd again, through the view (the old one is the real folder)
    os.execvp(argv[3], argv[3:])


if __name__ == "__main__":
    main(sys.argv)
