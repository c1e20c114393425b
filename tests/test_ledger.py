"""The claims ledger: every printed number links to its entry, every entry
links back, and no chapter prints a number the ledger does not hold."""

from __future__ import annotations

import json
import re
from urllib.parse import urljoin

import pytest
from bs4 import BeautifulSoup

# Numbers that are labels, not claims: years used as dates, and numbered
# references to the report's or this book's own parts ("Figure 5", "Box 1",
# "Section 1.2", "Brigade 7"). Everything else must come from the ledger.
LABEL = re.compile(r"\b(Figure|Figures|Table|Map|Maps|Box|Boxes|Section|Sections|Chapter|Brigade|"
                   r"Brigades|Battalion|Battalions|Region|No\.)(\s+|-|\s*\()\d+(\.\d+)*\)?"
                   r"(\s*(and|,|-|–)\s*\d+)*|COVID-19", re.I)
YEAR = re.compile(r"\b(19|20)\d\d(s|s?\b)")
DATE = re.compile(r"\b\d{1,2}\s+(January|February|March|April|May|June|July|August|September|"
                  r"October|November|December)\b")


# Generated pages that list the ledger itself (the claims ledger, its reviewer
# notes, and an edition's computed "what changed" page with its edition
# numbers and counts).
GENERATED = {"claims.html", "checks.html", "changes.html"}


def pages(site):
    """Pages of prose: not the generated ledger or changes pages, nor the
    engine's data, search and notebook pages (file sizes, checksums, code)."""
    return sorted(p for p in site.rglob("*.html")
                  if p.name not in GENERATED | {"data.html", "search.html"}
                  and "notebooks" not in p.relative_to(site).parts)


@pytest.fixture(scope="module")
def ledger(built):
    project, result = built
    return json.loads((result.output_dir / "claims.json").read_text())


def test_every_fact_is_in_the_ledger_with_provenance(built, ledger):
    _, result = built
    assert set(ledger) == set(result.facts)
    for key, entry in ledger.items():
        assert entry["notebook"].startswith("notebooks/") and entry["cell"], key
        assert entry["status"] in {"computed", "consistent", "within-qualifier", "unverifiable",
                                   "inconsistent"}


def test_printed_numbers_link_to_ledger_and_back(built, ledger):
    project, result = built
    claims = BeautifulSoup((result.output_dir / "claims.html").read_text(), "html.parser")
    claim_ids = {row["id"] for row in claims.select("tr[id^=claim-]")}
    seen = 0
    for page in pages(result.output_dir):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        rel = str(page.relative_to(result.output_dir))
        for link in soup.select("main a.fact"):
            seen += 1
            target = urljoin(rel, link["href"])
            assert target.startswith("claims.html#claim-"), target
            assert target.split("#")[1] in claim_ids
            back = {(u["page"], u["anchor"]) for u in ledger[link["data-key"]]["printed_at"]}
            assert (rel, link["id"]) in back
    assert seen > 10


def _prose_numbers(soup) -> list[str]:
    main = soup.find("main")
    # .highlights: the landing page's key numbers, printed from facts.json by key
    # a.xref: cross-references print the book's own numbering ("1 Executive summary")
    # .citation: a citation prints its source's year ("Global Witness, 2024a")
    # .title-block: the landing page's title block, printed from the configuration
    # (edition number and dates from editions.yml and reprobook.yml)
    for tag in main.select("a.fact, a.xref, .highlights, .title-block, table, nav, .header-section-number, sup, .footnotes, "
                           "figure img, code, .csl-entry, #refs, .citation"):
        tag.decompose()
    text = main.get_text(" ")
    text = LABEL.sub(" ", text)
    text = YEAR.sub(" ", DATE.sub(" ", text))
    return re.findall(r"\d[\d,.]*%?", text)


def test_no_chapter_prints_a_number_outside_the_ledger(built):
    project, result = built
    offenders = {}
    for page in pages(result.output_dir):
        found = _prose_numbers(BeautifulSoup(page.read_text(), "html.parser"))
        if found:
            offenders[str(page.relative_to(result.output_dir))] = found
    assert offenders == {}


def test_the_unledgered_number_check_catches_a_typed_number():
    soup = BeautifulSoup("<main><p>We found 42 sites on 3 May 2021, see Figure 5; "
                         "Battalion 15 paid 80,000 yuan.</p></main>", "html.parser")
    assert _prose_numbers(soup) == ["42", "80,000"]


def test_ledger_points_at_the_cell_that_computed_the_fact(built):
    """The cell number in the ledger is the cell whose source records the fact."""
    import nbformat

    project, result = built
    notebooks = {}
    for key, fact in result.facts.items():
        nb = notebooks.setdefault(fact["notebook"], nbformat.read(project.root / fact["notebook"], as_version=4))
        cell = nb.cells[fact["cell"] - 1]
        assert cell.cell_type == "code" and "fact(" in cell.source, f"{key}: cell {fact['cell']}"
        direct = re.compile(r"fact\(\s*" + re.escape(f'"{key}"'))
        if any(direct.search(c.source) for c in nb.cells):  # keys built in loops can't be located
            assert direct.search(cell.source), f"{key} is recorded elsewhere, not in cell {fact['cell']}"


# ------------------------------------------------- labels and weight (issue 12)
LEDGER_TARGET = 240_000  # bytes: the heaviest ledger page, with room below the 300 KiB budget


def _row_cells(soup, selector: str) -> dict[str, list[str]]:
    return {row["id"]: [" ".join(td.get_text(" ").split()) for td in row.find_all("td", recursive=False)]
            for row in soup.select(selector)}


def test_ledger_and_changes_show_the_labels_the_notebooks_gave(built):
    """Every fact and check of the report carries a label its notebook
    gave it (facts.json, checks.json), and the ledger, the reviewer notes
    and the "What changed" page name each number and check by that label."""
    project, result = built
    site = result.output_dir
    facts = json.loads((site / "facts.json").read_text())
    checks = json.loads((site / "checks.json").read_text())
    assert [k for k, f in facts.items() if not f.get("label")] == []
    assert [k for k, c in checks.items() if not c.get("label")] == []
    for label in [f["label"] for f in facts.values()] + [c["label"] for c in checks.values()]:
        first = label.lstrip("'\u2018\"")[:1]  # a label may open with the source's quoted words
        assert (first.isupper() or first.isdigit()) and len(label) <= 70 and "_" not in label, label

    claims = BeautifulSoup((site / "claims.html").read_text(), "html.parser")
    rows = _row_cells(claims, "tr[id^=claim-]")
    assert len(rows) == len(facts)
    for key, fact in facts.items():
        assert rows[f"claim-{key}"][1].startswith(fact["label"] + " "), key
    status_links = {a["href"].split("#check-")[1]: a.get_text()
                    for a in claims.select("a[href^='checks.html#check-']")}
    assert status_links and all(checks[name]["label"] == text for name, text in status_links.items())

    notes = BeautifulSoup((site / "checks.html").read_text(), "html.parser")
    for row_id, cells in _row_cells(notes, "tr[id^=check-]").items():
        assert cells[1].startswith(checks[row_id.removeprefix("check-")]["label"]), row_id

    changes = BeautifulSoup((site / "changes.html").read_text(), "html.parser")
    named = {a["href"].split("#claim-")[1]: a.get_text() for a in changes.select("a[href^='claims.html#claim-']")}
    assert len(named) > 50
    assert all(named[key] == facts[key]["label"] for key in named)


def test_heaviest_ledger_is_under_its_weight_target(built):
    """The claims ledger grows with the book: each edition's ledger page,
    with everything a browser loads for it, stays under LEDGER_TARGET."""
    from reprobook import sitecheck

    project, _ = built
    site = project.root / "_site"
    ledgers = sorted(p.relative_to(site).as_posix() for p in site.glob("*/claims.html"))
    assert len(ledgers) >= 2
    weights = {page: sitecheck.page_weight(site, page).total for page in ledgers}
    assert max(weights.values()) <= LEDGER_TARGET, weights
