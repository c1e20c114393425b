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

from .errors import ConfigError, did_you_mean
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


# The conventional statuses; another word is printed as it is, but one a
# letter away from these is a typo.
STATUSES = ("current", "superseded")


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
    if "editions" in data and not data["editions"]:
        # (the site would silently lose its editions and become a flat one)
        raise ConfigError(f"{REGISTRY} lists no editions: list at least one, or delete "
                          f"{REGISTRY} for a book without editions")
    editions = []
    for entry in data.get("editions") or []:
        missing = [k for k in ("number", "date", "title", "status", "summary") if not entry.get(k)]
        if missing:
            raise ConfigError(f"{REGISTRY}: edition {entry.get('number', '?')} lacks {missing}")
        if isinstance(entry["number"], float):
            raise ConfigError(f"{REGISTRY}: edition number {entry['number']} is unquoted, and YAML "
                              f"reads it as a decimal number (1.10 becomes 1.1): write it in "
                              f"quotes, number: \"{entry['number']}\"")
        status = str(entry["status"])
        if status not in STATUSES and (hint := did_you_mean(status, STATUSES)):
            raise ConfigError(f"{REGISTRY}: edition {entry['number']} status '{status}' is not "
                              f"a status{hint}")
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
