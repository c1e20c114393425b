"""The staged book: what both renderers render.

Before rendering, the engine copies the project's sources into a scratch
folder and adds what it generates there, never in the project tree (a build
modifies no tracked file, and Quarto's own state, `.quarto/` and its edits to
`.gitignore`, stay in the scratch folder):

  _variables.yml            facts, for Quarto's `{{< var >}}`
  _reprobook/facts.json     facts, for the extension's `{{< fact >}}`
  _reprobook/site.json      what the extension's filter needs (site URL,
                            <picture> markup)
  _reprobook/figures.json   links under each figure's caption (data,
                            notebook cell, ledger), relative to the root
  _reprobook/narrow.json    each chart's narrow-layout variant (phones),
                            relative to the root
  _reprobook/chapters.json  each chapter's heading label (PDF links)
  _reprobook/pages/<p>.html HTML placed after the first heading of page p
                            (landing highlights; under Quarto also the
                            edition switcher and notice)
  _reprobook/site/          plain files copied into the published site after
                            rendering: raw data and its zip, executed
                            notebooks, ledger JSON, vendored assets
  claims.qmd, data.qmd, changes.qmd, notebooks/<name>.qmd
                            the engine's pages, as Quarto documents
  _quarto-reprobook.yml     a Quarto profile linking those pages from the
                            page footer (so Quarto renders them, web only)
                            and naming the PDF

`quarto render --profile <edition>,reprobook` and the built-in renderer
then publish the same pages. docs/rendering.md explains the choice.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from .. import facts as factlib
from .. import ledger
from ..project import Project, load_project
from . import bibliography, landing, pages
from .ast import typst_string
from .book import Book, read_book  # the AST work (numbers, fact uses) is the built-in's
from .chapters import figures_of
from .citations import citing_chapters, quarto_nocite
from .data_page import publish_data
from .figure_provenance import Provenance
from .narrow import narrow_variants, picture_open
from .notebook_pages import notebook_body, published_notebook, write_notebook
from .previews import image_preview
from .transform import book_links
from .typst_pdf import print_front
from .urls import from_page, normalized, root_of

ENGINE_PROFILE = "reprobook"
GENERATED = "_reprobook"
# Machine state and other non-sources a render never needs.
NOT_SOURCE = {".git", ".venv", ".reprobook", "__pycache__", ".pytest_cache", "test-artifacts",
              "node_modules", ".quarto", "tests", "_variables.yml", GENERATED}


@dataclass
class StagedBook:
    project: Project  # the staged book, loaded with the engine's profile
    entries: list  # the claims ledger
    extra_files: Path  # copied over the rendered site
    # The chapters as parsed while staging, with their numbered targets and
    # fact uses: the built-in renderer reads the same files, so it need not parse again.
    book: Book

    @property
    def root(self) -> Path:
        return self.project.root


def copy_sources(project: Project, dest: Path) -> None:
    skip_dirs = {project.output_dir, project.output_dir + ".previous"}

    def ignore(folder, names):
        return {n for n in names if n in NOT_SOURCE or n in skip_dirs
                or n.endswith(".egg-info")}

    shutil.copytree(project.root, dest, ignore=ignore, symlinks=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stage_book(project: Project, facts: dict[str, dict], checks: dict[str, dict],
               context: dict, dest: Path, for_quarto: bool) -> StagedBook:
    copy_sources(project, dest)
    generated = dest / GENERATED
    extra = generated / "site"
    extra.mkdir(parents=True)
    factlib.write_variables(facts, dest / "_variables.yml")
    _write(generated / "facts.json",
           json.dumps({k: v["text"] for k, v in sorted(facts.items())}, ensure_ascii=False, indent=1))
    # `{{< fact key fmt=words >}}`: the words, computed here so that both
    # renderers print the same text.
    _write(generated / "facts-words.json",
           json.dumps(factlib.words_table(facts), ensure_ascii=False, indent=1))
    edition = context.get("edition") or {}
    site_url = project.site_url.rstrip("/") + "/" if project.site_url else ""
    if site_url and edition:
        site_url += f"{edition['number']}/"
    # The <picture> markup around a chart with a narrow variant: the
    # extension fills in {srcset}, as the built-in renderer does.
    _write(generated / "site.json", json.dumps({"site_url": site_url,
                                                "picture_open": picture_open("{srcset}")}))

    staged_project = load_project(dest, profile=project.profile)
    book = read_book(staged_project, facts)
    chapters, targets, uses = book.chapters, book.targets, book.uses
    bibliography.check_citations(staged_project, citing_chapters(chapters, targets))
    env = pages.environment()

    # Executed notebooks: one page each, the .ipynb and its images as files;
    # each figure of the book shown after the cell that saved it.
    provenance = Provenance(project)
    cell_figures = _cell_figures(project, provenance, chapters, targets,
                                 extra / pages.NOTEBOOKS / "outputs")
    notebook_pages: dict[str, str] = {}
    footer_right = []
    for spec in project.notebooks:
        if spec.name not in provenance.executed:
            continue
        page = f"{pages.NOTEBOOKS}/{spec.name}.html"
        notebook_pages[spec.name] = page
        nb = published_notebook(provenance.executed[spec.name], project.root)
        (extra / pages.NOTEBOOKS).mkdir(exist_ok=True)
        write_notebook(nb, extra / pages.NOTEBOOKS / f"{spec.name}.ipynb")
        body = notebook_body(nb, spec.name, spec.path, extra / pages.NOTEBOOKS / "outputs",
                                     "outputs", cell_figures.get(spec.name))
        source = f"{pages.NOTEBOOKS}/{spec.name}.qmd"
        _write(dest / source, pages.notebook_page(body, spec.name, []))
        footer_right.append({"text": f"Notebook: {spec.name}", "href": source})

    # Links under each figure's caption (data, notebook cell, ledger).
    figure_links = {}
    figures = []
    for chapter in chapters:
        for ident, src in figures_of(chapter):
            figure_links[ident] = provenance.figure_links(chapter.source, ident, src)
            figures.append((chapter.source, ident, src))
    _write(generated / "figures.json", json.dumps(figure_links, ensure_ascii=False, indent=1))
    # Each chart's narrow-layout variant, shown on phones (<picture>).
    _write(generated / "narrow.json",
           json.dumps(narrow_variants(project, figures), ensure_ascii=False, indent=1))
    # Each chapter's heading label: a link to a chapter's .qmd becomes an
    # internal link in the PDF (Quarto's Typst output keeps it as a file URI).
    _write(generated / "chapters.json",
           json.dumps(book_links(staged_project, chapters).chapter_anchors, indent=1))

    highlights = landing.highlights(staged_project, facts)
    landing_uses = [ledger.Use(h.key, chapters[0].page, f"highlight-{h.key}", chapters[0].title,
                               f"At a glance: {h.text} {h.label}.") for h in highlights]
    entries = ledger.build_ledger(facts, checks, uses + landing_uses)
    ledger.write_json(entries, extra / "claims.json")
    _write(dest / pages.CLAIMS, pages.ledger_page(env, entries, checks, notebook_pages,
                                                  {c.page: c.number for c in chapters if c.number}))
    _write(dest / pages.REVIEWER_NOTES, pages.reviewer_notes_page(env, entries, checks, notebook_pages))
    (extra / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copy2(pages.TEMPLATES / "claims-redirect.js", extra / "assets" / "claims-redirect.js")
    footer_center = [{"text": "Claims ledger", "href": pages.CLAIMS},
                     {"text": "Reviewer notes", "href": pages.REVIEWER_NOTES}]

    changes = context.get("changes")
    if changes is not None:
        _write(dest / pages.CHANGES, pages.changes_page(
            env, changes, facts, {e.key: e for e in entries}, _figure_info(chapters, targets),
            {c.page: c for c in chapters}))
        footer_center.append({"text": f"What changed since {changes.previous}",
                              "href": pages.CHANGES})

    data = publish_data(project, extra)
    data["replication"] = context.get("replication")  # the edition's package, beside the page
    _write(dest / pages.DATA, pages.data_page(env, data, [
        (spec, notebook_pages.get(spec.name)) for spec in project.notebooks]))
    footer_center.insert(1, {"text": "Data", "href": pages.DATA})

    for folder in project.assets:  # third-party files the site serves itself (no CDN)
        shutil.copytree(project.root / folder, extra / "assets" / "vendor" / Path(folder).name)

    pdf_stem = PurePosixPath(context.get("pdf_name") or project.pdf_name).stem
    shutil.copy2(pages.TEMPLATES / "quarto.css", generated / "reprobook.css")
    engine_profile = {"book": {"output-file": pdf_stem,
                               "page-footer": {"center": footer_center, "right": footer_right}},
                      "format": {"html": {"css": [f"{GENERATED}/reprobook.css"],
                                                # a chapter's `description:` is its meta
                                                # description and a line on the landing
                                                # page, not a standfirst under its title
                                                # (the built-in renderer shows none)
                                                "hide-description": True}}}
    nocite = quarto_nocite(staged_project, chapters, targets)
    if for_quarto and nocite:
        engine_profile["nocite"] = nocite
    if for_quarto and ("typst" in project.formats or "pdf" in project.formats):
        engine_profile["format"]["typst"] = {"template-partials": _typst_partials(
            project, edition, generated / "typst")}
    _write(dest / f"_quarto-{ENGINE_PROFILE}.yml",
           "# Written by reprobook for this render; not a source file.\n"
           + yaml.safe_dump(engine_profile, allow_unicode=True, sort_keys=False))

    # What goes after each page's first heading.
    chapter_list = [(c.title, c.number, c.page) for c in chapters]
    floats: dict[str, list[str]] = {}
    for target in targets.values():
        if not target.label.startswith(("Chapter", "Section")) and target.anchor.split("-")[0] in (
                "fig", "map", "tbl"):
            floats.setdefault(target.page, []).append(target.label)
    landing_html = landing.landing_block(
        env, staged_project, facts, chapter_list, chapters[0].page, edition=edition, floats=floats,
        descriptions={c.page: c.description for c in chapters if c.description},
        replication=context.get("replication"),
        changes=str(PurePosixPath(pages.CHANGES).with_suffix(".html")) if changes is not None else None)
    all_pages = [c.page for c in chapters] + [
        str(PurePosixPath(href).with_suffix(".html"))
        for href in (item["href"] for item in footer_center + footer_right)]
    for page in all_pages:
        parts = []
        if for_quarto and edition:
            parts.append(env.get_template("edition-bar.html").render(
                page=page, root=root_of(page), edition=edition,
                editions=context.get("editions") or [], language=project.language,
                pdf_name=context.get("pdf_name")))
        if page == chapters[0].page:
            parts.append(landing_html)
        if parts:
            _write(generated / "pages" / page, "\n".join(parts))

    profile = ",".join(p for p in (project.profile, ENGINE_PROFILE) if p)
    return StagedBook(load_project(dest, profile=profile), entries, extra, book)


def _typst_partials(project: Project, edition: dict, folder: Path) -> list[str]:
    """Quarto's Typst book (its orange-book format) gets the same cover texts,
    lists of figures, maps and tables, and page rules (headings, captions,
    tables) as the built-in renderer's PDF: a typst-show.typ partial with the
    cover's texts filled in, and print.typ (templates/), which both renderers
    share. Returns the partials' paths relative to the staged book."""
    front = print_front(project, edition)

    def literal(key: str) -> str:
        # A Typst string inside a pandoc template: a dollar sign is doubled.
        return typst_string(front[key]).replace("$", "$$") if front[key] else "none"

    show = (pages.TEMPLATES / "quarto-typst-show.typ").read_text(encoding="utf-8")
    for key in ("author", "original", "edition"):
        show = show.replace(f"@{key.upper()}@", literal(key))
    _write(folder / "typst-show.typ", show)
    shutil.copy2(pages.TEMPLATES / "print.typ", folder / "print.typ")
    return [f"{GENERATED}/typst/typst-show.typ", f"{GENERATED}/typst/print.typ"]


def _book_figures(chapters: list, targets: dict):
    """(chapter, figure element, its image element, its Target) for every
    numbered figure and map of the book, in order."""
    from . import ast

    for chapter in chapters:
        if not figures_of(chapter):  # cached: most chapters need no walk
            continue
        for el in ast.iter_elements(chapter.doc["blocks"]):
            if el["t"] != "Figure":
                continue
            ident = el["c"][0][0]
            images = [e for e in ast.iter_elements(el["c"][2]) if e["t"] == "Image"]
            if images and ident in targets:
                yield chapter, el, images[0], targets[ident]


def _cell_figures(project: Project, provenance: "Provenance", chapters: list,
                  targets: dict, previews: Path) -> dict[str, dict[int, list[dict]]]:
    """notebook -> cell number -> the book's figures that cell saved, as the
    notebook page shows them: the web image (for raster maps a smaller
    preview in `previews`, linked to the full image, so a notebook page with
    five maps stays within the page-weight budget), its alt text from the
    chapter, and a link to the figure in the chapter ("Figure 5.1")."""
    out: dict[str, dict[int, list[dict]]] = {}
    for chapter, el, image, target in _book_figures(chapters, targets):
        ident = el["c"][0][0]
        src = image["c"][2][0]
        name = PurePosixPath(src).name
        notebook = provenance.by_file.get(name)
        cell = provenance.cells.get(PurePosixPath(src).stem)
        if not notebook or not cell:
            continue
        alt = dict(image["c"][0][2]).get("fig-alt") or dict(el["c"][0][2]).get("fig-alt", "")
        figure = PurePosixPath(chapter.source).parent / src
        full = from_page(f"{pages.NOTEBOOKS}/x.html", str(normalized(figure)))
        preview = image_preview(project.root / normalized(figure), previews)
        out.setdefault(notebook, {}).setdefault(cell, []).append({
            "src": f"outputs/{preview.name}" if preview else full, "full": full,
            "alt": alt, "label": f"{target.label} ({chapter.title})",
            "href": from_page(f"{pages.NOTEBOOKS}/x.html", f"{target.page}#{ident}")})
    return out


def _figure_info(chapters: list, targets: dict) -> dict[str, dict]:
    """Figure file name (x.svg, map.webp) -> how readers know it: its label
    ("Map 14.1"), kind ("map"), the first sentence of its caption, its
    chapter's title and its place on the page."""
    from . import ast

    out: dict[str, dict] = {}
    for chapter, el, image, target in _book_figures(chapters, targets):
        caption = " ".join(ast.stringify(b) for b in el["c"][1][1]).strip()
        out.setdefault(PurePosixPath(image["c"][2][0]).name, {
            "label": target.label, "kind": target.label.split(" ")[0].lower(),
            "caption": caption.split(". ")[0].rstrip("."), "chapter": chapter.title,
            "href": f"{target.page}#{target.anchor}"})
    return out
