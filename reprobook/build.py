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

from . import execute as execution
from . import facts as factlib
from .errors import BuildError
from .notebook import FACTS_FILE
from .project import Project
from .publish import swap_in
from .render import pandoc_book, quarto_available
from .render import quarto as quarto_renderer
from .render.shortcodes import SHORTCODE, expand_includes
from .validate import require_valid


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
    site: Path | None = None
    pdf: Path | None = None
    renderer: str = ""


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
                  result: BuildResult) -> dict[str, Path]:
    for run in result.plan:
        if run.needed:
            reporter.step(f"execute {run.spec.path}: {'; '.join(run.reasons)}")

    def on_done(run: execution.PlannedRun, how: str) -> None:
        (result.executed if how == "executed" else result.cached).append(run.spec.name)
        reporter.done(f"{run.spec.path} {'executed' if how == 'executed' else 'up to date (cached)'}")

    return execution.execute(project, result.plan, jobs=jobs, on_done=on_done)


def chapter_fact_keys(project: Project) -> list[tuple[str, int, str]]:
    """(chapter, line, key) for every `{{< var key >}}` the chapters use."""
    uses = []
    for chapter in project.chapters:
        path = project.root / chapter
        text = expand_includes(path.read_text(encoding="utf-8"), path, chapter)
        for m in SHORTCODE.finditer(text):
            if m.group(1) == "var":
                uses.append((chapter, text.count("\n", 0, m.start()) + 1, m.group(2).strip()))
    return uses


def check_facts_resolve(project: Project, facts: dict[str, dict]) -> None:
    missing = [f"  - {c}:{line}: unknown fact '{k}'" for c, line, k in chapter_fact_keys(project)
               if k not in facts]
    if missing:
        raise BuildError("chapters use facts no notebook records:\n" + "\n".join(missing))


def check(project: Project, reporter: Reporter | None = None, jobs: int | None = None) -> BuildResult:
    """Validate, execute and check facts; renders nothing."""
    reporter = reporter or SilentReporter()
    require_valid(project)
    reporter.done("raw data valid")
    result = BuildResult(plan=execution.plan(project))
    outputs = run_notebooks(project, reporter, jobs, result)
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
            shutil.copy2(outputs[spec.name] / relative, dest)


def _stage_outputs(project: Project, stage: Path) -> None:
    for spec in project.notebooks:
        for relative in spec.outputs:
            dest = stage / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project.root / relative, dest)


def build(project: Project, reporter: Reporter | None = None, jobs: int | None = None,
          renderer: str = "auto") -> BuildResult:
    reporter = reporter or SilentReporter()
    started = time.monotonic()
    result = check(project, reporter, jobs)

    project.work_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="stage-", dir=project.work_dir))
    try:
        _stage_outputs(project, stage)
        site = stage / "site"
        site.mkdir()
        use_quarto = renderer == "quarto" or (renderer == "auto" and quarto_available())
        if use_quarto:
            reporter.step("render with Quarto")
            quarto_renderer.render(project, site)
            result.renderer = "quarto"
        else:
            reporter.step("render HTML and PDF with pandoc + Typst (Quarto not found)")
            context = {"pdf_name": project.pdf_name}
            pandoc_book.render(project, result.facts, result.checks, stage, site, context,
                               timestamp=source_date_epoch(project))
            result.renderer = "builtin"
        factlib.write_json(result.facts, site / "facts.json")
        factlib.write_json(result.checks, site / "checks.json")
        swap_in(site, project.site_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    result.site = project.site_dir
    pdf = project.site_dir / project.pdf_name
    result.pdf = pdf if pdf.is_file() else None
    reporter.done(f"published {project.site_dir.relative_to(project.root)}/ "
                  f"in {time.monotonic() - started:.1f}s")
    return result


def clean(project: Project, cache: bool = True) -> list[Path]:
    removed = []
    targets = [project.site_dir, project.variables_file]
    if cache:
        targets.append(project.work_dir)
    for path in targets:
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(path)
        elif path.is_file():
            path.unlink()
            removed.append(path)
    figures = project.root / "figures"
    if figures.is_dir():
        for file in figures.iterdir():
            if file.is_file() and file.name != "README.md":
                file.unlink()
                removed.append(file)
    return removed


__all__ = ["build", "check", "clean", "BuildResult", "FACTS_FILE"]
