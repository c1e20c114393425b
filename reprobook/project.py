"""Project configuration: the Quarto book (_quarto.yml) plus the engine's own
settings (reprobook.yml). Everything else reads the project through here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .errors import ConfigError
from .pipeline.graph import UPSTREAM_PREFIX, parse_upstream
from .pipeline.graph import check as check_graph

QUARTO_FILE = "_quarto.yml"
DEFAULT_TIMEOUT = 600  # seconds a notebook cell may run unless reprobook.yml says otherwise
ENGINE_FILE = "reprobook.yml"


# Generated or machine-local state that a fresh clone does not have.
NOT_SOURCE = {".git", ".venv", ".reprobook", "__pycache__", ".pytest_cache", "test-artifacts",
              "_variables.yml", "node_modules"}


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the build plan and what it declares."""

    path: str  # relative to the project root
    inputs: tuple[str, ...] = ()  # data package resource names
    # other notebooks' outputs it reads, declared among `inputs` as
    # notebook:<name>/<output path>: (name, output path)
    upstream: tuple[tuple[str, str], ...] = ()
    imports: tuple[str, ...] = ()  # local analysis packages it imports
    outputs: tuple[str, ...] = ()  # files it writes, relative to the root
    timeout: int = 0  # seconds one cell may run (reprobook.yml `timeout`, per notebook or for all)

    @property
    def name(self) -> str:
        return Path(self.path).stem


@dataclass(frozen=True)
class Project:
    root: Path
    title: str
    subtitle: str
    author: str
    date: str
    language: str
    chapters: tuple[str, ...]
    formats: tuple[str, ...]
    output_dir: str
    datapackage: str
    notebooks: tuple[NotebookSpec, ...]
    pdf_name: str
    quarto: dict = field(repr=False, default_factory=dict)
    profile: str | None = None
    assets: tuple[str, ...] = ()  # folders the site serves as assets/vendor/<name>/
    # Pages outside the chapters that the book's page footer links to
    # (book.page-footer): Quarto renders them as web pages only, and so does
    # the built-in renderer. The engine's generated pages (ledger, data,
    # changes, notebooks) reach both renderers this way.
    footer_pages: tuple[tuple[str, str, str], ...] = ()  # (region, text, source .qmd)
    # The landing page's key numbers (reprobook.yml `highlights`): (fact key,
    # label, page with optional #anchor). Fact keys are checked at render time.
    highlights: tuple[tuple[str, str, str], ...] = ()
    # The work this publication reproduces (reprobook.yml `original`: title,
    # author, date as the original prints it, url, funders), named on the
    # PDF's cover and in the landing page's title block.
    original: dict = field(repr=False, default_factory=dict)
    output_file: str = ""  # book.output-file: the PDF's file name without extension
    site_url: str = ""  # book.site-url: where the site is published, if configured

    @property
    def site_dir(self) -> Path:
        return self.root / self.output_dir

    @property
    def work_dir(self) -> Path:
        """Engine state that is safe to delete: cache, staging, logs."""
        return self.root / ".reprobook"

    @property
    def variables_file(self) -> Path:
        return self.root / "_variables.yml"


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` holding _quarto.yml."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / QUARTO_FILE).is_file():
            return candidate
    raise ConfigError(f"no {QUARTO_FILE} found in {here} or any parent directory")


def inside(root: Path, relative, where: str) -> str:
    """`relative`, a path read from configuration, if it resolves (symlinks
    followed) inside the project root; otherwise a ConfigError naming the
    file and key (`where`), before anything runs."""
    if not isinstance(relative, str) or not relative.strip():
        raise ConfigError(f"{where}: expected a path relative to the project, got {relative!r}")
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ConfigError(f"{where}: {relative} resolves to {target}, outside the project "
                          f"({root}); paths in configuration must stay inside it")
    return relative


# libyaml's safe loader where PyYAML was built with it (the pinned wheels
# are): about 10x faster than the pure-Python one, and a build reads the
# configuration once per edition and per notebook.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path.name} is missing in {path.parent}")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name} must be a mapping at the top level")
    return data


def _flatten_chapters(entries: list) -> list[str]:
    """Quarto allows `- part: Name` with nested `chapters:`; we keep the order."""
    flat: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            flat.append(entry)
        elif isinstance(entry, dict) and "chapters" in entry:
            flat.extend(_flatten_chapters(entry["chapters"]))
        else:
            raise ConfigError(f"unsupported chapter entry in {QUARTO_FILE}: {entry!r}")
    return flat


def merge_config(base, extra):
    """Quarto's profile merge: mappings merge key by key, lists concatenate,
    anything else is replaced by the profile's value."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = merge_config(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        return [*base, *extra]
    return extra


def active_profile(root: Path, quarto: dict, profile: str | None) -> str | None:
    """As Quarto: an explicit profile, else QUARTO_PROFILE, else the
    `profile: default:` of _quarto.yml. Several profiles are separated by
    commas and merged in order ("1.1,reprobook")."""
    import os

    if profile:
        return profile
    if os.environ.get("QUARTO_PROFILE"):
        return os.environ["QUARTO_PROFILE"]
    default = (quarto.get("profile") or {}).get("default")
    if isinstance(default, list):
        default = ",".join(default) if default else None
    return default


def _highlights(entries, chapters: list[str], label: str) -> tuple[tuple[str, str, str], ...]:
    """`highlights:` in reprobook.yml, each `{fact: key, label: text,
    chapter: chapters/x.qmd[#anchor]}`: an entry without fact or label, or a
    chapter outside the book, is a configuration error."""
    out = []
    if not isinstance(entries, list):
        raise ConfigError(f"{label}: highlights must be a list")
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not {"fact", "label"} <= entry.keys():
            raise ConfigError(f"{label}: highlight {n} needs `fact` and `label`: {entry!r}")
        chapter, _, anchor = str(entry.get("chapter") or chapters[0]).partition("#")
        if chapter not in chapters:
            raise ConfigError(f"{label}: highlight {n} links to '{chapter}', "
                              "which is not a chapter of the book")
        page = str(Path(chapter).with_suffix(".html").as_posix()) + (f"#{anchor}" if anchor else "")
        out.append((str(entry["fact"]), str(entry["label"]), page))
    return tuple(out)


def _footer_pages(root: Path, book: dict) -> tuple[tuple[str, str, str], ...]:
    footer = book.get("page-footer") or {}
    if not isinstance(footer, dict):
        return ()
    pages = []
    for region in ("left", "center", "right"):
        items = footer.get(region)
        if not isinstance(items, list):
            continue
        for item in items:
            href = item.get("href", "") if isinstance(item, dict) else ""
            if href.endswith((".qmd", ".md")) and "://" not in href:
                if not (root / inside(root, href, f"{QUARTO_FILE}: book.page-footer")).is_file():
                    raise ConfigError(f"{QUARTO_FILE}: book.page-footer links to {href}, "
                                      "which does not exist")
                pages.append((region, str(item.get("text") or href), href))
    return tuple(pages)


def load_project(root: Path | None = None, profile: str | None = None) -> Project:
    """Read the project, merging `_quarto-<profile>.yml` and
    `reprobook-<profile>.yml` over the base files when a profile is active
    (Quarto's project profiles; we use them for editions)."""
    root = find_root(root)
    quarto = _read_yaml(root / QUARTO_FILE)
    # A Quarto book without notebooks needs no reprobook.yml: no notebooks,
    # no data package, the defaults for everything else.
    engine = _read_yaml(root / ENGINE_FILE) if (root / ENGINE_FILE).exists() else {}
    profile = active_profile(root, quarto, profile)
    engine_label = ENGINE_FILE
    for name in (profile or "").split(","):
        if not name:
            continue
        profile_file = root / inside(root, f"_quarto-{name}.yml", "profile")
        if not profile_file.is_file():
            raise ConfigError(f"profile '{name}' has no {profile_file.name}")
        quarto = merge_config(quarto, _read_yaml(profile_file))
        engine_profile = root / f"reprobook-{name}.yml"
        if engine_profile.is_file():
            engine = merge_config(engine, _read_yaml(engine_profile))
            engine_label = f"{ENGINE_FILE} + {engine_profile.name}"

    book = quarto.get("book") or {}
    if quarto.get("project", {}).get("type") != "book":
        raise ConfigError(f"{QUARTO_FILE}: project.type must be 'book'")
    # Appendices come after the chapters, as in Quarto books.
    chapters = _flatten_chapters(book.get("chapters") or []) + _flatten_chapters(
        book.get("appendices") or [])
    if not chapters or Path(chapters[0]).name != "index.qmd":
        raise ConfigError(f"{QUARTO_FILE}: book.chapters must start with index.qmd")
    for index, chapter in enumerate(chapters):
        inside(root, chapter, f"{QUARTO_FILE}: book chapter {index + 1}")
        if not (root / chapter).is_file():
            raise ConfigError(f"{QUARTO_FILE} lists chapter {chapter}, which does not exist")

    from .schema import ENGINE, check

    check(engine, ENGINE, engine_label)
    notebooks = []
    default_timeout = engine.get("timeout")
    _check_timeout(default_timeout, f"{engine_label}: timeout")
    for index, entry in enumerate(engine.get("notebooks") or []):
        if not isinstance(entry, dict) or "path" not in entry:
            raise ConfigError(f"{ENGINE_FILE}: every notebook needs a path: {entry!r}")
        key = f"{engine_label}: notebooks[{index}]"
        _check_timeout(entry.get("timeout"), f"{key}.timeout")
        declared = [str(i) for i in entry.get("inputs") or ()]
        spec = NotebookSpec(
            path=inside(root, entry["path"], f"{key}.path"),
            inputs=tuple(i for i in declared if not i.startswith(UPSTREAM_PREFIX)),
            upstream=tuple(parse_upstream(i, f"{key}.inputs") for i in declared
                           if i.startswith(UPSTREAM_PREFIX)),
            imports=tuple(inside(root, name, f"{key}.imports")
                          for name in entry.get("imports") or ()),
            outputs=_with_derived(tuple(_output_path(root, out, f"{key}.outputs")
                                        for out in entry.get("outputs") or ())),
            timeout=entry.get("timeout") or default_timeout or DEFAULT_TIMEOUT,
        )
        if not (root / spec.path).is_file():
            raise ConfigError(f"{ENGINE_FILE} lists notebook {spec.path}, which does not exist")
        notebooks.append(spec)
    # Name clashes, outputs declared twice, unknown upstream outputs, cycles.
    check_graph(notebooks, engine_label)

    output_dir = inside(root, str(quarto.get("project", {}).get("output-dir", "_book")),
                        f"{QUARTO_FILE}: project.output-dir")
    if (root / output_dir).resolve() == root.resolve():
        raise ConfigError(f"{QUARTO_FILE}: project.output-dir must be a folder inside the "
                          "project, not the project itself (it is replaced on every build)")
    pdf = str(engine.get("pdf") or "book.pdf")  # null: as if absent
    if Path(pdf).name != pdf or pdf in (".", ".."):
        raise ConfigError(f"{engine_label}: pdf must be a file name, without folders: {pdf!r}")

    return Project(
        root=root,
        title=str(book.get("title", "")),
        subtitle=str(book.get("subtitle", "")),
        author=str(book.get("author", "")),
        date=str(book.get("date", "")),
        language=str(book.get("language") or quarto.get("lang") or "en"),
        chapters=tuple(chapters),
        formats=tuple((quarto.get("format") or {"html": {}}).keys()),
        output_dir=output_dir,
        datapackage=inside(root, str(engine.get("datapackage") or "data/raw/datapackage.json"),
                           f"{engine_label}: datapackage"),
        notebooks=tuple(notebooks),
        pdf_name=pdf,
        quarto=quarto,
        profile=profile,
        assets=tuple(_existing_folders(root, engine.get("assets") or [], engine_label)),
        footer_pages=_footer_pages(root, book),
        highlights=_highlights(engine.get("highlights") or [], chapters, engine_label),
        original={k: (str(v) if k != "funders" else [str(f) for f in v or []])
                  for k, v in (engine.get("original") or {}).items()},
        output_file=str(book.get("output-file") or ""),
        site_url=str(book.get("site-url") or ""),
    )


def _check_timeout(value, where: str) -> None:
    """A timeout is a number of seconds above zero (-5 or 0 were accepted and
    meant no limit, or none at all, without a word)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ConfigError(f"{where}: {value!r} is not a number of seconds: write a whole number "
                          "above 0 (for example 600), or leave it out for the default")


OUTPUT_FOLDER = "figures"


def _output_path(root: Path, relative, where: str) -> str:
    """A declared output, which must be a file under figures/: outputs are
    copied into the project after the run, so an output declared as a
    chapter, the configuration, a raw data file, .git/hooks/ or the site
    would overwrite it."""
    inside(root, relative, where)
    parts = PurePosixPath(relative).parts
    if (len(parts) < 2 or parts[0] != OUTPUT_FOLDER or ".." in parts or "\\" in relative
            or (root / OUTPUT_FOLDER).is_symlink()):
        raise ConfigError(f"{where}: {relative} is not under {OUTPUT_FOLDER}/; a notebook's outputs "
                          f"are copied into the project, so they must be files under "
                          f"{OUTPUT_FOLDER}/ (for example {OUTPUT_FOLDER}/{PurePosixPath(relative).name})")
    return relative


def _with_derived(outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The declared outputs plus those the engine derives from them: each
    SVG chart's narrow-layout variant (figures.narrow_name), which
    Step.save_figure writes beside it. Derived here, once, every check of
    outputs (the cache, Step.finish, the copy into figures/) covers it."""
    from .figures import narrow_name

    derived = [n for n in map(narrow_name, outputs) if n and n not in outputs]
    return outputs + tuple(derived)


def _existing_folders(root: Path, folders: list[str], label: str = ENGINE_FILE) -> list[str]:
    for folder in folders:
        inside(root, folder, f"{label}: assets")
        if not (root / folder).is_dir():
            raise ConfigError(f"{label}: asset folder {folder} does not exist")
    return list(folders)
