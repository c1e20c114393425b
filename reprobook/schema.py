"""The engine's own configuration files (reprobook.yml, editions.yml) checked
against their expected keys and types before anything is used: a typo is
an error with the key's path and a suggestion, never silently ignored.
(_quarto.yml belongs to Quarto, which validates it itself.)

Each key is declared once, as a `Key`: the type the checker enforces and
what the reference for authors says about it. `python -m reprobook.schema`
prints that reference (docs/configuration.md is its output, and a test
keeps the two equal)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .errors import ConfigError, did_you_mean


@dataclass(frozen=True)
class Key:
    """One key of a configuration file.

    `type` is what the checker accepts: a type or a tuple of types; a dict
    of Keys for a nested mapping; a one-item list holding such a dict for a
    list of mappings. A null value (`key:` with nothing after it) means the
    same as leaving the key out, except for a mapping or a list of mappings,
    which must be one. `required` and `default` are documentation:
    the code that reads the key enforces and applies them (project.py,
    editions.py), with messages of its own. `example` is YAML as written at
    the top of the file; a test checks that every example passes `check`."""

    type: object
    doc: str
    items: str = ""  # what a list's items (or a free mapping's entries) are, for the reference
    required: bool = False
    default: str = ""
    example: str = ""


NOTEBOOK = {
    "path": Key(str, required=True, doc=(
        "The notebook file, relative to the project folder. Its file name without "
        "`.ipynb` is the notebook's name: the one `Step(\"<name>\")` takes and the "
        "one `notebook:<name>/...` inputs refer to; two notebooks may not share a name. "
        "The file must exist and lie inside the project."),
        example="notebooks:\n  - path: notebooks/sales.ipynb\n"),
    "inputs": Key(list, items="resource names or `notebook:<name>/<output>`", default="the notebook reads no data", doc=(
        "What the notebook reads: resource names from the data package "
        "(`datapackage`), or another notebook's declared output written "
        "`notebook:<name>/<output path>`, which makes that notebook run first. "
        "A name the data package lacks stops the build before any notebook "
        "runs. The notebook may open only these files (and its imports, the "
        "configuration and its own source): reading another project file "
        "stops it with a PermissionError naming the file. A change to any "
        "input re-executes the notebook."),
        example=("notebooks:\n  - path: notebooks/sales.ipynb\n    inputs: [sales]\n"
                 "  - path: notebooks/summary.ipynb\n"
                 "    inputs: [notebook:sales/figures/sales-by-year.csv]\n")),
    "imports": Key(list, items="folders", default="no local packages", doc=(
        "Local Python packages of the project's own analysis code that the "
        "notebook imports, as folders relative to the project (for example "
        "`myreport`, holding `__init__.py`). The notebook may read their files, "
        "and a change to any `.py` file in them re-executes it. Packages "
        "installed in the environment need not be listed."),
        example=("notebooks:\n  - path: notebooks/sales.ipynb\n    imports: [myreport]\n")),
    "outputs": Key(list, items="paths", default="the notebook writes no files, only facts", doc=(
        "Every file the notebook writes, relative to the project, each under "
        "`figures/` (`figures/<stem>.svg`, `.pdf`, `.csv`, `.md`; an output "
        "anywhere else, such as a chapter or `.git/`, is refused when the "
        "configuration is read). Each must be a regular file, not a symbolic "
        "link. The notebook must write "
        "each of them (`Step.finish` stops it otherwise) and may write nothing "
        "else (a write elsewhere stops it naming the file). An SVG chart's "
        "phone-width variant `<stem>.narrow.svg` is derived by the engine and "
        "need not be listed. Once every notebook has run, they are copied to "
        "those paths in the project; `figures/` is emptied first on each build, "
        "so keep no hand-made file there."),
        example=("notebooks:\n  - path: notebooks/sales.ipynb\n    outputs:\n"
                 "      - figures/sales-by-year.svg\n      - figures/sales-by-year.pdf\n"
                 "      - figures/sales-by-year.csv\n")),
    "timeout": Key(int, default="the top-level `timeout`, else 600", doc=(
        "Seconds one cell of this notebook may run before the build stops "
        "naming the notebook. `reprobook build --timeout N` overrides it."),
        example="notebooks:\n  - path: notebooks/sales.ipynb\n    timeout: 1200\n"),
}

HIGHLIGHT = {
    "fact": Key(str, required=True, doc=(
        "The key of a fact a notebook records (`step.fact(\"<key>\", ...)`). "
        "An unknown key stops the build."),
        example="highlights:\n  - fact: sales.total\n    label: units sold in 2024\n"),
    "label": Key(str, required=True, doc=(
        "The words printed after the number on the landing page."),
        example="highlights:\n  - fact: sales.total\n    label: units sold in 2024\n"),
    "chapter": Key(str, default="the first chapter (`index.qmd`)", doc=(
        "The chapter the number links to, as listed in `_quarto.yml`, optionally "
        "with a section anchor (`chapters/sales.qmd#sec-totals`). A file that is "
        "not a chapter of the book is an error."),
        example=("highlights:\n  - fact: sales.total\n    label: units sold in 2024\n"
                 "    chapter: chapters/sales.qmd#sec-totals\n")),
}

# The work a publication reproduces: named on the PDF's cover and in the
# landing page's title block.
ORIGINAL = {
    "title": Key(str, default="not shown", doc="The original work's title, on the landing page.",
                 example="original:\n  title: \"Sales in 2024\"\n"),
    "author": Key(str, default="the PDF's cover names the book's `author` (`_quarto.yml`)", doc=(
        "Its author or publisher: on the landing page and on the PDF's cover "
        "(instead of the book's author)."),
        example="original:\n  author: \"Example Research Institute\"\n"),
    "date": Key((str, int, dt.date), default="not shown", doc=(
        "Its date as the original prints it (`June 2025`), on the landing page "
        "and on the PDF's cover after \"Original report:\"."),
        example="original:\n  date: \"June 2025\"\n"),
    "url": Key(str, default="not shown", doc="Where the original is published; linked from the landing page.",
               example="original:\n  url: \"https://example.org/sales-2024\"\n"),
    "funders": Key(list, items="text", default="not shown", doc=(
        "Who funded the original, one line each; listed on the landing page."),
        example="original:\n  funders:\n    - \"A Foundation (grant)\"\n"),
}

ENGINE = {
    "datapackage": Key(str, default="`data/raw/datapackage.json`", doc=(
        "The Frictionless data package that describes every raw input "
        "(schema, units, sources, licence, sha256). Paths of its resources "
        "are relative to its folder. Every file is validated, and its checksum "
        "compared, before any notebook runs; `reprobook data rehash` records "
        "new checksums after a deliberate change. A book whose notebooks "
        "declare no data inputs needs none (a missing file is an empty "
        "package); otherwise the file must exist."),
        example="datapackage: data/raw/datapackage.json\n"),
    "notebooks": Key([NOTEBOOK], default="no notebooks: a book of prose only", doc=(
        "The build plan: each notebook with what it reads and writes. Notebooks "
        "run with a real Jupyter kernel, top to bottom, upstreams first and "
        "independent ones in parallel; one re-executes only when its source, "
        "an input, an import, the environment lock, an upstream notebook or "
        "the engine changed. Each must use `reprobook.notebook.Step` and call "
        "`step.finish()`."),
        example=("notebooks:\n  - path: notebooks/sales.ipynb\n    inputs: [sales]\n"
                 "    outputs: [figures/sales-by-year.svg, figures/sales-by-year.pdf,\n"
                 "              figures/sales-by-year.csv]\n")),
    "assets": Key(list, items="folders", default="no assets", doc=(
        "Folders of third-party files the website serves itself (a JavaScript "
        "library, say), relative to the project. Each is copied into the "
        "website as `assets/vendor/<folder name>/` (in each edition's folder). A folder that does not exist is an error."),
        example="assets:\n  - vendor/leaflet\n"),
    "pdf": Key(str, default="`book.pdf`", doc=(
        "The PDF's file name, without folders. With `editions.yml`, each "
        "edition's PDF carries its number: `report.pdf` becomes `report-1.0.pdf`."),
        example="pdf: sales-report.pdf\n"),
    "highlights": Key([HIGHLIGHT], default="the landing page shows no key numbers", doc=(
        "The landing page's key numbers (\"At a glance\"), in this order: each "
        "a fact, a label and the chapter that explains it."),
        example=("highlights:\n  - fact: sales.total\n    label: units sold in 2024\n"
                 "    chapter: chapters/sales.qmd\n")),
    "timeout": Key(int, default="600", doc=(
        "Seconds one notebook cell may run, for every notebook that does not "
        "set its own. `reprobook build --timeout N` overrides both."),
        example="timeout: 900\n"),
    "original": Key(ORIGINAL, default="the cover and landing page name only this book", doc=(
        "For a publication that reproduces an earlier work: what that work is."),
        example=("original:\n  title: \"Sales in 2024\"\n  author: \"Example Research Institute\"\n"
                 "  date: \"June 2025\"\n")),
}

PINS = {
    "inputs": Key(dict, items="resource name -> sha256", default="no input is pinned", doc=(
        "Resource name -> sha256 of its raw file. A pinned file that changed, or "
        "left the data package, stops the build of this edition (its numbers "
        "would no longer be the published ones)."),
        example=("editions:\n  - number: \"1.0\"\n    pins:\n      inputs:\n"
                 "        sales: 3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")),
    "environment": Key(str, default="the lock is not compared", doc=(
        "sha256 of `requirements.lock`. A different lock only warns: an old "
        "edition must still build with today's tools; `reprobook verify` "
        "shows whether the bytes still match."),
        example=("editions:\n  - number: \"1.0\"\n    pins:\n"
                 "      environment: 257ec580525db3ff6da152f160c14597e3aecc932dcd43134dcf21e482c37d71\n")),
}

EDITION = {
    "number": Key((str, int, float), required=True, doc=(
        "The edition's number: whole numbers separated by dots (`1.0`, `1.1`, "
        "`2.0`), unique. Editions are ordered by it; the highest is the newest, "
        "which the site's root page sends readers to, and every other one "
        "carries a notice pointing to it. Quote it: unquoted, YAML reads "
        "`1.10` as the number 1.1. Each edition is published in `<site>/<number>/`."),
        example="editions:\n  - number: \"1.0\"\n"),
    "date": Key((str, dt.date), required=True, doc=(
        "The edition's date, `YYYY-MM-DD`. Printed on its pages and PDF cover, and "
        "used as the timestamp of its outputs (never the build machine's clock)."),
        example="editions:\n  - number: \"1.0\"\n    date: \"2025-06-30\"\n"),
    "title": Key(str, required=True, doc=(
        "The edition's title, in the list of editions on the site's root page "
        "and in the build's log."),
        example="editions:\n  - number: \"1.0\"\n    title: \"Sales in 2024, first edition\"\n"),
    "status": Key(str, required=True, doc=(
        "A word for readers, printed on the landing page and the root page: "
        "by convention `current` for the newest and `superseded` for the others. "
        "Which edition counts as newest comes from `number`, not from this. "
        "`draft` is the one status with a rule: a draft is built from the working "
        "files; any other status means published, and the edition's first build "
        "freezes its inputs in `editions/<number>/` (commit it), from which every "
        "later build and `verify` rebuild it, whatever the working files become. "
        "`reprobook edition new` writes a draft; `reprobook edition amend <number> "
        "--why ...` is the one way to change a published edition (recorded and "
        "shown on its pages)."),
        example="editions:\n  - number: \"1.0\"\n    status: superseded\n"),
    "summary": Key(str, required=True, doc=(
        "One or two sentences on what the edition is or adds. The built-in "
        "renderer prints it at the foot of each of the edition's pages."),
        example=("editions:\n  - number: \"1.1\"\n    summary: >-\n"
                 "      Edition 1.0 plus a chapter on 2025.\n")),
    "profile": Key((str, type(None)), default="null: the base files alone", doc=(
        "The Quarto profile that makes this edition: `_quarto-<profile>.yml` "
        "(which must exist) and, if present, `reprobook-<profile>.yml` are "
        "merged over `_quarto.yml` and `reprobook.yml` (mappings key by key, "
        "lists concatenated, anything else replaced). Usually the edition's number; "
        "several profiles are separated by commas and merged in order (`reprobook "
        "edition new` writes the previous edition's profile plus the new number). "
        "Chapters may hold text for some editions only: "
        "`::: {.content-visible when-profile=\"1.1\"}` (or `.content-hidden`, "
        "`unless-profile`)."),
        example="editions:\n  - number: \"1.1\"\n    profile: \"1.1\"\n"),
    "pins": Key(PINS, default="no check beyond the snapshot of a published edition", doc=(
        "Checksums a draft edition must be built from (a published edition is "
        "rebuilt from its snapshot, so its pins match by construction). "
        "`reprobook editions --pins` prints them for each edition, as YAML to paste here."),
        example=("editions:\n  - number: \"1.0\"\n    pins:\n"
                 "      environment: 257ec580525db3ff6da152f160c14597e3aecc932dcd43134dcf21e482c37d71\n"
                 "      inputs:\n"
                 "        sales: 3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")),
}

EDITIONS = {
    "editions": Key([EDITION], default="as if the file did not exist", doc=(
        "Every edition, published or planned. A list in any order; the "
        "engine sorts it by `number`."),
        example=("editions:\n  - number: \"1.0\"\n    date: \"2025-06-30\"\n"
                 "    title: \"Sales in 2024\"\n    status: current\n"
                 "    summary: The first edition.\n    profile: null\n")),
}

TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", list: "a list",
              dict: "a mapping", dt.date: "a date", type(None): "null"}


def type_name(expected, items: str = "") -> str:
    """How the checker's messages and the reference name a Key's type."""
    if items:
        return f"{type_name(expected)} of {items}"
    if isinstance(expected, dict):
        return "a mapping"
    if isinstance(expected, list):
        return "a list of mappings"
    if isinstance(expected, tuple):
        if int in expected and float in expected:  # "a number" covers both
            expected = tuple(t for t in expected if t is not int)
        return " or ".join(type_name(t) for t in expected)
    return TYPE_NAMES.get(expected, getattr(expected, "__name__", str(expected)))


def check(data, schema: dict, where: str) -> None:
    """Raise ConfigError at the first unknown key or wrongly typed value."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    for key, value in data.items():
        if key not in schema:
            hint = did_you_mean(key, schema, n=1) or f" (known keys: {', '.join(sorted(schema))})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")
        expected = schema[key].type
        # "reprobook.yml: original.title", "editions.yml: editions[0]"
        path = f"{where}: {key}" if where.endswith(".yml") else f"{where}.{key}" if where else key
        if isinstance(expected, dict):
            check(value, expected, path)
        elif isinstance(expected, list):
            if not isinstance(value, list):
                raise ConfigError(f"{path}: expected a list, got {value!r}")
            for i, item in enumerate(value):
                check(item, expected[0], f"{path}[{i}]")
        elif value is not None and not isinstance(value, expected):
            raise ConfigError(f"{path}: expected {type_name(expected)}, got {value!r}")


# ------------------------------------------------------------ the reference
# Each file the checker reads: its name, its keys, and what it is for.
FILES = (
    ("reprobook.yml", ENGINE, (
        "The engine's own settings, beside `_quarto.yml` at the top of the project: "
        "the notebooks and what each reads and writes, where the data package is, "
        "and what the landing page and the PDF's cover show. Optional: a book "
        "without it (an existing Quarto book) has no notebooks and the defaults "
        "below; an empty one is valid too. An edition's `reprobook-<profile>.yml` (see "
        "`profile` under editions.yml) takes the same keys and is merged over it: "
        "mappings key by key, lists concatenated, anything else replaced.")),
    ("editions.yml", EDITIONS, (
        "The editions registry, optional. Without it the project has one "
        "unnumbered edition, published at the top of the output folder. With it, "
        "every edition listed is built and published side by side in "
        "`<output-dir>/<number>/`, each with an edition switcher; each edition "
        "after the first gets a \"What changed\" page computed against the one "
        "before it; "
        "`<output-dir>/index.html` sends readers to the newest.")),
)


def walk(schema: dict, prefix: str = ""):
    """(dotted path, Key) of every key, parents before their children; a
    list of mappings adds `[]` to its children's path."""
    for name, key in schema.items():
        path = f"{prefix}{name}"
        yield path, key
        if isinstance(key.type, dict):
            yield from walk(key.type, f"{path}.")
        elif isinstance(key.type, list):
            yield from walk(key.type[0], f"{path}[].")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference() -> str:
    """docs/configuration.md: every key of every file, from the Keys above."""
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated from reprobook/schema.py by `python -m reprobook.schema > "
        "docs/configuration.md`; do not edit by hand (tests/test_config_reference.py "
        "fails when the two differ). -->",
        "",
        "The engine reads two files of its own besides Quarto's `_quarto.yml` "
        "(which Quarto documents and checks). Both are checked before anything "
        "runs: an unknown key or a value of the wrong type stops the build with "
        "the key's path and, for a misspelt key, the nearest known name "
        "(`reprobook.yml: unknown key 'higlights' (did you mean 'highlights'?)`). "
        "A key written with nothing after it (`pdf:`) counts as absent, except "
        "that a mapping or a list must be one. A path is relative to the project "
        "folder and must stay inside it. `key[]` below means each item of the list `key`.",
        "",
    ]
    for filename, schema, intro in FILES:
        out += [f"## {filename}", "", intro, "",
                "| key | type | required | when absent |", "|---|---|---|---|"]
        keys = list(walk(schema))
        for path, key in keys:
            out.append(f"| `{path}` | {_cell(type_name(key.type, key.items))} | "
                       f"{'yes' if key.required else 'no'} | {_cell(key.default or '-')} |")
        out.append("")
        for path, key in keys:
            out += [f"### `{path}`", "", key.doc, "",
                    f"Type: {type_name(key.type, key.items)}. "
                    + ("Required." if key.required else f"Optional; when absent: {key.default}."),
                    ""]
            if key.example:
                out += ["```yaml", key.example.rstrip("\n"), "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(reference())
