"""Reading on a phone (375 px): nothing wider than the screen on the pages
people read there, every chart and map opens full size with a tap, wide
tables keep their caption in view, and the size of chart text as rendered
is measured (and recorded in test-artifacts/chart-text-375.json)."""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

import pytest

from .browser import (ARTIFACTS, CHART_TEXT_JS, FULL_SIZE_MIN_PX, OVERFLOW_JS, PHONE,
                      chart_text_problems, chart_text_report)


def _chapters(pages: list[str], prefix: str) -> list[str]:
    return [p for p in pages if p.startswith(prefix + "chapters/") or p == prefix + "index.html"]


@pytest.fixture
def phone_page(phone):
    page = phone.new_page()
    yield page
    page.close()


def test_pages_read_on_phones_fit_the_screen(phone_page, server, pages, edition_prefix):
    """Chapters, the ledger, the changes page and search with results:
    the page is no wider than the 375 px screen."""
    targets = _chapters(pages, edition_prefix) + [
        edition_prefix + p for p in ("claims.html", "checks.html", "changes.html", "search.html?q=coup 2021")
        if p.split("?")[0] in {x.removeprefix(edition_prefix) for x in pages}]
    assert any("claims.html" in t for t in targets) and any("search.html" in t for t in targets)
    problems = []
    for target in targets:
        phone_page.goto(server.url + target, wait_until="load")
        if "search.html" in target:  # the results are there, not just the form
            assert phone_page.locator("#search-results li").count() > 0
        o = phone_page.evaluate(OVERFLOW_JS)
        assert o["clientWidth"] == PHONE["width"]
        if o["scrollWidth"] > o["clientWidth"]:
            problems.append(f"{target}: {o['scrollWidth']}px wide: {o['wide']}")
    assert not problems, "\n".join(problems)


FIGURES_JS = """async () => Promise.all([...document.querySelectorAll('main figure img')].map(async img => {
  img.loading = 'eager';
  await img.decode().catch(() => null);
  const a = img.closest('a');
  const caption = img.closest('figure').querySelector('figcaption a.figure-full-size');
  const out = {src: img.getAttribute('src'), shown: img.getBoundingClientRect().width,
               href: a ? a.href : null, inFigure: !!(a && a.closest('figure')),
               captionLink: caption ? caption.href : null};
  if (a) {
    const r = await fetch(a.href);
    out.status = r.status; out.type = r.headers.get('content-type');
    const full = new Image(); full.src = a.href;
    await full.decode().catch(() => null);
    out.fullWidth = full.naturalWidth;
  }
  return out;
}))"""


def test_every_figure_opens_full_size_with_a_tap(phone_page, server, pages, edition_prefix):
    """Each chart and map image is wrapped in a plain link to an image file
    of the site, shown larger when opened than in the 375 px column; the
    caption says so with a 'Full size' link to the same file."""
    seen = 0
    problems = []
    for target in _chapters(pages, edition_prefix):
        phone_page.goto(server.url + target, wait_until="load")
        for f in phone_page.evaluate(FIGURES_JS):
            seen += 1
            where = f"{target}: {f['src']}"
            if not f["href"] or not f["inFigure"]:
                problems.append(f"{where}: the image is not inside a link in its figure")
                continue
            if urlsplit(f["href"]).hostname != "127.0.0.1" or f["status"] != 200 \
                    or not (f["type"] or "").startswith("image/"):
                problems.append(f"{where}: link {f['href']} is not an image of the site "
                                f"({f['status']}, {f['type']})")
            elif urljoin(server.url + target, f["src"]) != f["href"]:
                problems.append(f"{where}: links to {f['href']}, not the image shown")
            elif f["captionLink"] != f["href"]:
                problems.append(f"{where}: the caption's 'Full size' link is {f['captionLink']}")
            elif not 200 < f["shown"] < f["fullWidth"]:
                problems.append(f"{where}: full size {f['fullWidth']}px is no larger than "
                                f"the {f['shown']:.0f}px shown")
    assert seen >= 8, f"only {seen} figures found on the chapter pages"
    assert not problems, "\n".join(problems)


def test_chart_text_size_at_phone_width(phone_page, server, pages, edition_prefix):
    """Records the rendered size of every chart's text at 375 px and when the
    chart is opened full size (test-artifacts/chart-text-375.json). As shown
    in the 375 px column (the narrow-layout variant a <picture> offers
    phones) the smallest text is at least PHONE_MIN_PX, no two texts
    overlap and none lies outside the chart; opened full size, the
    smallest text is at least FULL_SIZE_MIN_PX."""
    report = {}
    problems = []
    for target in _chapters(pages, edition_prefix):
        phone_page.goto(server.url + target, wait_until="load")
        charts = phone_page.evaluate(CHART_TEXT_JS)
        report.update(chart_text_report(charts, target))
        problems += chart_text_problems(charts, target)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chart-text-375.json").write_text(json.dumps(report, indent=1, sort_keys=True))
    assert len(report) >= 3, f"SVG charts with text found: {sorted(report)}"
    assert all(r["width_shown_px"] > 200 for r in report.values()), report
    small = {name: r["full_px"]["min"] for name, r in report.items()
             if r["full_px"]["min"] < FULL_SIZE_MIN_PX}
    assert not small, f"chart text under {FULL_SIZE_MIN_PX}px even at full size: {small}"
    assert not problems, "\n".join(problems)


CAPTIONS_JS = """() => [...document.querySelectorAll('main table')].filter(t => t.querySelector('caption'))
  .map(t => {
    const c = t.querySelector('caption');
    const scroller = t.scrollWidth > t.clientWidth ? t : t.parentElement;
    const wide = scroller.scrollWidth > scroller.clientWidth + 1;
    scroller.scrollLeft = scroller.scrollWidth;
    const r = c.getBoundingClientRect();
    return {id: t.id, wide, scrolled: scroller.scrollLeft, left: r.left, right: r.right,
            width: document.documentElement.clientWidth};
  })"""


def test_wide_tables_keep_their_caption_in_view(phone_page, server, pages, edition_prefix):
    """A table wider than the phone scrolls sideways inside itself; scrolled
    to its far end, its caption is still on screen."""
    wide = 0
    problems = []
    for target in _chapters(pages, edition_prefix):
        phone_page.goto(server.url + target, wait_until="load")
        for t in phone_page.evaluate(CAPTIONS_JS):
            if not t["wide"]:
                continue
            wide += 1
            assert t["scrolled"] > 0, t
            if t["left"] < 0 or t["right"] > t["width"]:
                problems.append(f"{target}#{t['id']}: scrolled {t['scrolled']}px, its caption "
                                f"is at {t['left']:.0f}..{t['right']:.0f}px of {t['width']}px")
    assert wide >= 3, f"only {wide} tables wider than the phone"
    assert not problems, "\n".join(problems)
