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
from .project import NOT_SOURCE, SAFE_LOADER

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


    root = project.root
    engine = Path(__file__).resolve().parent
    generated = {project.output_dir, project.output_dir + ".previous"}
    chapters = set(project.chapters)
    out = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCE and not d.endswith(".egg-info")
                         and not (here == root and (d in NOT_INPUTS or d in generated))
                         and (here / d).resolve() != engine)
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(root).as_posix()
            if name in NOT_SOURCE or path.is_symlink() or \
                    (here == root / "figures" and name != "README.md"):  # notebooks' outputs
                continue
            if here == root and (name == REGISTRY or (name.endswith(".md") and rel not in chapters)):
                continue  # the registry, and notes for the repository's readers (README.md...)
            out[rel] = path
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
    import shutil

    digest = hashlib.sha256(json.dumps(record["files"], sort_keys=True).encode()).hexdigest()
    tree = work_dir / "snapshots" / digest[:16]
    stamp = tree / ".reprobook" / "snapshot"
    if stamp.is_file() and stamp.read_text() == digest:
        _sync_registry(root, tree)
        return tree

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
    _sync_registry(root, tree)
    return tree


def _sync_registry(root: Path, tree: Path) -> None:
    """The registry is not an edition's input but the list of all editions
    (their switcher, the replication package's editions): the tree gets
    the current one."""
    import shutil

    src, dest = root / REGISTRY, tree / REGISTRY
    if src.is_file():
        if not dest.is_file() or dest.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dest)
    else:
        dest.unlink(missing_ok=True)


def changed_inputs(old: dict, new: dict) -> list[str]:
    """Paths added, removed or altered between two snapshots' files."""
    return sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))


def _find(root: Path, number: str) -> Edition:
    registry = load_editions(root)
    for ed in registry:
        if ed.number == number:
            return ed
    raise ConfigError(f"no edition '{number}' in {REGISTRY} "
                      f"(known: {', '.join(e.number for e in registry) or 'none'})")


def amend(project, number: str, why: str, date: str) -> list[str]:
    """Retake a published edition's snapshot from the working files, on
    purpose: the correction (date, reason, inputs changed) is kept in its
    inputs.json and printed on the edition's pages. Returns the inputs
    changed."""
    root = project.root
    ed = _find(root, number)
    if ed.status == DRAFT:
        raise ConfigError(f"edition {number} is a draft: it is built from the working files "
                          "already, so there is nothing to amend")
    old = read_snapshot(root, number)
    if old is None:
        raise ConfigError(f"edition {number} has no snapshot yet: `reprobook build` takes it "
                          "on the edition's first build; amend after that")
    if not why.strip():
        raise ConfigError("say why the published edition is corrected: --why \"...\" "
                          "(printed on the edition's pages)")
    current = {rel: file_sha256(path) for rel, path in input_files(project).items()}
    changed = changed_inputs(old["files"], current)
    if not changed:
        raise ConfigError(f"nothing to amend: the working files are exactly edition {number}'s "
                          f"recorded inputs ({snapshot_file(root, number).relative_to(root)})")
    _check_date(date)
    entry = {"date": date, "why": why.strip(), "changed": changed}
    take_snapshot(project, number, [*old.get("amendments", []), entry])
    return changed


def _check_date(date: str) -> None:
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        raise ConfigError(f"date '{date}' must be YYYY-MM-DD") from None


def today(source_date_epoch: str | None) -> str:
    """SOURCE_DATE_EPOCH's day if set (reproducible runs), else today's (UTC)."""
    if source_date_epoch:
        stamp = dt.datetime.fromtimestamp(int(source_date_epoch), tz=dt.timezone.utc)
    else:
        stamp = dt.datetime.now(dt.timezone.utc)
    return stamp.date().isoformat()


REGISTRY_HEAD = """\
# The editions registry: every version of this book (docs/configuration.md).
# `reprobook edition new <number>` adds an edition here as a draft; a draft is
# built from the working files. Change its status (to `current`, and the
# previous edition's to `superseded`) to publish it: its next build freezes
# its inputs under editions/, and later edits never change it again (unless
# `reprobook edition amend <number> --why "..."`, which is recorded and shown).
editions:
"""


def new_edition(root: Path, number: str, date: str, title: str | None = None) -> list[Path]:
    """Start the next edition: a draft entry appended to editions.yml (its
    comments kept) and the profile files, commented. Its profile is the
    previous edition's plus its own number, so what the earlier profiles add
    (chapters, notebooks, when-profile text) carries over. Returns the files
    written."""
    if not all(part.isdigit() for part in number.split(".")) or not number:
        raise ConfigError(f"edition number '{number}' must be whole numbers separated by dots, "
                          "such as 1.2 or 2.0")
    _check_date(date)
    registry = load_editions(root)
    if any(e.number == number for e in registry):
        raise ConfigError(f"edition {number} already exists in {REGISTRY}; edit its entry there, "
                          "or start a later number")
    key = [int(p) for p in number.split(".")]
    if registry and key <= [int(p) for p in registry[-1].number.split(".")]:
        raise ConfigError(f"edition {number} would not be the newest (the newest is "
                          f"{registry[-1].number}): start a higher number")
    quarto_file, engine_file = root / f"_quarto-{number}.yml", root / f"reprobook-{number}.yml"
    existing = [p.name for p in (quarto_file, engine_file) if p.exists()]
    if existing:
        raise ConfigError(f"{' and '.join(existing)} already exist: remove them, or add the "
                          f"edition to {REGISTRY} by hand to use them")
    previous = registry[-1] if registry else None
    profile = ",".join(p for p in ((previous.profile if previous else None), number) if p)
    title = title or f"Edition {number}"
    quarto_file.write_text(
        f"# Profile of edition {number} (written by `reprobook edition new`), merged over\n"
        "# _quarto.yml and the earlier editions' profiles as a Quarto profile: lists\n"
        "# concatenate (chapters listed here follow the others), other keys replace.\n"
        "# Text for this edition only, inside any chapter:\n"
        f"#   ::: {{.content-visible when-profile=\"{number}\"}}\n"
        "#   ...\n"
        "#   :::\n"
        "book:\n"
        f"  date: \"{date}\"\n"
        "#  chapters:\n"
        f"#    - chapters/new-in-{number}.qmd\n", encoding="utf-8")
    engine_file.write_text(
        f"# Engine profile of edition {number} (written by `reprobook edition new`), merged\n"
        "# over reprobook.yml like the Quarto profile: the notebooks this edition adds.\n"
        "# notebooks:\n"
        f"#   - path: notebooks/new-in-{number}.ipynb\n"
        "#     inputs: [a-resource-name]\n", encoding="utf-8")
    path = root / REGISTRY
    text = path.read_text(encoding="utf-8") if path.is_file() else REGISTRY_HEAD
    if not text.endswith("\n"):
        text += "\n"
    text += (f"  - number: {json.dumps(number)}\n"
             f"    date: {json.dumps(date)}\n"
             f"    title: {json.dumps(title, ensure_ascii=False)}\n"
             f"    status: {DRAFT}  # built from the working files until published\n"
             "    summary: >-\n"
             "      Say here, in a sentence or two, what this edition adds or changes.\n"
             f"    profile: {json.dumps(profile)}\n")
    path.write_text(text, encoding="utf-8")
    load_editions(root)  # what was written reads back
    return [path, quarto_file, engine_file]
