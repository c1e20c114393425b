"""Driving a real browser over the built site: Playwright's Python package
with Debian's Chromium (never a browser downloaded by `playwright install`)
and axe-core from the npm registry, both installed by `./run test`.

The checkers at the bottom take what a visit recorded and return problems as
strings, so the page tests and the regression tests share them."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
AXE_JS = Path(os.environ.get("AXE_CORE_JS",
                             ROOT / ".venv/node/node_modules/axe-core/axe.min.js"))
HOST = "127.0.0.1"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
ARTIFACTS = ROOT / "test-artifacts"


def require(condition: bool, reason: str) -> None:
    """Missing browser tooling: a failure under CI=true, a skip elsewhere."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run; `./run test` installs it)")
    pytest.skip(reason)


# ------------------------------------------------------------------ server
class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class SiteServer:
    """A folder served on 127.0.0.1 from a thread, on a free port."""

    def __init__(self, folder: Path):
        handler = functools.partial(QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer((HOST, 0), handler)
        self.url = f"http://{HOST}:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------ visits
@dataclass
class Visit:
    page: str
    width: int
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # status >= 400 or network failure
    images: list[dict] = field(default_factory=list)
    overflow: dict | None = None
    axe: list[dict] = field(default_factory=list)


IMAGES_JS = """async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => { i.loading = 'eager'; return i.decode().catch(() => null); }));
  return imgs.map(i => { const r = i.getBoundingClientRect();
    return {src: i.getAttribute('src'), naturalWidth: i.naturalWidth, complete: i.complete,
            width: r.width, height: r.height,
            inFigure: !!i.closest('figure')}; });
}"""

OVERFLOW_JS = """() => {
  const doc = document.documentElement, width = doc.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1 && getComputedStyle(el).position !== 'absolute') {
      let scroller = el.parentElement, clipped = false;
      while (scroller && scroller !== document.body) {
        const o = getComputedStyle(scroller).overflowX;
        if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; }
        scroller = scroller.parentElement;
      }
      if (!clipped) wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                              (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '') +
                              ' right=' + Math.round(r.right));
    }
  }
  const main = document.querySelector('main');
  return {scrollWidth: doc.scrollWidth, clientWidth: width, wide: wide.slice(0, 5),
          mainWidth: main ? main.getBoundingClientRect().width : width};
}"""

# Chart text as a reader sees it: each SVG chart (shown with <img>, whose
# document scripts cannot reach) is loaded again inline, at the width the
# <img> has on the page, from the file the browser chose to show
# (currentSrc: a <picture>'s narrow-layout variant on a phone), and at the
# full size of the file its full-size link opens; the font size of every
# <text> is measured through its transform to the screen. For the chart as
# shown, pairs of texts whose boxes overlap (by more than OVERLAP_PX in both
# directions) and texts outside the chart's box are listed.
OVERLAP_PX = 1.5
CHART_TEXT_JS = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('main figure img')) {
    if (!/\\.svg$/i.test(img.getAttribute('src'))) continue;
    img.loading = 'eager';  // a lazy image below the fold has no width yet
    await img.decode().catch(() => null);
    const load = async url => {
      const text = await (await fetch(url)).text();
      return new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
    };
    const measure = async (svg, width) => {
      const box = document.createElement('div');
      box.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden;width:' + width + 'px';
      const copy = document.importNode(svg, true);
      copy.style.width = '100%'; copy.style.height = 'auto'; copy.style.display = 'block';
      box.appendChild(copy); document.body.appendChild(box);
      const texts = [...copy.querySelectorAll('text')].filter(t => t.textContent.trim());
      const sizes = texts.map(t => {
        const m = t.getScreenCTM();
        return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      });
      const frame = copy.getBoundingClientRect();
      const rects = texts.map(t => t.getBoundingClientRect());
      const overlaps = [], outside = [];
      rects.forEach((a, i) => {
        if (a.left < frame.left - 1 || a.right > frame.right + 1 || a.top < frame.top - 1
            || a.bottom > frame.bottom + 1) outside.push(texts[i].textContent.trim());
        rects.slice(i + 1).forEach((b, j) => {
          const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
          const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
          if (x > OVERLAP_PX && y > OVERLAP_PX)
            overlaps.push([texts[i].textContent.trim(), texts[i + 1 + j].textContent.trim()]);
        });
      });
      box.remove();
      return {sizes, overlaps, outside};
    };
    const shownUrl = img.currentSrc || img.src;
    const shownSvg = await load(shownUrl), fullSvg = await load(img.src);
    const natural = fullSvg.width.baseVal.value;
    const shown = await measure(shownSvg, img.getBoundingClientRect().width);
    const full = await measure(fullSvg, natural);
    out.push({src: img.getAttribute('src'), shownSrc: shownUrl.split('/').pop(),
              shownWidth: img.getBoundingClientRect().width, fullWidth: natural,
              texts: shown.sizes.length, shown: shown.sizes, full: full.sizes,
              overlaps: shown.overlaps, outside: shown.outside});
  }
  return out;
}""".replace("OVERLAP_PX", str(OVERLAP_PX))

# The smallest chart text, in CSS px, in the 375 px column of a phone. The
# body text there is 16-17 px; 11 px is the smallest size Apple's and
# Google's guidelines for phone interfaces use for secondary text (iOS
# "Caption 2", Material "label small"). Before the narrow layouts the
# charts' smallest text was 3.8-5.3 px at this width.
PHONE_MIN_PX = 11.0
# The smallest chart text when a chart is opened full size: the size of
# small print (a footnote) on a phone. Below it the tap to enlarge would
# not make the chart readable.
FULL_SIZE_MIN_PX = 9.0


def chart_text_report(charts: list[dict], page: str) -> dict[str, dict]:
    """What CHART_TEXT_JS measured, per chart file (the file shown at the
    page's width and the full-size file), as recorded in test-artifacts."""
    report = {}
    for chart in charts:
        if not chart["texts"]:
            continue
        shown, full = sorted(chart["shown"]), sorted(chart["full"])
        report[chart["src"].rsplit("/", 1)[-1]] = {
            "page": page, "shown_file": chart["shownSrc"], "texts": chart["texts"],
            "width_shown_px": round(chart["shownWidth"]), "width_full_px": round(chart["fullWidth"]),
            "shown_px": {"min": round(shown[0], 1), "median": round(shown[len(shown) // 2], 1),
                         "max": round(shown[-1], 1)},
            "full_px": {"min": round(full[0], 1), "median": round(full[len(full) // 2], 1),
                        "max": round(full[-1], 1)},
            "overlaps": chart["overlaps"], "outside": chart["outside"]}
    return report


def chart_text_problems(charts: list[dict], page: str, min_px: float = PHONE_MIN_PX) -> list[str]:
    """Charts as shown at a phone's width: text under `min_px`, texts that
    overlap, texts outside the chart."""
    problems = []
    for chart in charts:
        if not chart["texts"]:
            continue
        where = f"{page}: {chart['src']} (showing {chart['shownSrc']})"
        smallest = min(chart["shown"])
        if smallest < min_px:
            problems.append(f"{where}: smallest text {smallest:.1f}px at "
                            f"{chart['shownWidth']:.0f}px wide (want >= {min_px}px)")
        if chart["overlaps"]:
            problems.append(f"{where}: texts overlap: {chart['overlaps'][:5]}")
        if chart["outside"]:
            problems.append(f"{where}: texts outside the chart: {chart['outside'][:5]}")
    return problems


AXE_RUN_JS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations'],
                                     runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


def new_context(browser, viewport: dict):
    context = browser.new_context(viewport=viewport, accept_downloads=True,
                                  service_workers="block")
    blocked: list[str] = []

    def route(route):
        host = urlsplit(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:", "about:")) or host == HOST:
            route.continue_()
        else:  # never let a request leave the machine; it is recorded as a visit's request
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    context.blocked = blocked
    return context


def visit(context, base: str, page_path: str, *, axe: bool = False, images: bool = True,
          overflow: bool = False) -> Visit:
    """Load one page and record what happened."""
    result = Visit(page_path, context.pages[0].viewport_size["width"] if context.pages else 0)
    page = context.new_page()
    result.width = page.viewport_size["width"]
    page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: result.page_errors.append(str(e)))
    page.on("request", lambda r: result.requests.append(r.url))
    page.on("requestfailed", lambda r: result.failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: result.failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400 else None)
    page.goto(base + page_path, wait_until="load")
    if images:
        result.images = page.evaluate(IMAGES_JS)
    if overflow:
        result.overflow = page.evaluate(OVERFLOW_JS)
    if axe:
        # evaluated through the DevTools protocol: an inline <script> tag
        # would be refused by the pages' Content-Security-Policy
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
        result.axe = page.evaluate(AXE_RUN_JS)
    page.close()
    return result


# ---------------------------------------------------------------- checkers
def off_host_requests(v: Visit) -> list[str]:
    return [f"{v.page}: request to another host: {url}" for url in v.requests
            if not url.startswith(("data:", "blob:", "about:")) and urlsplit(url).hostname != HOST]


def errors(v: Visit) -> list[str]:
    return ([f"{v.page}: console error: {e}" for e in v.console_errors]
            + [f"{v.page}: script error: {e}" for e in v.page_errors]
            + [f"{v.page}: failed request: {f}" for f in v.failed])


def image_display_problems(v: Visit) -> list[str]:
    return [f"{v.page}: image {i['src']} not shown (naturalWidth {i['naturalWidth']}, "
            f"{i['width']:.0f}x{i['height']:.0f} px)"
            for i in v.images if i["naturalWidth"] == 0 or (i["inFigure"] and (i["width"] == 0 or i["height"] == 0))]


def overflow_problems(v: Visit) -> list[str]:
    o = v.overflow
    if o and o["scrollWidth"] > o["clientWidth"]:
        return [f"{v.page}: at {v.width}px the page is {o['scrollWidth']}px wide: {o['wide']}"]
    if o and o["clientWidth"] <= 480 and o["mainWidth"] < 0.8 * o["clientWidth"]:
        return [f"{v.page}: at {v.width}px the text column is only {o['mainWidth']:.0f}px wide"]
    return []


def axe_problems(v: Visit, impacts=("serious", "critical")) -> list[str]:
    return [f"{v.page}: axe {a['impact']} {a['id']}: {a['help']} at {a['nodes']}"
            for a in v.axe if a["impact"] in impacts]
