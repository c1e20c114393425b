"""Page rules for the book's PDF (issue 12), as checks on a rendered PDF,
shared by the built-in renderer's tests (test_readers.py) and real Quarto's
(test_quarto.py). Each check returns what breaks a rule (empty when the PDF
keeps it), read from the PDF itself with pypdf."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CM = 72 / 2.54
A4 = (595.28, 841.89)


@dataclass(frozen=True)
class TextArea:
    """Where a page's body text may go, in PDF points (origin bottom left).
    The running header sits above `top`, the footer below `bottom`."""
    left: float
    right: float
    bottom: float
    top: float

    @classmethod
    def a4(cls, x: float, top: float, bottom: float) -> "TextArea":
        """From the page margins in cm."""
        width, height = A4
        return cls(x * CM, width - x * CM, bottom * CM, height - top * CM)


# The built-in renderer's page: margins of 2.2 cm (x) and 2.4 cm (y), as in
# reprobook/templates/book.typ.
BUILTIN = TextArea.a4(2.2, 2.4, 2.4)
# Real Quarto's Typst book is orange-book's page: its book() default margin
# (x: 3cm, top: 3cm, bottom: 2.5cm), which Quarto's partial does not change
# (quarto-cli src/resources/extension-subtrees/orange-book, lib.typ).
ORANGE_BOOK = TextArea.a4(3.0, 3.0, 2.5)


def fragments(page) -> list[tuple[float, float, str]]:
    """(x, y, text) of every piece of text on a page, from pypdf's visitor."""
    out = []

    def visit(text, cm, tm, font, size):
        # Text inside the figures' own PDFs (matplotlib's DejaVu) is placed
        # in the figure's coordinates: the figure as a whole is sized to the
        # text width by the template.
        name = str((font or {}).get("/BaseFont", "")) + str((font or {}).get("/Subtype", ""))
        if "DejaVu" in name or "Type3" in name or not font:
            return
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            out.append((x, y, text))

    page.extract_text(visitor_text=visit)
    return out


def body_lines(page, area: TextArea) -> list[str]:
    """The page's text lines inside the text area (header and footer out)."""
    lines: dict[int, list[tuple[float, str]]] = {}
    for x, y, text in fragments(page):
        if area.bottom - 2 <= y <= area.top + 2:
            lines.setdefault(round(y), []).append((x, text))
    return [" ".join(t.strip() for _, t in sorted(parts)).strip()
            for _, parts in sorted(lines.items(), reverse=True)]


def _margin_lines(ys: list[float]) -> int:
    """Lines of text among baselines `ys`: baselines within 2 pt are one
    line (a bold page number and a title on one header line)."""
    lines = 0
    last = None
    for y in sorted(ys):
        if last is None or y - last > 2:
            lines += 1
        last = y
    return lines


def text_outside_the_text_area(pdf: Path, area: TextArea) -> list:
    """Text that runs off the text area (Table 8.1 ran over the footer):
    outside it there may only be one running header line and one footer
    line. The cover (page 1) is laid out on its own."""
    from pypdf import PdfReader

    bad = []
    for n, page in enumerate(PdfReader(pdf).pages[1:], 2):
        frags = fragments(page)
        for x, y, text in frags:
            if not (area.left - 3 <= x <= area.right + 3):
                bad.append((n, round(x), round(y), text[:40]))
        below = [y for x, y, t in frags if y < area.bottom - 2]
        above = [y for x, y, t in frags if y > area.top + 2]
        if _margin_lines(below) > 1 or _margin_lines(above) > 1:
            bad.append((n, "margin lines", sorted({round(y) for y in below}),
                        sorted({round(y) for y in above})))
    return bad


def pages_with_only_a_heading(pdf: Path, area: TextArea) -> list:
    """Pages whose body is a numbered section heading and nothing after it
    (a heading left alone at a page's foot, or before a float that moved on)."""
    from pypdf import PdfReader

    lonely = []
    for n, page in enumerate(PdfReader(pdf).pages, 1):
        lines = [line for line in body_lines(page, area) if line]
        if 0 < len(lines) <= 2 and re.match(r"^\d+(\.\d+)+\s", lines[-1]):
            lonely.append((n, lines))
    return lonely


def web_only_text_and_relative_links(pdf: Path) -> list:
    """The web-only section (§ "An interactive map") printed in the PDF, and
    links a PDF reader cannot follow (relative to the web site)."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    text = " ".join(page.extract_text() for page in reader.pages)
    bad = [phrase for phrase in ("An interactive map", "the map below") if phrase in text]
    uris = [str(a["/A"]["/URI"]) for page in reader.pages
            for a in (x.get_object() for x in page.get("/Annots", []) or [])
            if "/A" in a and "/URI" in a["/A"]]
    return bad + [u for u in uris if "://" not in u and not u.startswith("mailto:")]


def missing_lists_and_running_header(pdf: Path, area: TextArea, chapter: str,
                                     front_pages: int = 12) -> list:
    """The front matter lists figures, maps and tables; a running header
    names `chapter` on its pages."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    front = " ".join(page.extract_text() for page in reader.pages[:front_pages]).replace("\xa0", " ")
    missing = []
    for title, entry in (("Figures", "Figure"), ("Maps", "Map 3.1"), ("Tables", "Table")):
        if not re.search(rf"\b{title}\b", front) or entry not in front:
            missing.append(title)
    headers = set()
    for page in reader.pages:
        above = [t for x, y, t in fragments(page) if y > area.top + 2]
        if above:
            headers.add("".join(above).strip())
    if not any(chapter in h for h in headers):
        missing.append(("running header", chapter, sorted(headers)[:5]))
    return missing


def cover_texts(project, edition: str) -> dict:
    """What the cover must say, from the project's configuration."""
    import yaml

    engine = yaml.safe_load((project.root / "reprobook.yml").read_text(encoding="utf-8"))
    editions = yaml.safe_load((project.root / "editions.yml").read_text(encoding="utf-8"))["editions"]
    entry = next(e for e in editions if str(e["number"]) == edition)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry["date"]))
    return dict(title=project.title, subtitle=project.subtitle, author=engine["original"]["author"],
                original_date=str(engine["original"]["date"]), edition=edition,
                edition_date=str(entry["date"]))


def cover_problems(pdf: Path, title: str, subtitle: str, author: str, original_date: str,
                   edition: str, edition_date: str) -> list:
    """The cover names the book, the original's author and date, and this
    edition's number and ISO date, saying "reproducible edition" once."""
    from pypdf import PdfReader

    # Typst sets an apostrophe in content as a typographic one (Quarto's
    # cover); the configuration has a straight one.
    cover = re.sub(r"\s+", " ", PdfReader(pdf).pages[0].extract_text()).replace("\u2019", "'")
    bad = [want for want in (title, subtitle, author, f"Original report: {original_date}")
           if want not in cover]
    if not re.search(rf"Reproducible edition {re.escape(edition)} · {re.escape(edition_date)}\b", cover):
        bad.append(("edition line", cover))
    if len(re.findall("reproducible edition", cover, re.I)) != 1:
        bad.append(("'reproducible edition' not said once", cover))
    return bad


def _fonts(resources, seen, found):
    """Every font (name, subtype) reachable from a resources dictionary,
    including inside form XObjects (an embedded chart is one)."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        found.add((str(font.get("/BaseFont")), str(font.get("/Subtype"))))
    for xobject in (resources.get("/XObject") or {}).values():
        ref = getattr(xobject, "idnum", None)
        if ref in seen:
            continue
        seen.add(ref)
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            _fonts(xobject.get("/Resources"), seen, found)


def fonts(pdf: Path) -> set[tuple[str, str]]:
    """(name, subtype) of every font the PDF uses, charts' included."""
    from pypdf import PdfReader

    found: set = set()
    seen: set = set()
    for page in PdfReader(pdf).pages:
        _fonts(page.get("/Resources"), seen, found)
    return found
