"""A content-addressed store for the results of deterministic steps (a pandoc
run, a font subset, a Typst compile, a validation), so a rebuild computes
only what changed. A key is the sha256 of everything the step's result
depends on (the tool's version, its arguments, the *contents* of the files
it reads, its input); the value is the result's bytes, stored with their
HMAC-SHA256 under a random secret kept outside the entries (`.secret` in
the store's folder, made on first use). An entry whose bytes no longer
match (a corrupted or partial write, or an edit, even one that recomputed a
plain sha256 header) is deleted and recomputed, never used.

The build opens the store in the project's cache (`use(folder)`); without
an open store every step simply computes (tests, `reprobook verify`'s
clean rebuild)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator

_store: "Memo | None" = None


SECRET = ".secret"


def _secret(folder: Path) -> bytes:
    """The store's HMAC key: read, or made once (atomically: two builds
    starting together agree on one)."""
    path = folder / SECRET
    try:
        return path.read_bytes()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
        try:
            os.link(tmp, path)  # fails if another build made it first
        except FileExistsError:
            pass
        os.unlink(tmp)
        return path.read_bytes()


class Memo:
    def __init__(self, folder: Path):
        self.folder = folder
        self._secret_bytes: bytes | None = None  # read or made on first use
        self.hits: Counter = Counter()
        self.misses: Counter = Counter()
        self.rejected: Counter = Counter()  # entries that failed their check
        # What was computed afresh, by what a reader would call it
        # ("HTML pages": "1.1/chapters/sites.html"), for the build's report.
        self.recomputed: dict[str, list[str]] = {}
        self.scope = ""  # prefixed to those names (the edition being built)
        self._lock = threading.Lock()

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / key

    def get(self, kind: str, key: str) -> bytes | None:
        path = self._path(kind, key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        digest, sep, data = blob.partition(b"\n")
        if not sep or not hmac.compare_digest(self._digest(data), digest):
            path.unlink(missing_ok=True)  # corrupted, partial or edited: recompute
            with self._lock:
                self.rejected[kind] += 1
            return None
        return data

    def _digest(self, data: bytes) -> bytes:
        if self._secret_bytes is None:
            self._secret_bytes = _secret(self.folder)
        return hmac.new(self._secret_bytes, data, hashlib.sha256).hexdigest().encode()

    def put(self, kind: str, key: str, data: bytes) -> None:
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(self._digest(data) + b"\n" + data)
        os.replace(tmp, path)  # atomic: readers see the old entry, or the whole new one

    def count(self, kind: str, hit: bool) -> None:
        with self._lock:
            (self.hits if hit else self.misses)[kind] += 1

    def note(self, what: tuple[str, str]) -> None:
        group, name = what
        with self._lock:
            self.recomputed.setdefault(group, []).append(
                f"{self.scope}/{name}" if self.scope else name)

    def recomputed_summary(self, limit: int = 8) -> list[str]:
        """One line per group: "HTML pages (2): 1.0/a.html, 1.1/a.html"."""
        lines = []
        for group, names in sorted(self.recomputed.items()):
            names = sorted(names)
            shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more"
                                                 if len(names) > limit else "")
            lines.append(f"{group} ({len(names)}): {shown}")
        return lines

    def summary(self) -> str:
        kinds = sorted(set(self.hits) | set(self.misses))
        text = ", ".join(f"{kind} {self.hits[kind]} reused / {self.hits[kind] + self.misses[kind]}"
                         for kind in kinds) or "nothing"
        if self.rejected:
            text += ("; damaged or edited entries recomputed: "
                     + ", ".join(f"{kind} {n}" for kind, n in sorted(self.rejected.items())))
        return text


def key(*parts) -> str:
    """sha256 over `parts` (str, bytes or Path: a Path counts by its contents)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            data = part.read_bytes() if part.is_file() else b"<missing>"
            part = hashlib.sha256(data).hexdigest()
        if isinstance(part, str):
            part = part.encode("utf-8")
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def cached(kind: str, key_: str, compute: Callable[[], bytes],
           what: tuple[str, str] | None = None) -> bytes:
    """The stored result for `key_`, or `compute()` stored under it. `what`
    (group, name) names the result for the build's report of what it
    recomputed, e.g. ("HTML pages", "chapters/sites.html")."""
    store = _store
    if store is None:
        return compute()
    data = store.get(kind, key_)
    store.count(kind, data is not None)
    if data is None:
        data = compute()
        store.put(kind, key_, data)
        if what:
            store.note(what)
    return data


def active() -> "Memo | None":
    return _store


@contextlib.contextmanager
def use(folder: Path) -> Iterator[Memo]:
    global _store
    previous, _store = _store, Memo(folder)
    try:
        yield _store
    finally:
        _store = previous
