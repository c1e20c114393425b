"""Conformance: real Quarto and the built-in renderer publish the same book.

The real book is built once with the built-in renderer (the `built`
fixture) and once with each real Quarto CLI (REPROBOOK_TEST_QUARTO, set by
`./run test` from ../shared/tools/quarto; else a `quarto` on PATH), from
copies of the same project, and the sites are compared: pages per edition,
chapter and section headings with their numbers, figure/table/map numbers,
every printed fact on its page, links and anchors, ledger, editions, PDF
text. Under CI=true a missing Quarto is a failure, elsewhere a visible skip.
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook import sitecheck
from reprobook.build import build
from reprobook.project import load_project

from . import pdfpages
from .conftest import ROOT, copy_project, quarto_binaries

EDITIONS = ("1.0", "1.1")
# Pages only one renderer makes: the built-in's search page (Quarto has its
# own search box and index); Quarto's site_libs/ and the built-in's assets/.
RENDERER_ONLY = {"search.html"}


QUARTOS = quarto_binaries()
if not QUARTOS:
    reason = ("no Quarto: ./run test installs it from ../shared/tools/quarto, "
              "or put `quarto` on PATH")
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true needs real Quarto for the conformance suite ({reason})",
                    pytrace=False)
    pytestmark = pytest.mark.skip(reason=reason)


def _tree_digest(root: Path) -> dict[str, str]:
    """Hashes of the project's source files (what git would track). The
    skipped folders are never entered: a build's detached `rm -rf` may still
    be emptying .reprobook/trash-* (publish.discard) while this walks."""
    skip = {".reprobook", "_site", "figures", ".venv", "__pycache__"}
    out = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not (Path(folder) == root and d in skip) and d != "__pycache__"]
        for name in names:
            path = Path(folder) / name
            rel = path.relative_to(root)
            if name != "_variables.yml":
                out[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return dict(sorted(out.items()))


@pytest.fixture(scope="module", params=QUARTOS or ["none"], ids=lambda b: Path(b).parent.parent.name)
def quarto_build(request, built, tmp_path_factory):
    """The book built with one real Quarto, from a copy of the same project
    whose notebook cache is warm (the notebooks' results are the same)."""
    binary = request.param
    root = copy_project(tmp_path_factory.mktemp("quarto") / "project")
    builtin_project, _ = built
    shutil.copytree(builtin_project.work_dir / "cache", root / ".reprobook" / "cache")
    # The published editions are built from their snapshot's tree, which
    # holds its own notebook cache (editions.materialize): warm it too.
    if (builtin_project.work_dir / "snapshots").is_dir():
        shutil.copytree(builtin_project.work_dir / "snapshots", root / ".reprobook" / "snapshots")
    before = _tree_digest(root)
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(binary).parent}{os.pathsep}{old_path}"
    try:
        result = build(load_project(root), renderer="quarto")
    finally:
        os.environ["PATH"] = old_path
    return root, result, before


def _site(project_root: Path, edition: str) -> Path:
    return project_root / "_site" / edition


def _pages(site: Path) -> set[str]:
    return {p for p in sitecheck.html_pages(site)
            if not p.startswith(("site_libs/", "assets/")) and p not in RENDERER_ONLY}


def _soup(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")


def _text(el) -> str:
    return re.sub(r"\s+", " ", el.get_text(" ").replace("\xa0", " ")).strip()


def headings(site: Path, page: str) -> list[str]:
    """The page's chapter title and section headings, as readers see them
    (number and title), without Quarto's title-block duplicate of the book
    title on the index page."""
    soup = _soup(site, page)
    main = soup.find("main") or soup
    out = []
    for h in main.find_all(["h1", "h2", "h3"]):
        if h.find_parent(class_=["sidebar", "page-toc", "highlights-section", "contents"]) \
                or h.find_parent("nav") or h.find_parent("aside"):
            continue
        text = _text(h)
        if text and text not in {"Unearthing the Cost", "On this page", "Contents", "At a glance"}:
            out.append(text)
    return out


def xref_labels(site: Path, page: str) -> set[tuple[str, str]]:
    """Every cross-reference on the page: (printed label, target). A float's
    link carries its anchor; Quarto links a chapter to its page alone."""
    out = set()
    for a in _soup(site, page).select("a.xref[href], a.quarto-xref[href]"):
        text, href = _text(a), a["href"]
        chapter = "#" in href and href.split("#", 1)[1].startswith("sec-") and \
            (text.startswith("Chapter") or not text.startswith("Section"))
        out.add((text, href.split("#", 1)[0] if chapter else href))
    return out


def printed_facts(site: Path, page: str) -> collections.Counter:
    return collections.Counter((a["data-key"], _text(a), a.get("id", ""))
                               for a in _soup(site, page).select("a.fact[data-key]"))


# The one warning the packaged Quarto 1.10 prints on every Typst render: it
# ships without the typst-gather binary (../shared/tools/quarto/README.md).
PACKAGING_WARNINGS = ("typst-gather binary not found",)


def test_quarto_build_is_clean(quarto_build):
    root, result, before = quarto_build
    assert result.renderer == "quarto"
    warnings = [w for w in result.warnings if not any(p in w for p in PACKAGING_WARNINGS)]
    assert warnings == [], "Quarto warned:\n" + "\n".join(warnings)
    assert _tree_digest(root) == before, "the build changed source files"
    assert not (root / ".quarto").exists() and not (root / ".gitignore").exists() \
        or (root / ".gitignore").read_text() == (ROOT / ".gitignore").read_text()


@pytest.mark.parametrize("edition", EDITIONS)
def test_same_pages(quarto_build, built, edition):
    root, _, _ = quarto_build
    builtin_project, _ = built
    q, b = _site(root, edition), _site(builtin_project.root, edition)
    assert _pages(q) == _pages(b)
    for name in (f"unearthing-the-cost-{edition}.pdf", "facts.json", "claims.json",
                 "manifest.json", "data/unearthing-the-cost-data.zip"):
        assert (q / name).is_file() == (b / name).is_file(), name
    assert (q / f"unearthing-the-cost-{edition}.pdf").is_file()
    assert (q / "changes.html").is_file() == (edition != "1.0")


@pytest.mark.parametrize("edition", EDITIONS)
def test_same_headings_and_numbers(quarto_build, built, edition):
    root, _, _ = quarto_build
    builtin_project, _ = built
    q, b = _site(root, edition), _site(builtin_project.root, edition)
    for page in sorted(p for p in _pages(b) if p.startswith("chapters/") or p == "index.html"):
        assert headings(q, page) == headings(b, page), page
        assert xref_labels(q, page) == xref_labels(b, page), page


@pytest.mark.parametrize("edition", EDITIONS)
def test_same_facts_on_each_page(quarto_build, built, edition):
    """Every `{{< fact >}}` prints the same value, with the same ledger
    anchor, on the same page; and the value is the one in facts.json, or
    its words (`fmt=words`), which both renderers print alike."""
    import json

    from reprobook.facts import number_words

    root, _, _ = quarto_build
    builtin_project, _ = built
    q, b = _site(root, edition), _site(builtin_project.root, edition)
    facts = json.loads((q / "facts.json").read_text())
    total = words = 0
    for page in sorted(_pages(b)):
        got, want = printed_facts(q, page), printed_facts(b, page)
        assert got == want, page
        for key, text, _ in got:
            assert text in (facts[key]["text"], number_words(facts[key]["value"])), (page, key)
            words += text != facts[key]["text"]
        total += sum(got.values())
    assert total > 200 and words >= 4


@pytest.mark.parametrize("edition", EDITIONS)
def test_links_and_anchors_resolve(quarto_build, edition):
    root, _, _ = quarto_build
    site = root / "_site"  # the edition switcher links into the other edition
    broken = [problem for page in sorted(_pages(site / edition))
              for problem in sitecheck.broken_links(site, f"{edition}/{page}")]
    assert broken == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_engine_additions_reach_readers(quarto_build, edition):
    """Ledger, data page, figure provenance links, edition switcher and
    notice, landing highlights: the engine's additions, under Quarto."""
    root, _, _ = quarto_build
    site = _site(root, edition)
    index = _soup(site, "index.html")
    assert index.select(".highlights .highlight-value")
    switcher = index.select(".edition-switcher li a, .edition-switcher li strong")
    assert {_text(s) for s in switcher} == set(EDITIONS)
    assert bool(index.select(".edition-notice")) == (edition == "1.0")
    ledger = _soup(site, "claims.html")
    assert ledger.select("[id^=claim-]") and ledger.select("a[href^='checks.html#check-']")
    assert _soup(site, "checks.html").select("[id^=check-]")
    # an old link to a check on the ledger (claims.html#check-...) is sent on to checks.html
    # (a script file of the site's own: the Content-Security-Policy refuses inline script)
    redirect = [s for s in ledger.find_all("script") if s.get("src", "").endswith("claims-redirect.js")]
    assert redirect and redirect[0].get("data-notes") == "checks.html"
    assert (site / "assets/claims-redirect.js").is_file()
    maps = _soup(site, "chapters/mining-expansion.html")
    assert maps.select("figcaption a.figure-data") and maps.select("figcaption a.figure-notebook")
    for img in _soup(site, "chapters/exports.html").find_all("img"):
        assert "{{<" not in str(img) and img.get("alt")
    assert "{{<" not in (site / "chapters/exports.html").read_text()


@pytest.mark.parametrize("edition", EDITIONS)
def test_figures_open_full_size_and_landing_is_generated_under_quarto(quarto_build, built, edition):
    """Under Quarto too: each figure image is a link to its own file, with a
    'Full size' link in the caption; the landing page's title block and
    'What is here' list are the built-in renderer's (same chapters, same
    figure, map and table numbers)."""
    root, _, _ = quarto_build
    builtin_project, _ = built
    site = _site(root, edition)
    figures = 0
    for page in sorted(p for p in _pages(site) if p.startswith("chapters/")):
        for img in _soup(site, page).select("main figure img"):
            link = img.find_parent("a")
            assert link is not None and "figure-full" in link.get("class", []), (page, img["src"])
            assert link["href"] == img["src"] and (site / page).parent.joinpath(img["src"]).is_file()
            caption = img.find_parent("figure").select_one("figcaption a.figure-full-size")
            assert caption is not None and caption["href"] == img["src"], (page, img["src"])
            figures += 1
    assert figures >= 8

    def landing(site: Path):
        soup = _soup(site, "index.html")
        block = soup.select_one(".title-block")
        return (_text(block) if block else None,
                [_text(li) for li in soup.select("nav.contents .contents-list li")])

    q, b = landing(site), landing(_site(builtin_project.root, edition))
    assert q == b and q[0] and f"Edition {edition}" in q[0]


@pytest.mark.parametrize("edition", EDITIONS)
def test_chapter_descriptions_under_quarto(quarto_build, edition):
    """A chapter's front-matter `description:` is its line on the landing
    page under Quarto too (the landing block is compared with the built-in
    renderer's above), and Quarto's meta description of the chapter's page,
    without being printed again under the chapter's title."""
    root, _, _ = quarto_build
    site = _site(root, edition)
    index = _soup(site, "index.html")
    shown = {li.a["href"]: _text(li.select_one(".contents-description"))
             for li in index.select("nav.contents .contents-list li") if li.select_one(".contents-description")}
    assert len(shown) >= 15
    for page, description in shown.items():
        chapter = _soup(site, page)
        meta = chapter.find("meta", attrs={"name": "description"})
        assert meta is not None and meta["content"] == description, page
        assert not chapter.select("header .description"), page


def _at_phone_width(root: Path, edition: str, pages: list[str], measure) -> list[str]:
    """`measure(page, name)` -> problems, for each of `pages` of the Quarto
    site loaded in Chromium at 375 px."""
    from .browser.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SiteServer, new_context, require

    require(Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK), f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    server = SiteServer(root / "_site")

    def visit_all() -> list[str]:
        problems = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = new_context(browser, PHONE).new_page()
            for name in pages:
                page.goto(f"{server.url}{edition}/{name}", wait_until="load")
                problems += measure(page, name)
            browser.close()
        return problems

    # In a thread of its own: the browser suite's Playwright may already run
    # an event loop in this one, and the sync API refuses to nest.
    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(visit_all).result()
    finally:
        server.close()


@pytest.mark.parametrize("edition", EDITIONS)
def test_quarto_pages_fit_a_phone(quarto_build, edition):
    """Every page Quarto renders is no wider than a 375 px phone."""
    from .browser.browser import OVERFLOW_JS

    root, _, _ = quarto_build

    def overflow(page, name: str) -> list[str]:
        o = page.evaluate(OVERFLOW_JS)
        return [f"{name}: {o['scrollWidth']}px wide: {o['wide']}"] if o["scrollWidth"] > o["clientWidth"] else []

    problems = _at_phone_width(root, edition, sorted(_pages(_site(root, edition))), overflow)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("edition", EDITIONS)
def test_quarto_charts_are_legible_on_a_phone(quarto_build, edition):
    """Under Quarto too, each SVG chart in the 375 px column is its
    narrow-layout variant (through <picture>): its smallest text is at least
    PHONE_MIN_PX as rendered, no two texts overlap, none lies outside the
    chart; the image still links to the full-size chart."""
    from .browser.browser import CHART_TEXT_JS, chart_text_problems

    root, _, _ = quarto_build
    charts_seen = []

    def legible(page, name: str) -> list[str]:
        charts = [c for c in page.evaluate(CHART_TEXT_JS) if c["texts"]]
        charts_seen.extend(charts)
        problems = chart_text_problems(charts, name)
        for img in page.locator("main figure picture img").all():
            # Resolved URLs (Quarto's script rewrites relative hrefs as absolute ones).
            link, src = img.evaluate("i => [i.closest('a') && i.closest('a').href, i.src]")
            if link != src:
                problems.append(f"{name}: {src} links to {link}, not to itself")
        return problems

    chapters = sorted(p for p in _pages(_site(root, edition)) if p.startswith("chapters/"))
    problems = _at_phone_width(root, edition, chapters, legible)
    assert len(charts_seen) >= (5 if edition == "1.1" else 4), [c["src"] for c in charts_seen]
    assert not problems, "\n".join(problems)
    assert all(".narrow." in c["shownSrc"] for c in charts_seen), [c["shownSrc"] for c in charts_seen]


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_has_the_same_book(quarto_build, built, edition):
    """PDF text: the same chapter titles, float numbers and references in
    both renderers' PDFs; no raw shortcodes or unresolved references."""
    root, _, _ = quarto_build
    builtin_project, _ = built
    name = f"unearthing-the-cost-{edition}.pdf"

    def text(site: Path) -> str:
        return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(site / name).pages))

    q, b = text(_site(root, edition)), text(_site(builtin_project.root, edition))
    for pattern in (r"Map \d+\.\d+", r"Figure \d+\.\d+", r"Table \d+\.\d+"):
        assert set(re.findall(pattern, q)) == set(re.findall(pattern, b)), pattern
    for bad in ("{{<", "?sec-", "?fig-", "?map-", "?tbl-", "claims.html"):
        assert bad not in q, bad
    reader = PdfReader(_site(root, edition) / name)
    relative = [a["/A"]["/URI"] for page in reader.pages for a in
                (x.get_object() for x in page.get("/Annots", []) or [])
                if "/A" in a and "/URI" in a["/A"] and "://" not in str(a["/A"]["/URI"])
                and not str(a["/A"]["/URI"]).startswith("mailto:")]
    assert relative == [], "links a PDF reader cannot follow"
    fonts = {str(f.get("/BaseFont", "")) for page in reader.pages
             for f in (page.get("/Resources", {}).get("/Font", {}) or {}).values()
             for f in [f.get_object()]}
    assert any("NotoSansMyanmar" in f for f in fonts), fonts


def _pdf(root: Path, edition: str) -> Path:
    return _site(root, edition) / f"unearthing-the-cost-{edition}.pdf"


# The built-in PDF's page rules (tests/test_readers.py), on Quarto's PDF:
# its page is orange-book's, whose text area is pdfpages.ORANGE_BOOK; the
# rules come from the print.typ both renderers share.
@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_text_stays_in_the_text_area(quarto_build, edition):
    """No table runs over the page's foot, no heading number hangs in the
    margin: outside the text area only the running header and the page
    number."""
    root, _, _ = quarto_build
    assert pdfpages.text_outside_the_text_area(_pdf(root, edition), pdfpages.ORANGE_BOOK) == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_has_no_page_with_only_a_heading(quarto_build, edition):
    """"8.7 Where the places come from" stood alone on a page while its
    table, a figure Typst would not break, moved whole to the next."""
    root, _, _ = quarto_build
    assert pdfpages.pages_with_only_a_heading(_pdf(root, edition), pdfpages.ORANGE_BOOK) == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_leaves_out_web_only_content_and_relative_links(quarto_build, edition):
    root, _, _ = quarto_build
    assert pdfpages.web_only_text_and_relative_links(_pdf(root, edition)) == []
    html = (_site(root, edition) / "chapters/maps.html").read_text(encoding="utf-8")
    assert "An interactive map" in html and 'id="interactive-map"' in html


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_lists_figures_maps_and_tables_and_has_running_headers(quarto_build, edition):
    root, _, _ = quarto_build
    assert pdfpages.missing_lists_and_running_header(
        _pdf(root, edition), pdfpages.ORANGE_BOOK, "The maps: sources and limits") == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_cover_names_the_original_and_this_edition(quarto_build, edition):
    root, _, _ = quarto_build
    texts = pdfpages.cover_texts(load_project(root), edition)
    assert pdfpages.cover_problems(_pdf(root, edition), **texts) == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_pdf_charts_embed_truetype_not_type3(quarto_build, edition):
    root, _, _ = quarto_build
    found = pdfpages.fonts(_pdf(root, edition))
    assert any("DejaVuSans" in name for name, _ in found), found  # the charts' text is there
    assert [f for f in found if f[1] == "/Type3"] == []


@pytest.mark.parametrize("edition", EDITIONS)
def test_same_reference_list(quarto_build, built, edition):
    """`nocite: '@*'` in _quarto.yml: every entry of the edition's reference
    files is listed, in both renderers (a chapter's own nocite is ignored by
    Quarto): references.json for 1.0, plus the profile's references-1.1.json
    for 1.1 (the profile's list is appended to the base list)."""
    import json

    root, _, _ = quarto_build
    builtin_project, _ = built
    files = ["references.json"] + (["references-1.1.json"] if edition == "1.1" else [])
    ids = {e["id"] for name in files for e in json.loads((ROOT / name).read_text())}
    for site in (_site(root, edition), _site(builtin_project.root, edition)):
        listed = {e["id"].removeprefix("ref-")
                  for e in _soup(site, "chapters/references.html").select(".csl-entry")}
        assert listed == ids, site


def test_quarto_error_stops_the_build_and_keeps_the_site(tmp_path):
    """A render that real Quarto refuses (here Typst cannot compile a raw
    block) stops the build with Quarto's message; the published site stays."""
    from reprobook.errors import BuildError

    from .conftest import make_mini_project

    root = make_mini_project(tmp_path / "mini")
    shutil.copytree(ROOT / "_extensions", root / "_extensions")
    config = root / "_quarto.yml"
    config.write_text(config.read_text() + "filters:\n  - reprobook\n")
    project = load_project(root)
    build(project, renderer="builtin")
    published = (project.site_dir / "index.html").read_bytes()
    (root / "chapters/two.qmd").write_text("# Two\n\n```{=typst}\n#no-such-function()\n```\n")
    old_path = os.environ["PATH"]
    os.environ["PATH"] = f"{Path(QUARTOS[0]).parent}{os.pathsep}{old_path}"
    try:
        with pytest.raises(BuildError, match="quarto render failed(.|\n)*no-such-function"):
            build(load_project(root), renderer="quarto")
    finally:
        os.environ["PATH"] = old_path
    assert (project.site_dir / "index.html").read_bytes() == published
