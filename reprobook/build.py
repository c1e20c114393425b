"""The build, stage by stage: validate -> execute -> facts -> render ->
publish. Each stage is its own module; this one only orders them and
reports progress."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import changes as changelib
from . import extension, incremental, memo, provenance, replication
from . import execute as execution
from . import facts as factlib
from . import manifest
from . import editions as editionlib
from .editions import Edition, check_pins, load_editions, write_registry_json
from .errors import BuildError
from .project import Project
from .publish import discard, locked, swap_in
from .render import content_policy, pandoc_book, quarto_available
from .render import quarto as quarto_renderer
from .render.book import page_names
from .render.chapters import chapter_paragraphs
from .render.pages import CHANGES_PAGE
from .render.stage import stage_book
from .render.shortcodes import check_facts_resolve
from .validate import has_data_package, require_valid, resource_paths


class Reporter(Protocol):
    def step(self, message: str) -> None: ...
    def done(self, message: str) -> None: ...


class SilentReporter:
    def step(self, message: str) -> None:
        pass

    def done(self, message: str) -> None:
        pass


@dataclass
class BuildResult:
    plan: list[execution.PlannedRun]
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    facts: dict[str, dict] = field(default_factory=dict)
    checks: dict[str, dict] = field(default_factory=dict)
    site: Path | None = None  # the published site
    output_dir: Path | None = None  # this edition's pages (the site itself without editions)
    pdf: Path | None = None
    renderer: str = ""
    warnings: list[str] = field(default_factory=list)  # the renderer's, printed as they come
    unchanged: bool = False  # nothing to do: the published site is current
    # What the renderers computed afresh, by group ("HTML pages": [...]),
    # everything else was reused from the cache.
    recomputed: dict[str, list[str]] = field(default_factory=dict)


def source_date_epoch(project: Project) -> int:
    """SOURCE_DATE_EPOCH if set, else the book's date: never the clock, so
    two builds of the same inputs produce the same bytes."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        day = dt.date.fromisoformat(project.date)
    except ValueError:
        return 0
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def run_notebooks(project: Project, reporter: Reporter, jobs: int | None,
                  result: BuildResult, timeout: int | None = None,
                  scheduler: str | None = None) -> dict[str, Path]:
    for run in result.plan:
        if run.needed:
            reporter.step(f"execute {run.spec.path}: {'; '.join(run.reasons)}")

    def on_done(run: execution.PlannedRun, how: str) -> None:
        (result.executed if how == "executed" else result.cached).append(run.spec.name)
        reporter.done(f"{run.spec.path} {'executed' if how == 'executed' else 'up to date (cached)'}")

    return execution.execute(project, result.plan, jobs=jobs, on_done=on_done, timeout=timeout,
                             scheduler=scheduler)


def check(project: Project, reporter: Reporter | None = None, jobs: int | None = None,
          timeout: int | None = None, scheduler: str | None = None) -> BuildResult:
    """Validate, execute and check facts; renders nothing. `scheduler`: a
    Dask scheduler's address to run the notebooks on (reprobook/pipeline/dask.py)."""
    reporter = reporter or SilentReporter()
    require_valid(project)
    reporter.done("raw data valid" if has_data_package(project) else
                  f"no data package ({project.datapackage}): no raw data to validate")
    result = BuildResult(plan=execution.plan(project))
    outputs = run_notebooks(project, reporter, jobs, result, timeout, scheduler)
    result.facts = factlib.collect(outputs)
    result.checks = factlib.collect_checks(outputs)
    # Every notebook succeeded: only now refresh the generated files in the
    # project tree (figures/, _variables.yml), which chapters and Quarto read.
    _sync_outputs(project, outputs)
    factlib.write_variables(result.facts, project.variables_file)
    check_facts_resolve(project, result.facts)
    reporter.done(f"{len(result.facts)} facts recorded; every fact the chapters use exists")
    return result


def _sync_outputs(project: Project, outputs: dict[str, Path]) -> None:
    """Copy every notebook's declared outputs into the project tree
    (figures/ is regenerated, never edited by hand)."""
    figures = project.root / "figures"
    figures.mkdir(exist_ok=True)
    for stale in figures.iterdir():
        if stale.is_file() and stale.name != "README.md":
            stale.unlink()
    for spec in project.notebooks:
        for relative in spec.outputs:
            dest = project.root / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = outputs[spec.name] / relative
            if src.is_symlink():  # run_notebook refuses them; a cache entry edited by hand
                raise BuildError(f"{spec.path}: its output {relative} in the cache is a symbolic "
                                 f"link ({src}); outputs must be regular files (run `reprobook "
                                 "build` again after deleting .reprobook/cache)")
            if dest.is_symlink():
                dest.unlink()  # replaced by the file, never written through
            shutil.copy2(src, dest)


def refuse_links(folder: Path) -> None:
    """Stop when `folder` (a published site about to be copied into the new
    one) holds a symbolic link: copying would publish what it points to."""
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise BuildError(f"{path} is a symbolic link (to {os.readlink(path)}); the published "
                             "site must hold only regular files. Delete it, or build every "
                             "edition again (`reprobook build` without --edition)")


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link a staged file into the new site (the stage is this build's
    own copy, deleted unread afterwards, so nothing writes through the
    link); copy where links are impossible. Hundreds of figure files per
    edition are no longer copied on every build."""
    try:
        if os.path.lexists(dst):  # a renderer's copy of the same file
            os.unlink(dst)
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _render(project: Project, result: BuildResult, stage: Path, site: Path, renderer: str,
            reporter: Reporter, context: dict, timestamp: int, pdf: bool = True) -> None:
    """Render one edition of the book into `site` (a fresh directory): stage
    the book with the engine's generated pages, render it with Quarto or the
    built-in renderer, then add the site's plain files."""
    use_quarto = renderer == "quarto" or (renderer == "auto" and quarto_available())
    if use_quarto and (problem := quarto_renderer.latex_pdf_problem(project)):
        raise BuildError(problem)
    # The replication package first: the edition's pages link it with its
    # size and sha256 (it holds inputs only, so it never depends on them).
    number = context.get("edition", {}).get("number")
    archive = stage / "replication" / replication.package_name(context["pdf_name"])
    archive.parent.mkdir(parents=True)
    context = {**context, "replication": replication.write_package(project, archive, number)}
    staged = stage_book(project, result.facts, result.checks, context, stage / "book",
                        for_quarto=use_quarto)
    site.mkdir(parents=True)
    if use_quarto:
        reporter.step(f"render with Quarto {quarto_renderer.version()}")
        for warning in quarto_renderer.render(staged.project, site):
            result.warnings.append(warning)
            reporter.step(f"warning (Quarto): {warning}")
        result.renderer = "quarto"
    else:
        reporter.step("render HTML and PDF with pandoc + Typst (Quarto not found)" if pdf else
                      "render HTML with pandoc (no PDF: a preview build)")
        if "pdf" in project.formats:
            reporter.step("format: pdf: the built-in renderer makes the PDF with Typst, as for "
                          "format: typst (LaTeX options under `pdf:` do not apply)")
        pandoc_book.render(staged.project, staged.book, result.facts, site, context,
                           timestamp=timestamp, pdf=pdf)
        result.renderer = "builtin"
    shutil.copytree(staged.extra_files, site, dirs_exist_ok=True, copy_function=_link_or_copy)
    # Every generated figure with its CSV (captions link the data; Quarto
    # copies only the images it embeds).
    shutil.copytree(staged.root / "figures", site / "figures", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("README.md"), copy_function=_link_or_copy)
    if use_quarto:  # the built-in renderer's pages carry the policy from page.html
        content_policy.add_to_quarto_pages(site)
    factlib.write_json(result.facts, site / "facts.json")
    factlib.write_json(result.checks, site / "checks.json")
    _link_or_copy(str(archive), str(site / archive.name))
    # CITATION.cff, .zenodo.json and the RO-Crate (which lists every file
    # above with its hash), dated by the edition, never the clock.
    provenance.write(project, site, context.get("edition") or {"summary": project.subtitle},
                     context["replication"],
                     dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat())
    manifest.write(project, site, result.renderer, number, context["replication"])
    result.output_dir = site
    pdf = site / context["pdf_name"]
    result.pdf = pdf if pdf.is_file() else None


@locked
def build(project: Project, reporter: Reporter | None = None, jobs: int | None = None,
          renderer: str = "auto", edition: str | None = None,
          timeout: int | None = None, scheduler: str | None = None,
          pdf: bool = True) -> BuildResult:
    """Build and publish. `timeout` overrides the seconds a notebook cell
    may run (reprobook.yml `timeout`). `pdf=False` (the preview) renders
    the HTML alone with the built-in renderer. With an editions registry, every edition (or just
    `edition`) is built into <site>/<number>/; the result returned is the
    newest edition built. The site is swapped in only if everything
    succeeded."""
    reporter = reporter or SilentReporter()
    started = time.monotonic()
    registry = load_editions(project.root)
    if edition and not any(e.number == edition for e in registry):
        raise BuildError(f"no edition '{edition}' in editions.yml "
                         f"(known: {', '.join(e.number for e in registry) or 'none'})")
    if renderer == "quarto" or (renderer == "auto" and quarto_available()):
        if problem := quarto_renderer.latex_pdf_problem(project):
            raise BuildError(problem)  # before any notebook runs
    project.work_dir.mkdir(parents=True, exist_ok=True)
    update_extension(project, reporter)
    print_ = incremental.fingerprint(project, renderer, edition, pdf)
    if incremental.unchanged(project, print_):
        reporter.done("nothing changed since the last publish (sources, data, engine, renderer "
                      "and published files all identical): nothing validated, executed, "
                      f"rendered or copied ({time.monotonic() - started:.1f}s)")
        return _published_result(project, registry, edition)
    incremental.forget(project)  # until this build has published
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=project.work_dir))
    try:
        with memo.use(project.work_dir / "cache" / "memo") as store:
            site = stage / "site"
            if not registry:
                result = check(project, reporter, jobs, timeout, scheduler)
                _render(project, result, stage / "work", site, renderer, reporter,
                        {"pdf_name": project.pdf_name}, source_date_epoch(project), pdf)
            else:
                unfrozen = [e.number for e in registry
                            if editionlib.read_snapshot(project.root, e.number) is None]
                try:
                    result = _build_editions(project.root, registry, edition, stage, site,
                                             renderer, reporter, jobs, timeout, scheduler, pdf)
                except BaseException:
                    # An edition is frozen only by a build that publishes it.
                    for number in unfrozen:
                        editionlib.snapshot_file(project.root, number).unlink(missing_ok=True)
                    raise
            reporter.done(f"reused from the cache (content hashes): {store.summary()}")
            for line in store.recomputed_summary() or ["nothing (every page, chapter and PDF reused)"]:
                reporter.step(f"recomputed (inputs changed): {line}")
            result.recomputed = {group: sorted(names) for group, names in store.recomputed.items()}
        swap_in(site, project.site_dir)
    finally:
        discard(stage)  # the staged copies and the old site, deleted in the background
    incremental.record(project, print_)
    # Paths now point into the published site.
    relative = result.output_dir.relative_to(stage / "site")
    result.output_dir = project.site_dir / relative
    result.site = project.site_dir
    if result.pdf is not None:
        result.pdf = result.output_dir / result.pdf.name
    reporter.done(f"published {project.site_dir.relative_to(project.root)}/ "
                  f"in {time.monotonic() - started:.1f}s")
    return result


def update_extension(project: Project, reporter: Reporter) -> None:
    """The project's _extensions/reprobook (what Quarto renders with): written
    if missing, refreshed if the engine's copy is newer, kept with a warning if
    the author changed it (extension.py)."""
    done, warnings = extension.ensure(project.root)
    if done in ("written", "refreshed"):
        reporter.done(f"{done} {extension.FOLDER}/ (the engine's Quarto extension, "
                      f"version {'.'.join(map(str, extension.version_of(extension.SOURCE)))})")
    for warning in warnings:
        reporter.step(f"warning: {warning}")


def _published_result(project: Project, registry: list[Edition], edition: str | None) -> BuildResult:
    """What `build` returns when the published site is already current."""
    import json

    result = BuildResult(plan=[], unchanged=True, site=project.site_dir)
    if registry:
        number = edition or registry[-1].number
        result.output_dir = project.site_dir / number
        name = pdf_name(project, number)
    else:
        result.output_dir = project.site_dir
        name = project.pdf_name
    facts = result.output_dir / "facts.json"
    result.facts = json.loads(facts.read_text()) if facts.is_file() else {}
    result.pdf = result.output_dir / name if (result.output_dir / name).is_file() else None
    return result


def pdf_name(project: Project, number: str) -> str:
    name = Path(project.pdf_name)
    return f"{name.stem}-{number}{name.suffix}"


def _build_editions(root: Path, registry: list[Edition], only: str | None, stage: Path,
                    site: Path, renderer: str, reporter: Reporter, jobs: int | None,
                    timeout: int | None = None, scheduler: str | None = None,
                    pdf: bool = True) -> BuildResult:
    from .project import load_project

    projects = {e.number: load_project(root, profile=e.profile) for e in registry}
    newest = registry[-1]
    published = root / projects[newest.number].output_dir
    for e in registry:
        # One kept as published is not frozen by this build (its files may
        # have moved on since), but an existing snapshot is what it was built from.
        kept = only and e.number != only and (published / e.number / "facts.json").is_file()
        if e.status != editionlib.DRAFT and \
                (not kept or editionlib.read_snapshot(root, e.number) is not None):
            projects[e.number] = _frozen_project(projects[e.number], e, reporter)
    nav = [{"number": e.number, "date": e.date, "status": e.status, "latest": e is newest,
            "pages": sorted(page_names(projects[e.number]))
            + ([CHANGES_PAGE] if i else [])}
           for i, e in enumerate(registry)]
    if only and published.is_dir():
        refuse_links(published)
        shutil.copytree(published, site)  # keep the other editions as published
    site.mkdir(parents=True, exist_ok=True)
    results: dict[str, BuildResult] = {}
    prose: dict[str, dict] = {}  # edition -> its chapters' paragraphs
    previous: tuple[Edition, BuildResult] | None = None
    for index, ed in enumerate(registry):
        project = projects[ed.number]
        # Another edition than the one asked for is kept as published; one
        # not published yet is built too: a later edition's "What changed"
        # page and every edition switcher need it, and an edition must come
        # out the same whether it was built alone or with the others
        # (`reprobook verify` rebuilds one edition in an empty copy).
        if only and ed.number != only and (site / ed.number / "facts.json").is_file():
            import json

            prior = BuildResult(plan=[])
            prior.facts = json.loads((site / ed.number / "facts.json").read_text())
            prior.output_dir = site / ed.number
            previous = (ed, prior)
            if index + 1 < len(registry):  # the next edition's "What changed" compares text
                prose[ed.number] = chapter_paragraphs(project, prior.facts)
            continue
        reporter.step(f"edition {ed.number} ({ed.date}): {ed.title}")
        errors, warnings = check_pins(project.root, ed, resource_paths(project))
        if errors:
            raise BuildError(f"edition {ed.number} cannot be rebuilt as pinned:\n  - "
                             + "\n  - ".join(errors))
        for warning in warnings:
            reporter.step(f"warning: {warning}")
        result = check(project, reporter, jobs, timeout, scheduler)
        changes = None
        if previous is not None or index + 1 < len(registry):
            prose[ed.number] = chapter_paragraphs(project, result.facts)
        if previous is not None:
            old_ed, old = previous
            changes = changelib.compare(
                old_ed.number, ed.number, old.facts, result.facts, old.output_dir / "figures",
                project.root / "figures",
                sorted(page_names(projects[old_ed.number])),
                sorted(page_names(project)),
                prose.get(old_ed.number), prose[ed.number])
        edition_site = site / ed.number
        if edition_site.exists():
            shutil.rmtree(edition_site)
        context = {"pdf_name": pdf_name(project, ed.number), "changes": changes,
                   "edition": {"number": ed.number, "date": ed.date, "title": ed.title,
                               "status": ed.status, "summary": ed.summary,
                               "amendments": _amendments(root, ed),
                               "latest": newest.number, "is_latest": ed is newest},
                   "editions": nav}
        store = memo.active()
        if store is not None:
            store.scope = ed.number  # the report names pages per edition
        _render(project, result, stage / ed.number, edition_site, renderer, reporter, context,
                ed.timestamp, pdf)
        results[ed.number] = result
        previous = (ed, result)
    _write_root(site, registry, newest)
    manifest.write_root(site, [e.number for e in registry])
    return results[only or newest.number]


def _frozen_project(project: Project, ed: Edition, reporter: Reporter) -> Project:
    """A published edition's project, loaded from its snapshot (editions.py):
    on its first build the snapshot is taken from the working files, and
    from then on the edition never reads them again."""
    from .project import load_project

    record = editionlib.read_snapshot(project.root, ed.number)
    if record is None:
        record = editionlib.take_snapshot(project, ed.number)
        reporter.step(f"edition {ed.number} is published (status {ed.status}): its inputs are "
                      f"frozen in {editionlib.SNAPSHOTS}/{ed.number}/ and {editionlib.SNAPSHOTS}"
                      "/store/ (commit both); later edits of the working files leave it as is")
    tree = editionlib.materialize(project.root, record, project.work_dir)
    # The engine's Quarto extension is engine code, like the engine itself:
    # a frozen edition renders with the one the engine ships now.
    extension.ensure(tree)
    return load_project(tree, profile=ed.profile)


def _amendments(root: Path, ed: Edition) -> list[dict]:
    """The corrections made to a published edition (`reprobook edition amend`)."""
    if ed.status == editionlib.DRAFT:
        return []
    return (editionlib.read_snapshot(root, ed.number) or {}).get("amendments", [])


def _write_root(site: Path, registry: list[Edition], newest: Edition) -> None:
    """The site root: a small page that sends readers to the newest edition
    and lists all of them, plus editions.json for tools."""
    import html

    write_registry_json(registry, site / "editions.json")
    items = "\n".join(
        f'<li><a href="{e.number}/index.html">Edition {html.escape(e.number)}</a> '
        f'({html.escape(e.date)}, {html.escape(e.status)}): {html.escape(e.title)}</li>'
        for e in reversed(registry))
    (site / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{content_policy.meta()}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Editions</title>
<meta http-equiv="refresh" content="0; url={newest.number}/index.html">
<link rel="canonical" href="{newest.number}/index.html">
</head>
<body>
<main>
<h1>Editions</h1>
<p>The newest edition is <a href="{newest.number}/index.html">{html.escape(newest.number)}</a>.</p>
<ul>
{items}
</ul>
</main>
</body>
</html>
""", encoding="utf-8")


@locked
def clean(project: Project, cache: bool = True) -> list[Path]:
    """Remove the published site, generated figures and variables, and (with
    `cache`) everything under .reprobook/ but its lock file: holding the lock,
    a clean cannot pull a site or cache from under a running build, and a
    build started meanwhile finds the same lock file."""
    from .publish import LOCK_FILE, previous_of

    removed = []
    targets = [project.site_dir, previous_of(project.site_dir), project.variables_file]
    if cache and project.work_dir.is_dir():
        targets += sorted(p for p in project.work_dir.iterdir() if p.name != LOCK_FILE)
    for path in targets:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            removed.append(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
            removed.append(path)
    figures = project.root / "figures"
    if figures.is_dir():
        for file in figures.iterdir():
            if file.is_file() and file.name != "README.md":
                file.unlink()
                removed.append(file)
    return removed


__all__ = ["build", "check", "clean", "BuildResult"]
