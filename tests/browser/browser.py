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
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
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
