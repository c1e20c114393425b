"""Command line: `reprobook --help`. One entry point; every command has --help."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import __version__
from .build import build as build_book
from .build import check as check_book
from .build import clean as clean_outputs
from . import execute as execution
from .errors import BuildError
from .project import load_project
from .validate import rehash, validate

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


class ConsoleReporter:
    def step(self, message: str) -> None:
        console.print(f"[bold cyan]→[/] {message}")

    def done(self, message: str) -> None:
        console.print(f"[green]✓[/] {message}")


def _project(root: str | None):
    return load_project(Path(root) if root else None)


def _fail(exc: BuildError) -> None:
    err_console.print(f"[bold red]Build stopped:[/] {escape(str(exc))}", soft_wrap=True)
    err_console.print("[dim]The previously published site (if any) is unchanged.[/]")
    sys.exit(1)


root_option = click.option("--root", type=click.Path(file_okay=False), default=None,
                           help="Project directory (default: the nearest one holding _quarto.yml).")


class _Main(click.Group):
    """Every command: a user error (BuildError and its kinds) is one clear
    message and exit status 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BuildError as exc:
            err_console.print(f"[bold red]Error:[/] {escape(str(exc))}", soft_wrap=True)
            sys.exit(1)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reprobook")
def main() -> None:
    """Build a reproducible book from raw data and Jupyter notebooks."""


@main.command()
@root_option
@click.option("--dry-run", is_flag=True, help="Print which notebooks would run and why; run nothing.")
@click.option("--jobs", "-j", type=int, default=None, help="Notebooks to run in parallel (default: CPU count).")
@click.option("--renderer", type=click.Choice(["auto", "quarto", "builtin"]), default="auto",
              help="auto uses Quarto when it is on PATH, else the built-in pandoc + Typst path.")
@click.option("--edition", default=None, help="Build only this edition (others stay as published).")
@click.option("--timeout", type=click.IntRange(min=1), default=None,
              help="Seconds a notebook cell may run (overrides reprobook.yml `timeout`; default 600).")
@click.option("--scheduler", envvar="REPROBOOK_SCHEDULER", default=None, metavar="tcp://HOST:PORT",
              help="Run the notebooks on this Dask distributed scheduler's workers "
                   "(also REPROBOOK_SCHEDULER; default: a local pool). See docs/pipelines.md.")
def build(root, dry_run, jobs, renderer, edition, timeout, scheduler):
    """Validate data, execute notebooks, render the HTML site and PDF, publish."""
    try:
        project = _project(root)
        if dry_run:
            _print_plan(project)
            return
        console.print(f"[bold]Building[/] {project.title} in {project.root}")
        if scheduler:
            console.print(f"  notebooks run on the Dask cluster at {scheduler}")
        result = build_book(project, ConsoleReporter(), jobs=jobs, renderer=renderer,
                               edition=edition, timeout=timeout, scheduler=scheduler)
    except BuildError as exc:
        _fail(exc)
    console.print(f"  site: {result.site}/index.html (this edition: {result.output_dir}/index.html)")
    if result.pdf:
        console.print(f"  PDF:  {result.pdf}")


def _print_plan(project) -> None:
    from .validate import require_valid

    from .pipeline import graph

    require_valid(project)
    runs = execution.plan(project)
    table = Table(title="Build plan")
    table.add_column("notebook")
    table.add_column("after")
    table.add_column("action")
    table.add_column("why")
    for run in runs:
        table.add_row(run.spec.path, ", ".join(graph.upstreams(run.spec)) or "-",
                      "execute" if run.needed else "reuse cache",
                      "; ".join(run.reasons) or "inputs, source, imports and upstreams unchanged")
    console.print(table)
    console.print("Graph (upstream notebooks first; <- what each reads):")
    console.print(escape(graph.render_text(project.notebooks, {r.spec.name: r for r in runs})),
                  soft_wrap=True, end="")
    todo = [r.spec.name for r in runs if r.needed]
    console.print(f"{len(todo)} of {len(runs)} notebooks would execute"
                  + (f": {', '.join(todo)}" if todo else ""))


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
def new(directory):
    """Start a report in DIRECTORY (new or empty): a small working book with
    synthetic example data, a notebook, two chapters and their tests."""
    from .starter import new_project

    written = new_project(directory)
    console.print(f"[green]✓[/] wrote a starter report in {directory} ({len(written)} files; "
                  "its data is a synthetic example)")
    go = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    console.print(f"  next: {go}reprobook build && pytest   (README.md says more)")
    if importlib.util.find_spec("pytest") is None:
        # Else `pytest` finds another environment's (or none) and fails on its imports.
        console.print("  (its tests need pytest, which this environment lacks: pip install pytest)")


@main.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(["text", "mermaid", "dot"]), default="text",
              help="text (default: the graph, then its Mermaid source), mermaid (only the "
                   "Mermaid source) or dot (Graphviz source, for `dot -Tsvg`).")
@click.option("--plan/--no-plan", "with_plan", default=True,
              help="Mark what would execute (hashes the inputs; --no-plan only reads reprobook.yml).")
def dag(root, fmt, with_plan):
    """Print the notebook graph: which notebook reads which data and which
    other notebook's outputs; as text, or as Mermaid or Graphviz source for docs."""
    from .pipeline import graph

    try:
        project = _project(root)
        runs = {r.spec.name: r for r in execution.plan(project)} if with_plan else None
    except BuildError as exc:
        _fail(exc)
    if fmt in ("mermaid", "dot"):
        render = graph.render_mermaid if fmt == "mermaid" else graph.render_dot
        click.echo(render(project.notebooks, runs), nl=False)
        return
    click.echo(graph.render_text(project.notebooks, runs), nl=False)
    click.echo("\nMermaid (paste into a ```mermaid block):\n")
    click.echo(graph.render_mermaid(project.notebooks, runs), nl=False)


@main.command()
@root_option
@click.option("--jobs", "-j", type=int, default=None, help="Notebooks to run in parallel.")
def check(root, jobs):
    """Validate data, execute notebooks and check every fact the chapters use; no rendering."""
    from .publish import project_lock

    try:
        project = _project(root)
        with project_lock(project):  # check writes figures/ and runs notebooks too
            check_book(project, ConsoleReporter(), jobs=jobs)
    except BuildError as exc:
        _fail(exc)


@main.command()
@root_option
@click.option("--pins", "show_pins", is_flag=True,
              help="Print, as YAML to paste into editions.yml, the pins of each edition built now.")
def editions(root, show_pins):
    """List the editions, what each is built from (a published edition's
    recorded inputs, a draft's working files) and whether they match its pins."""
    import yaml

    from .editions import (DRAFT, SNAPSHOTS, check_pins, load_editions, materialize, pins_for,
                           read_snapshot)
    from .validate import resource_paths

    base = _project(root)
    registry = load_editions(base.root)
    if not registry:
        console.print("No editions.yml: the project has a single, unnumbered edition.")
        return
    table = Table(title="Editions")
    for column in ("edition", "date", "status", "profile", "built from", "pins"):
        table.add_column(column)
    pins = {}
    for ed in registry:
        record = read_snapshot(base.root, ed.number) if ed.status != DRAFT else None
        if record:  # a published edition: its recorded inputs, not the working files
            source = materialize(base.root, record, base.work_dir)
            amended = len(record.get("amendments", []))
            built_from = f"{SNAPSHOTS}/{ed.number}/" + (f" ({amended} amendment(s))" if amended else "")
        else:
            source = base.root
            built_from = "working files" + ("" if ed.status == DRAFT else
                                            " (frozen at its next build)")
        project = load_project(source, profile=ed.profile)
        raw = resource_paths(project)
        errors, warnings = check_pins(source, ed, raw)
        state = ("none" if not ed.pins else "; ".join(errors + warnings) or "match")
        table.add_row(ed.number, ed.date, ed.status, str(ed.profile), built_from, state)
        declared = sorted({name for nb in project.notebooks for name in nb.inputs})
        pins[ed.number] = pins_for(source, raw, declared)
    console.print(table)
    if show_pins:
        console.print(yaml.safe_dump(pins, sort_keys=True), soft_wrap=True)


@main.group()
def edition():
    """Start an edition, or correct a published one on purpose."""


@edition.command("new")
@root_option
@click.argument("number")
@click.option("--date", default=None,
              help="The edition's date, YYYY-MM-DD (default: SOURCE_DATE_EPOCH's day, else today).")
@click.option("--title", default=None, help="The edition's title (default: 'Edition <number>').")
def edition_new(root, number, date, title):
    """Start edition NUMBER as a draft: its entry in editions.yml and its
    profile files (_quarto-NUMBER.yml, reprobook-NUMBER.yml), commented."""
    import os

    from .editions import new_edition, today

    project = _project(root)
    written = new_edition(project.root, number, date or today(os.environ.get("SOURCE_DATE_EPOCH")),
                          title)
    for path in written:
        console.print(f"[green]✓[/] wrote {path.relative_to(project.root)}")
    console.print(f"Edition {number} is a draft: it is built from the working files. Write its "
                  f"summary in editions.yml; to publish it, set its status to current (and the "
                  "previous edition's to superseded), then build.")


@edition.command("amend")
@root_option
@click.argument("number")
@click.option("--why", required=True, help="The reason for the correction, printed on the edition's pages.")
@click.option("--date", default=None,
              help="The correction's date, YYYY-MM-DD (default: SOURCE_DATE_EPOCH's day, else today).")
def edition_amend(root, number, why, date):
    """Correct published edition NUMBER: its recorded inputs are retaken from
    the working files, and the correction (date, reason, inputs changed) is
    recorded beside them and shown on the edition's pages."""
    import os

    from .editions import amend, snapshot_file, today

    project = _project(root)
    changed = amend(project, number, why, date or today(os.environ.get("SOURCE_DATE_EPOCH")))
    console.print(f"[green]✓[/] edition {number} amended: "
                  f"{snapshot_file(project.root, number).relative_to(project.root)} now records "
                  f"{len(changed)} changed input(s):")
    for path in changed:
        console.print(f"  - {path}")
    console.print("Build to republish it, and commit editions/.")


@main.command()
@root_option
@click.option("--edition", default=None, help="Edition number (default: the newest).")
@click.option("--python", "python", default=None, metavar="PATH",
              help="With URL-OR-PATH: rebuild with this Python (an environment made from the "
                   "package's requirements.lock) instead of this one or a fresh one.")
@click.argument("target", required=False, metavar="[URL-OR-PATH]")
def verify(root, edition, target, python):
    """Hash the published files against their manifests, then rebuild in a
    clean temporary directory and compare byte for byte: every edition, or
    the one named with --edition.

    With URL-OR-PATH (an edition's or site's address, a published site
    folder, or a replication package .zip), verify that edition from what
    is published alone: its replication package is checked, unpacked into
    an empty folder and rebuilt; no project, git or clone needed."""
    from .verify import verify as run_verify

    if target is not None:
        _verify_published(target, edition, python)
        return
    try:
        label, differences = run_verify(_project(root), edition)
    except BuildError as exc:
        _fail(exc)
    name = label
    if differences:
        err_console.print(f"[bold red]✗ {name} does not match its published manifest "
                          "(published files, then the rebuild):[/]")
        for line in differences:
            err_console.print(f"  - {line}", soft_wrap=True)
        sys.exit(1)
    console.print(f"[green]✓[/] {name}: published files match the manifest, and the rebuild "
                  "is byte-identical to it")


def _verify_published(target: str, edition: str | None, python: str | None) -> None:
    from .reviewer import verify_published

    try:
        report = verify_published(target, edition, python)
    except BuildError as exc:
        err_console.print(f"[bold red]Verify stopped:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(1)
    for note in report.notes:
        console.print(f"• {escape(note)}", soft_wrap=True)
    if report.problems:
        err_console.print(f"[bold red]✗ {report.label} does not match what is published "
                          f"({report.identical} files byte-identical; these are not):[/]")
        for line in report.problems:
            err_console.print(f"  - {escape(line)}", soft_wrap=True)
        sys.exit(1)
    console.print(f"[green]✓[/] {report.label}: the replication package matches the manifest, "
                  f"and the rebuild reproduced all {report.identical} published files byte for byte")


@main.command()
@root_option
@click.option("--keep-cache", is_flag=True, help="Keep executed-notebook cache in .reprobook/.")
def clean(root, keep_cache):
    """Remove the published site, generated figures and variables, and the cache."""
    project = _project(root)
    for path in clean_outputs(project, cache=not keep_cache):
        console.print(f"removed {path.relative_to(project.root)}")


@main.command()
@root_option
@click.option("--port", default=4321, show_default=True, help="Port on 127.0.0.1.")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Rebuild when a source changes and reload the page open in the browser.")
@click.option("--pdf", is_flag=True,
              help="Also rebuild the PDF after each change, once the page is updated (by "
                   "default a preview build renders the HTML alone).")
def preview(root, port, watch, pdf):
    """Build, serve the site on http://127.0.0.1:PORT (local only), and keep it
    current: every saved change to chapters, notebooks, data, configuration or
    the report's modules rebuilds what it affects and reloads the browser."""
    from . import preview as live
    from .render import quarto_available
    from .render import quarto as quarto_renderer

    project = _project(root)
    if quarto_available():
        console.print(f"Quarto {quarto_renderer.version()} is on PATH; the preview renders with "
                      "the built-in renderer anyway, which re-renders only what an edit changed "
                      "(Quarto renders whole pages again and is several times slower: "
                      "BENCHMARKS.md). `reprobook build` renders with Quarto.")
    console.print("Preview builds render the HTML first; the PDF is " + (
        "rebuilt after each update of the page." if pdf else
        "not rebuilt (pass --pdf, or run `reprobook build`)."))

    def build(project, with_pdf=False):
        return build_book(project, _QuietReporter(), renderer="builtin", pdf=with_pdf)

    state = live.State()
    previewer = live.Previewer(project.root, build, lambda m: console.print(escape(m)), state,
                               then=functools.partial(build, with_pdf=True) if pdf else None)
    if not previewer.rebuild() and not project.site_dir.is_dir():
        err_console.print("No site to show yet: fix the error above and save; the preview "
                          "rebuilds on every change.")
    try:
        server = live.serve(project.site_dir, state, port)
    except OSError as exc:
        err_console.print(f"[bold red]Error:[/] cannot listen on 127.0.0.1:{port} ({exc.strerror});"
                          " pass another --port.")
        sys.exit(1)
    if watch:
        import threading

        threading.Thread(target=previewer.watch, args=(project.output_dir,), daemon=True).start()
    console.print(f"Serving {project.site_dir} at http://127.0.0.1:{server.server_address[1]}/ "
                  f"({'watching for changes; ' if watch else ''}Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        previewer.stop.set()
        server.server_close()


class _QuietReporter:
    """A preview build prints one line (Previewer says it), not every step."""

    def step(self, message: str) -> None:
        if message.startswith("warning"):
            console.print(escape(message))

    def done(self, message: str) -> None:
        pass


@main.group()
def data():
    """Raw data: validate it, or record a deliberate change."""


@data.command("validate")
@root_option
def data_validate(root):
    """Check every raw file against data/raw/datapackage.json."""
    problems = validate(_project(root))
    for problem in problems:
        err_console.print(f"[red]✗[/] {problem}", soft_wrap=True)
    if problems:
        sys.exit(1)
    console.print("[green]✓[/] raw data valid")


@data.command("rehash")
@root_option
def data_rehash(root):
    """Record the current checksum of every raw file (after a deliberate change)."""
    changed = rehash(_project(root))
    console.print(f"updated checksums: {', '.join(changed) if changed else 'none changed'}")


@main.command()
@root_option
def facts(root):
    """List the facts from the last build: key, printed text, notebook and cell."""
    import json

    project = _project(root)
    path = project.site_dir / "facts.json"
    if not path.is_file():
        err_console.print("No facts yet: run `reprobook build` first.")
        sys.exit(1)
    table = Table(title=f"Facts ({path.relative_to(project.root)})")
    for column in ("key", "text", "unit", "notebook", "cell"):
        table.add_column(column)
    for key, fact in json.loads(path.read_text()).items():
        table.add_row(key, fact["text"], fact["unit"], fact["notebook"], str(fact.get("cell")))
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    main()
