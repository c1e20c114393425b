"""The website as readers and reviewers use it, checked page by page in a
real browser (Chromium) served from 127.0.0.1."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urljoin

import pytest

from reprobook import sitecheck

from .browser import (ARTIFACTS, DESKTOP, PHONE, axe_problems, errors, image_display_problems,
                      off_host_requests, overflow_problems)

BUDGET = 300 * 1024  # bytes per page, as in BENCHMARKS.md and scripts/page_weight.py


def _report(problems: list[str]) -> str:
    return "\n".join(problems[:40]) + (f"\n... and {len(problems) - 40} more" if len(problems) > 40 else "")


# ------------------------------------------------------------- every page
def test_pages_load_without_errors(desktop_visits):
    problems = [p for v in desktop_visits for p in errors(v)]
    assert not problems, _report(problems)


def test_every_request_stays_on_127_0_0_1(desktop_visits, phone_visits):
    problems = [p for v in desktop_visits + phone_visits for p in off_host_requests(v)]
    assert not problems, _report(problems)
    requested = sorted({u for v in desktop_visits for u in v.requests})
    assert requested and all(u.startswith("http://127.0.0.1:") for u in requested)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "requests.json").write_text(json.dumps(
        {v.page: v.requests for v in desktop_visits}, indent=1))


def test_every_internal_link_and_anchor_resolves(site_root):
    problems = [p for page in sitecheck.html_pages(site_root)
                for p in sitecheck.broken_links(site_root, page)]
    assert not problems, _report(problems)


def test_nothing_is_loaded_from_another_host_in_the_html(site_root):
    problems = [p for page in sitecheck.html_pages(site_root)
                for p in sitecheck.external_requests(site_root, page)]
    assert not problems, _report(problems)


def test_figures_are_visible_and_decoded(desktop_visits):
    problems = [p for v in desktop_visits for p in image_display_problems(v)]
    assert not problems, _report(problems)
    assert sum(1 for v in desktop_visits for i in v.images if i["inFigure"]) >= 1


def test_alt_text_headings_lang_and_skip_link(site_root):
    problems = [p for page in sitecheck.html_pages(site_root)
                for checker in (sitecheck.image_problems, sitecheck.structure_problems)
                for p in checker(site_root, page)]
    assert not problems, _report(problems)


def test_axe_finds_no_serious_or_critical_violations(desktop_visits):
    problems = [p for v in desktop_visits for p in axe_problems(v)]
    assert not problems, _report(problems)


def test_nothing_overflows_at_phone_or_desktop_width(phone_visits, desktop_visits):
    problems = [p for v in phone_visits + desktop_visits for p in overflow_problems(v)]
    assert not problems, _report(problems)


def test_every_page_is_under_the_weight_budget(site_root, pages):
    weights = [sitecheck.page_weight(site_root, p) for p in pages]
    over = [f"{w.page}: {w.total:,} bytes ({w.files})" for w in weights if w.total > BUDGET]
    assert not over, _report(over)


# --------------------------------------------------------------- readers
def test_landing_page_shows_key_numbers_linking_to_chapters(desktop, server, edition_prefix, built):
    _, result = built
    facts = json.loads((result.output_dir / "facts.json").read_text())
    ledger = json.loads((result.output_dir / "claims.json").read_text())
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "index.html")
    cards = page.locator(".highlight")
    assert cards.count() >= 3
    for n in range(cards.count()):
        card = cards.nth(n)
        value = card.locator(".highlight-value")
        assert value.is_visible() and value.inner_text().strip()
        assert float(value.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 28
        assert card.locator(".highlight-label").inner_text().strip()
        href = card.locator("a.highlight-link").get_attribute("href")
        assert href.startswith("chapters/"), href
        trace = card.locator("a.highlight-trace").get_attribute("href")
        key = trace.split("#claim-")[1]
        assert facts[key]["text"] == value.inner_text().strip()
        printed_at = ledger[key]["printed_at"]  # the ledger knows the landing page prints it
        assert any(u["page"] == "index.html" and u["anchor"] == f"highlight-{key}"
                   for u in printed_at), printed_at
    # then the table of contents, after the numbers
    toc = page.locator("nav.contents li a")
    assert toc.count() >= 5
    assert page.evaluate("""() => { const h = document.querySelector('.highlights'),
        c = document.querySelector('nav.contents');
        return !!(h.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING); }""")
    first = cards.nth(0).locator("a.highlight-link")
    target = first.get_attribute("href")
    first.click()
    page.wait_for_load_state()
    assert page.url.endswith(target)
    page.close()


def test_sidebar_prev_next_and_pdf_link_on_every_page(site_root, pages):
    for p in pages:
        doc = sitecheck.soup(site_root, p)
        assert doc.select("nav.sidebar a"), p
        assert doc.select("a.pdf-link[href$='.pdf']"), p
        if p.endswith(("chapters/introduction.html",)):
            assert doc.select("a[rel=prev]") and doc.select("a[rel=next]"), p


def test_search_finds_a_key_term_from_a_chapter(desktop, server, edition_prefix, site_root):
    index = json.loads((site_root / edition_prefix / "search.json").read_text())
    assert {"page", "title", "section", "text"} <= set(index[0])
    record = next(r for r in index if r["page"].startswith("chapters/") and len(r["text"]) > 200)
    term = max(re.findall(r"[A-Za-z]{6,}", record["text"]), key=len)
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "index.html")
    page.fill("#search-q", term)
    page.press("#search-q", "Enter")
    page.wait_for_selector("#search-results li a")
    hrefs = page.locator("#search-results li a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert any(h.split("#")[0] == record["page"] for h in hrefs), (term, hrefs)
    assert term.lower() in page.locator("#search-results").inner_text().lower()
    page.close()


def test_search_marks_the_words_and_snippets_read_as_the_page(phone, server, edition_prefix, site_root):
    """Each result marks the query's words (<mark>, case and accents folded);
    a snippet's text is the page's text, with no space added around printed
    numbers or links ("2021, the year", "(Figure 5.1)")."""
    index = json.loads((site_root / edition_prefix / "search.json").read_text())
    texts = " ".join(r["text"] for r in index)
    assert not re.search(r"\( | \)|\w ,|\w \.(\s|$)", texts), \
        re.findall(r".{20}(?:\( | \)|\w ,).{20}", texts)[:5]
    page = phone.new_page()
    page.goto(server.url + edition_prefix + "search.html?q=" + "Coup%202021")
    page.wait_for_selector("#search-results li")
    marks = page.locator("#search-results mark").all_inner_texts()
    assert marks and {m.lower() for m in marks} == {"coup", "2021"}, set(marks)
    results = page.locator("#search-results li").count()
    with_marks = page.evaluate("[...document.querySelectorAll('#search-results li')]"
                               ".filter(li => li.querySelector('p mark')).length")
    assert with_marks == results
    page.close()


def test_pdf_link_downloads_a_valid_pdf(desktop, server, edition_prefix):
    from pypdf import PdfReader

    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "chapters/introduction.html")
    with page.expect_download(timeout=90_000) as info:
        page.click("a.pdf-link")
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    assert len(PdfReader(io.BytesIO(data)).pages) > 5
    page.close()


def test_keyboard_reaches_skip_link_and_navigation(desktop, server, edition_prefix):
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "chapters/introduction.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert page.locator(".skip-link").bounding_box()["x"] >= 0, "the skip link shows when focused"
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")
    page.goto(server.url + edition_prefix + "chapters/introduction.html")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("""() => { const a = document.activeElement;
            return a.closest('nav.sidebar') ? 'sidebar' : a.closest('.search-form') ? 'search'
                 : a.closest('.page-nav') ? 'page-nav' : a.classList.contains('pdf-link') ? 'pdf' : ''; }"""))
        if {"sidebar", "search", "pdf"} <= reached:
            break
    assert {"sidebar", "search", "pdf"} <= reached, reached
    page.close()


def test_phone_sidebar_collapses_and_opens_from_the_keyboard(phone, server, edition_prefix):
    page = phone.new_page()
    page.goto(server.url + edition_prefix + "chapters/introduction.html")
    toggle = page.locator(".menu-toggle")
    assert toggle.is_visible()
    assert not page.locator("nav.sidebar").is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator("nav.sidebar a").first.is_visible()
    page.close()


def test_ledger_rows_are_cards_on_a_phone(phone, desktop, server, edition_prefix):
    """At 375 px each ledger entry (and each reviewer note) is a card: its
    cells stacked at full width under their column's name, nothing
    scrolling sideways; on a desktop the ledger stays a table."""
    url = server.url + edition_prefix + "claims.html"
    page = phone.new_page()
    page.goto(url)
    row = page.locator("table.ledger tbody tr").first
    cells = row.locator("td")
    boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
    row_box = row.bounding_box()
    assert len(boxes) == 5
    assert all(b["width"] >= row_box["width"] * 0.8 for b in boxes)  # stacked, full width
    assert [b["y"] for b in boxes] == sorted(b["y"] for b in boxes)
    labels = page.evaluate("""() => [...document.querySelectorAll('table.ledger tbody tr:first-child td')]
        .map(td => getComputedStyle(td, '::before').content)""")
    assert labels == ['"Printed"', '"What it is"', '"Where printed"', '"Computed from"', '"Status"']
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.goto(server.url + edition_prefix + "checks.html")  # the reviewer notes: cards too
    assert page.locator("table.checks tbody tr").first.locator("td").first.bounding_box()["width"] > 250
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.close()
    page = desktop.new_page()
    page.goto(url)
    cells = page.locator("table.ledger tbody tr").first.locator("td")
    ys = {round(cells.nth(i).bounding_box()["y"]) for i in range(cells.count())}
    assert len(ys) == 1  # one row, side by side
    page.close()


def test_print_stylesheet_hides_navigation(desktop, server, edition_prefix):
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "chapters/introduction.html")
    page.emulate_media(media="print")
    assert not page.locator("nav.sidebar").is_visible()
    assert not page.locator(".search-form").is_visible()
    assert page.locator("main h1").is_visible()
    page.close()


# -------------------------------------------------------------- reviewers
def test_every_figure_links_to_its_notebook_and_ledger(desktop, server, edition_prefix, site_root, pages):
    figures = 0
    for p in pages:
        doc = sitecheck.soup(site_root, p)
        for fig in doc.select("main figure"):
            if not fig.select("img"):
                continue
            if "nb-figure" in fig.get("class", []):
                # a book figure shown again on its notebook page, after the
                # cell that saved it: it links back to its place in the book
                assert fig.select_one("figcaption a[href*='chapters/']"), (p, fig)
                continue
            figures += 1
            notebook = fig.select_one("a.figure-notebook")
            claims = fig.select("a.figure-claims")
            assert notebook is not None and claims, (p, fig.get("id"))
            assert "claims.html#claim-" in claims[0]["href"]
    assert figures >= 1
    # a notebook page: executed code with its outputs, no other host
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "chapters/mining-expansion.html")
    link = page.locator("figure a.figure-notebook").first
    href = link.get_attribute("href")
    link.click()
    page.wait_for_load_state()
    assert "/notebooks/" in page.url
    if "#cell-" in href:
        anchor = href.split("#")[1]
        assert page.locator(f"#{anchor} pre.nb-input").count() == 1
    assert page.locator("pre.nb-input").count() >= 3
    assert page.locator(".nb-output").count() >= 1
    page.close()


def test_data_page_lists_and_serves_every_raw_file(desktop, server, edition_prefix, built):
    import hashlib
    import zipfile

    project, result = built
    package = json.loads((project.root / project.datapackage).read_text())
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "data.html")
    for resource in package["resources"]:
        section = page.locator(f"#resource-{resource['name']}")
        assert section.count() == 1, resource["name"]
        text = section.inner_text()
        assert resource["hash"].removeprefix("sha256:") in text
        # Fetched through the page's own request context (same origin, same
        # cookies); one real click-download below covers the browser's path.
        href = section.locator("a[download]").get_attribute("href")
        response = page.request.get(urljoin(page.url, href))
        assert response.ok, href
        assert "sha256:" + hashlib.sha256(response.body()).hexdigest() == resource["hash"]
    with page.expect_download(timeout=90_000) as info:
        page.click(".data-archive a[download]")
    with zipfile.ZipFile(info.value.path()) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert len(names) == len(package["resources"]) + 1
    page.close()


# ------------------------------------------------------------ screenshots
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_screenshots(browser, server, edition_prefix, viewport):
    from .browser import IMAGES_JS, new_context

    ARTIFACTS.mkdir(exist_ok=True)
    context = new_context(browser, viewport)
    page = context.new_page()
    for name, path in (("landing", "index.html"), ("chapter", "chapters/mining-expansion.html")):
        page.goto(server.url + edition_prefix + path)
        page.evaluate(IMAGES_JS)  # lazy images: load them before the picture is taken
        page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport['width']}.png"), full_page=True)
    context.close()


def test_an_old_link_to_a_check_in_the_ledger_reaches_its_reviewer_note(desktop, server, edition_prefix, site_root):
    """Reviewer notes were once on claims.html (claims.html#check-<name>);
    such a link still lands on the note, now on checks.html."""
    checks = sitecheck.soup(site_root, edition_prefix + "checks.html")
    anchor = checks.find("tr", id=lambda v: v and v.startswith("check-"))["id"]
    page = desktop.new_page()
    page.goto(server.url + edition_prefix + "claims.html#" + anchor)
    page.wait_for_url("**/checks.html#" + anchor)
    assert page.locator(f'[id="{anchor}"]').is_visible()  # keys hold dots: not a #selector
    page.goto(server.url + edition_prefix + "claims.html#claim-" + "x")  # any other anchor stays
    assert page.url.endswith("claims.html#claim-x")
    page.close()
