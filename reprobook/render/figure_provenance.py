"""Figure provenance: which notebook (and cell) made each figure, and which
facts its markdown prints, the links a reviewer follows from a figure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from ..project import Project
from .notebook_pages import NOTEBOOK_DIR, joined_text
from .urls import normalized


def _figure_notebooks(project: Project) -> dict[str, str]:
    """Figure file name (e.g. sites.svg) -> the notebook that writes it."""
    return {PurePosixPath(out).name: spec.name
            for spec in project.notebooks for out in spec.outputs}


VAR = re.compile(r"\{\{<\s*var\s+([^>]*?)\s*>\}\}")


def _figure_fact_keys(project: Project, chapter_source: str, ident: str) -> list[str]:
    """The facts a figure's markdown prints (caption and fig-alt), read from
    the chapter source: `![...](...){#ident ...}`."""
    from .shortcodes import expand_includes

    path = project.root / chapter_source
    text = expand_includes(path.read_text(encoding="utf-8"), path, chapter_source)
    at = text.find("{#" + ident)
    if at == -1:
        return []
    start = text.rfind("![", 0, at)
    end = text.find("\n", at)
    keys: list[str] = []
    for m in VAR.finditer(text[max(start, 0):end if end != -1 else len(text)]):
        if m.group(1) not in keys:
            keys.append(m.group(1))
    return keys


class Provenance:
    """Which notebook (and cell) made each figure, and which facts its
    markdown prints: the links a reviewer follows from a figure."""

    def __init__(self, project: Project):
        from ..execute import EXECUTED_NAME
        from ..layout import cache_dir

        self.project = project
        self.by_file = _figure_notebooks(project)
        self.executed: dict[str, Path] = {}
        self.cells: dict[str, int] = {}  # figure file stem -> cell number (1-based)
        for spec in project.notebooks:
            path = cache_dir(project, spec) / EXECUTED_NAME
            if not path.is_file():
                continue
            self.executed[spec.name] = path
            stems = {PurePosixPath(o).stem for o in spec.outputs}
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            for index, cell in enumerate(cells, 1):
                source = joined_text(cell.get("source", ""))
                for stem in stems:
                    if stem not in self.cells and (f'"{stem}"' in source or f"'{stem}'" in source):
                        self.cells[stem] = index

    def notebook_page(self, name: str) -> str:
        return f"{NOTEBOOK_DIR}/{name}.html"

    def figure_links(self, chapter_source: str, ident: str, src: str) -> list[dict]:
        """[{text, href, class}] with hrefs relative to the book's root: the
        image at full size, the notebook cell that drew the figure, its data
        and the ledger entries of the facts its markdown prints. Both renderers append these to the
        figure's caption (the built-in in Python, Quarto in the extension)."""
        out: list[dict] = []
        figure = PurePosixPath(chapter_source).parent / src
        # The image itself, at full size: on a phone the chart or map is
        # shrunk to the column (the image is a link to the same file, too).
        out.append({"text": "Full size", "href": str(normalized(figure)), "class": "figure-full-size"})
        data_csv = figure.with_suffix(".csv")
        if (self.project.root / data_csv).is_file():
            out.append({"text": "Data (CSV)", "href": str(normalized(data_csv)), "class": "figure-data"})
        name = self.by_file.get(PurePosixPath(src).name)
        if name and name in self.executed:
            stem = PurePosixPath(src).stem
            anchor = f"#cell-{self.cells[stem]}" if stem in self.cells else ""
            out.append({"text": f"Notebook ({name})", "href": self.notebook_page(name) + anchor,
                        "class": "figure-notebook"})
        for n, key in enumerate(_figure_fact_keys(self.project, chapter_source, ident)):
            out.append({"text": "Claims ledger" if n == 0 else f"Claims ledger ({n + 1})",
                        "href": f"claims.html#claim-{key}", "class": "figure-claims"})
        return out
