"""The bibliography's keys, and citations that have none: checked while the
book is staged, so both renderers stop on the same mistake. (Quarto alone
would publish "(wilkinson2006?)" in the HTML and carry on; the built-in
renderer's PDF failed later with Typst's "label <ref-...> does not exist".)"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ..errors import BuildError
from ..project import Project


def _keys_of(path: Path) -> set[str]:
    """The entry keys of one bibliography file: CSL JSON, CSL YAML, or
    BibTeX/BibLaTeX (converted by pandoc, memoised like every pandoc run)."""
    from .pandoc_book import run_pandoc

    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        entries = json.loads(text)
    elif suffix in (".yaml", ".yml"):
        data = yaml.safe_load(text) or {}
        entries = data.get("references", []) if isinstance(data, dict) else data
    elif suffix in (".bib", ".bibtex"):
        entries = json.loads(run_pandoc(["-f", "biblatex", "-t", "csljson"], text))
    else:
        return set()  # a format we do not read: pandoc will say what it thinks
    return {str(e["id"]) for e in entries if isinstance(e, dict) and "id" in e}


def bibliography_files(project: Project) -> list[Path]:
    bib = project.quarto.get("bibliography")
    if not bib:
        return []
    return [project.root / name for name in ([bib] if isinstance(bib, str) else list(bib))]


def check_citations(project: Project, cited: dict[str, list[str]]) -> None:
    """Stop on a cited key that no bibliography file holds. `cited`: key ->
    the chapters that cite it."""
    files = bibliography_files(project)
    if not cited:
        return
    if not files:
        first = sorted(cited)[0]
        raise BuildError(f"{', '.join(cited[first])}: cites @{first}, but _quarto.yml names no "
                         "`bibliography:` file to find it in")
    known = set()
    for path in files:
        if not path.is_file():
            raise BuildError(f"_quarto.yml: bibliography file {path.relative_to(project.root)} "
                             "does not exist")
        known |= _keys_of(path)
    missing = sorted(k for k in cited if k not in known)
    if missing:
        lines = [f"  @{key} in {', '.join(cited[key])}" for key in missing]
        raise BuildError("citations with no entry in the bibliography "
                         f"({', '.join(str(p.relative_to(project.root)) for p in files)}):\n"
                         + "\n".join(lines)
                         + "\ncorrect the key, or add the entry to that file "
                           "(or a file listed under `bibliography:` in _quarto.yml)")
