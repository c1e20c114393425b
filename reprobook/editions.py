"""Editions: versions of the publication that live side by side.

`editions.yml` (the registry) lists each edition: number, date, title,
status, summary, the Quarto profile that selects its chapters and notebooks
(`_quarto-<profile>.yml`, `reprobook-<profile>.yml`), and what pins it: the
sha256 of its raw inputs and of the environment lock. Each edition is
published at `<site>/<number>/`; the site root points to the newest.

A project without editions.yml has one implicit edition, built at the root
of the site."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError
from .project import SAFE_LOADER

REGISTRY = "editions.yml"


@dataclass(frozen=True)
class Edition:
    number: str
    date: str
    title: str
    status: str  # "current" or "superseded"
    summary: str
    profile: str | None
    pins: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def timestamp(self) -> int:
        """The edition's date as SOURCE_DATE_EPOCH: outputs carry the
        edition's date, never the build machine's clock."""
        day = dt.date.fromisoformat(self.date)
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def load_editions(root: Path) -> list[Edition]:
    path = root / REGISTRY
    if not path.is_file():
        return []
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{REGISTRY} is not valid YAML: {exc}") from None
    from .schema import EDITIONS, check

    check(data, EDITIONS, REGISTRY)
    editions = []
    for entry in data.get("editions") or []:
        missing = [k for k in ("number", "date", "title", "status", "summary") if not entry.get(k)]
        if missing:
            raise ConfigError(f"{REGISTRY}: edition {entry.get('number', '?')} lacks {missing}")
        if not all(part.isdigit() for part in str(entry["number"]).split(".")):
            # editions are sorted by these numbers (and published under them)
            raise ConfigError(f"{REGISTRY}: edition number '{entry['number']}' must be whole "
                              "numbers separated by dots, such as 1.0 or 1.1")
        try:
            dt.date.fromisoformat(str(entry["date"]))
        except ValueError:
            raise ConfigError(f"{REGISTRY}: edition {entry['number']} date must be YYYY-MM-DD") from None
        editions.append(Edition(str(entry["number"]), str(entry["date"]), str(entry["title"]),
                                str(entry["status"]), str(entry["summary"]).strip(),
                                entry.get("profile"), entry.get("pins") or {}))
    numbers = [e.number for e in editions]
    if len(set(numbers)) != len(numbers):
        raise ConfigError(f"{REGISTRY}: edition numbers must be unique: {numbers}")
    return sorted(editions, key=lambda e: [int(p) for p in e.number.split(".")])


def latest(editions: list[Edition]) -> Edition:
    return editions[-1]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_pins(root: Path, edition: Edition, raw_files: dict[str, Path]) -> tuple[list[str], list[str]]:
    """Compare the tree with the edition's pins. Returns (errors, warnings):
    a pinned raw input that changed is an error (the edition's numbers would
    no longer be the published ones); a different environment lock is a
    warning (rebuilding an old edition with today's code base must work;
    `verify` then shows whether the bytes still match)."""
    errors, warnings = [], []
    for name, expected in (edition.pins.get("inputs") or {}).items():
        path = raw_files.get(name)
        if path is None:
            errors.append(f"pinned input '{name}' is no longer in the data package")
        elif file_sha256(path) != expected:
            errors.append(f"{path.relative_to(root)} differs from the checksum pinned for "
                          f"edition {edition.number}")
    lock = edition.pins.get("environment")
    if lock and (root / "requirements.lock").is_file() and file_sha256(root / "requirements.lock") != lock:
        warnings.append(f"requirements.lock differs from the one pinned for edition {edition.number}")
    return errors, warnings


def pins_for(root: Path, raw_files: dict[str, Path], resources: list[str]) -> dict:
    """The pins of an edition built now: sha256 of the raw inputs its
    notebooks declare, and of the environment lock."""
    pins = {"inputs": {name: file_sha256(raw_files[name]) for name in sorted(resources)}}
    if (root / "requirements.lock").is_file():
        pins["environment"] = file_sha256(root / "requirements.lock")
    return pins


def write_registry_json(editions: list[Edition], path: Path) -> None:
    data = [{"number": e.number, "date": e.date, "title": e.title, "status": e.status,
             "summary": e.summary, "path": f"{e.number}/"} for e in editions]
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------
# Snapshots: a published edition is rebuilt from what it was first built
# from, never from the working files.
#
# editions/<number>/inputs.json  {"files": {path: sha256}, "amendments": [...]}
# editions/store/<sha[:2]>/<sha> the files themselves, shared by all editions
#
# Both are committed with the report, so a clone rebuilds every published
# edition without git history. An edition whose status is `draft` has no
# snapshot and follows the working files; any other status means published.

SNAPSHOTS = "editions"
DRAFT = "draft"
# Top-level folders that are never inputs of the book: the snapshots
# themselves, and the engine's and the repository's own tests, docs and
# scripts (a build reads none of them).
NOT_INPUTS = {SNAPSHOTS, "tests", "docs", "scripts"}


def snapshot_file(root: Path, number: str) -> Path:
    return root / SNAPSHOTS / number / "inputs.json"


def read_snapshot(root: Path, number: str) -> dict | None:
    path = snapshot_file(root, number)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ConfigError(f"{path.relative_to(root)} is not valid JSON ({exc}); restore it "
                          "from version control") from None


def input_files(project) -> dict[str, Path]:
    """Every file a build of the project may read, by path relative to the
    root: what a clone holds (as `verify` copies it), less the snapshots,
    generated files and the engine's own package."""
    import os

    from .verify import NOT_SOURCE

    root = project.root
    engine = Path(__file__).resolve().parent
    generated = {project.output_dir, project.output_dir + ".previous"}
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCE and not d.endswith(".egg-info")
                         and not (here == root and (d in NOT_INPUTS or d in generated))
                         and (here / d).resolve() != engine)
        for name in sorted(files):
            path = here / name
            if name in NOT_SOURCE or path.is_symlink() or \
                    (here == root / "figures" and name != "README.md"):  # notebooks' outputs
                continue
            out[path.relative_to(root).as_posix()] = path
    return out


def take_snapshot(project, number: str, amendments: list | None = None) -> dict:
    """Store the project's input files and write the edition's inputs.json."""
    root = project.root
    files = {}
    for rel, path in input_files(project).items():
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        stored = root / SNAPSHOTS / "store" / sha[:2] / sha
        if not stored.is_file():
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(data)
        files[rel] = sha
    record = {"edition": number, "files": files, "amendments": amendments or []}
    path = snapshot_file(root, number)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return record


def materialize(root: Path, record: dict, work_dir: Path) -> Path:
    """A source tree holding exactly the snapshot's files, under the engine's
    work folder. Keyed by the snapshot's content, so editions with the same
    inputs share one tree, and its notebook cache survives between builds."""
    digest = hashlib.sha256(json.dumps(record["files"], sort_keys=True).encode()).hexdigest()
    tree = work_dir / "snapshots" / digest[:16]
    stamp = tree / ".reprobook" / "snapshot"
    if stamp.is_file() and stamp.read_text() == digest:
        return tree
    import shutil

    if tree.exists():
        shutil.rmtree(tree)
    for rel, sha in record["files"].items():
        stored = root / SNAPSHOTS / "store" / sha[:2] / sha
        if not stored.is_file():
            raise ConfigError(f"the snapshot of edition {record['edition']} names {rel}, but "
                              f"{stored.relative_to(root)} is missing: restore {SNAPSHOTS}/ "
                              "from version control")
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(stored, dest)  # a copy: notebooks write into their tree
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    return tree


def changed_inputs(old: dict, new: dict) -> list[str]:
    """Paths added, removed or altered between two snapshots' files."""
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
