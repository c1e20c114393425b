"""The landing page's parts: its key numbers (highlights) and the summary
of the book's figures, tables and maps, and the edition's date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import RenderError, did_you_mean
from ..project import ENGINE_FILE, Project
from .data_page import DATA_PAGE
from .urls import from_page


@dataclass(frozen=True)
class Highlight:
    key: str
    label: str
    text: str  # the fact as printed
    page: str  # the chapter's page, e.g. chapters/sites.html (with #anchor if given)


def highlights(project: Project, facts: dict[str, dict]) -> list[Highlight]:
    """The landing page's key numbers (Project.highlights) with their
    printed text. An unknown fact is a build error, like an unknown
    `{{< fact >}}`."""
    out = []
    for n, (key, label, page) in enumerate(project.highlights, 1):
        if key not in facts:
            raise RenderError(f"{ENGINE_FILE}: highlight {n} uses unknown fact '{key}'"
                              f"{did_you_mean(key, facts)}")
        out.append(Highlight(key, label, facts[key]["text"], page))
    return out


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def human_date(value: str) -> str:
    """'2025-09-20' -> '20 September 2025', '2025-06' -> 'June 2025'; any
    other text is returned as it is."""
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", str(value).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        return str(value)
    month = f"{MONTHS[int(m.group(2)) - 1]} {m.group(1)}"
    return f"{int(m.group(3))} {month}" if m.group(3) else month


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def float_summary(labels: list[str]) -> str:
    """['Map 3.1', 'Map 3.2', 'Table 3.1'] -> 'Maps 3.1 and 3.2; Table 3.1'."""
    kinds: dict[str, list[str]] = {}
    for label in labels:
        kind, _, number = label.partition(" ")
        kinds.setdefault(kind, []).append(number)
    return "; ".join(f"{kind}{'s' if len(numbers) > 1 else ''} {_listing(numbers)}"
                     for kind, numbers in kinds.items())


def where_floats_are(chapters: list[tuple], floats: dict[str, list[str]]) -> str:
    """'Maps are in chapters 3, 4 and 9; figures in chapters 5 and 6.': for
    each kind of float, the numbered chapters holding one, in book order."""
    kinds: dict[str, list[str]] = {}
    for title, number, page in chapters:
        for label in floats.get(page, []):
            kind = label.split(" ")[0].lower() + "s"
            where = kinds.setdefault(kind, [])
            name = str(number) if number else title
            if name not in where:
                where.append(name)
    parts = [f"{kind} {'are ' if i == 0 else ''}in chapter{'s' if len(where) > 1 else ''} "
             f"{_listing(where)}" for i, (kind, where) in enumerate(
                 sorted(kinds.items(), key=lambda kv: (kv[0] != "maps", kv[0])))]
    return (parts[0][:1].upper() + "; ".join(parts)[1:] + ".") if parts else ""


def landing_block(env, project: Project, facts: dict[str, dict], chapters: list[tuple],
                  page: str, edition: dict | None = None, floats: dict[str, list[str]] | None = None,
                  changes: str | None = None, descriptions: dict[str, str] | None = None,
                  replication: dict | None = None) -> str:
    """The index page's opening: a title block (the book's title and
    subtitle, the work it reproduces with its author, date and funders from
    reprobook.yml `original`, and this edition's number and date), the
    book's key numbers as large labelled figures, each linking to the
    chapter that explains it, then what is in the book: every chapter of
    this edition with the figures, maps and tables it holds. `chapters`
    are (title, number, page) in book order; `floats` page -> labels
    ("Map 3.1"); `changes` the page saying what changed since the previous
    edition, if any; `descriptions` page -> the chapter's one-line
    description (its front matter's `description:`).; `replication` the edition's replication package
    ({path, bytes, sha256}, replication.py)"""
    floats = floats or {}
    descriptions = descriptions or {}
    items = [{"label": h.label, "text": h.text, "key": h.key,
              "href": from_page(page, h.page), "claim": from_page(page, f"claims.html#claim-{h.key}")}
             for h in highlights(project, facts)]
    contents = [{"title": title, "number": number, "href": from_page(page, target),
                 "floats": float_summary(floats.get(target, [])),
                 "description": descriptions.get(target, "")}
                for title, number, target in chapters[1:]]
    original = dict(project.original)
    if original.get("date"):
        original["date"] = human_date(original["date"])
    edition = dict(edition or {})
    if edition.get("date"):
        edition["date"] = human_date(edition["date"])
    return env.get_template("landing.html").render(
        title=project.title, subtitle=project.subtitle, original=original, edition=edition,
        changes=from_page(page, changes) if changes else None,
        highlights=items, contents=contents, where=where_floats_are(chapters[1:], floats),
        claims=from_page(page, "claims.html"), data=from_page(page, DATA_PAGE),
        replication=dict(replication, href=from_page(page, replication["path"])) if replication else None)
