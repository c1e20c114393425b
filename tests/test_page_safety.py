"""Issue 23, serious item 1: what a notebook puts on its page cannot run.
A mini book whose notebook carries the red team's payloads (comment and
CDATA tricks, a `\\x01javascript:` link, SVG outputs with script) is built
once per renderer; its pages are checked as HTML and loaded in Chromium,
where every link is clicked and every SVG file opened on its own. The
Content-Security-Policy is checked by itself too: a page with an event
handler planted after the build runs nothing."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from reprobook.build import build
from reprobook.project import load_project

from .conftest import ROOT, make_mini_project, quarto_binaries

MARK = "pwned"  # every payload calls alert('pwned-<n>')
SVG_SCRIPT = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" onload="alert(\'pwned-1\')">'
              '<script>alert("pwned-2")</script><rect width="40" height="20" fill="teal"/>'
              '<a href="javascript:alert(\'pwned-3\')"><text y="15">x</text></a>'
              '<foreignObject><body xmlns="http://www.w3.org/1999/xhtml">'
              '<img src="x" onerror="alert(\'pwned-4\')"/></body></foreignObject></svg>')
MARKDOWN = "\n\n".join([
    "# Payloads",
    "<!-- --!><img src=x onerror=alert('pwned-5')> -->",
    "<!--><img src=x onerror=alert('pwned-6')>-->",
    "<![CDATA[><img src=x onerror=alert('pwned-7')>]]>",
    "<svg><![CDATA[><img src=x onerror=alert('pwned-8')>]]></svg>",
    "<math><mi><mglyph><style><!--</style><img src=x onerror=alert('pwned-9')>",
    "<a href=\"&#1;javascript:alert('pwned-10')\">entity link</a>",
    "<a href=\"java\tscript:alert('pwned-11')\">tab link</a>",
    "[md link](javascript:alert('pwned-12'))",
    "![inline svg](data:image/svg+xml;base64,"
    + base64.b64encode(SVG_SCRIPT.encode()).decode() + ")",
    "<details open ontoggle=alert('pwned-13')><summary>s</summary></details>",
    "<img src=x onerror=alert('pwned-14')>",
])
CODE = (
    "from IPython.display import HTML, SVG, display\n"
    "display(HTML('<a id=\"ctl\" href=\"\\x01javascript:alert(`pwned-15`)\">ctl link</a>'\n"
    "             '<!-- --!><img src=x onerror=alert(\"pwned-16\")> -->'))\n"
    f"display(SVG({SVG_SCRIPT!r}))\n"
)


def _renderers():
    quartos = quarto_binaries()
    return ["builtin", pytest.param(quartos[-1] if quartos else None, id="quarto", marks=[
        pytest.mark.skipif(not quartos, reason="no Quarto (./run test installs it)")])]


@pytest.fixture(scope="module", params=_renderers())
def hostile_site(request, tmp_path_factory) -> Path:
    renderer = request.param
    root = make_mini_project(tmp_path_factory.mktemp("hostile") / "mini")
    descriptor = root / "data/raw/datapackage.json"
    package = json.loads(descriptor.read_text())
    package["licenses"] = [{"name": "CC0-1.0", "path": "javascript:alert('pwned-licence')"},
                           {"name": "CC-BY-4.0", "path": "\x01javascript:alert('pwned-licence2')"},
                           {"name": "ODbL", "path": "https://opendatacommons.org/licenses/odbl/"}]
    descriptor.write_text(json.dumps(package, indent=2))
    nb_path = root / "notebooks/b.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(MARKDOWN))
    nb.cells.insert(2, nbformat.v4.new_code_cell(CODE))
    nbformat.write(nb, nb_path)
    if renderer != "builtin":
        shutil.copytree(ROOT / "_extensions", root / "_extensions")
        config = root / "_quarto.yml"
        config.write_text(config.read_text().replace('  title: "Mini"',
                                                     '  title: "Mini"\n  author: "Fixture"')
                          + "filters:\n  - reprobook\n")
    old_path = os.environ["PATH"]
    if renderer != "builtin":
        os.environ["PATH"] = f"{Path(renderer).parent}{os.pathsep}{old_path}"
    try:
        result = build(load_project(root), renderer="builtin" if renderer == "builtin" else "quarto")
    finally:
        os.environ["PATH"] = old_path
    return result.output_dir


def _notebook_page(site: Path) -> Path:
    return site / "notebooks" / "b.html"


def test_notebook_page_html_keeps_no_handler_script_or_javascript_link(hostile_site):
    page = _notebook_page(hostile_site)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    notebook = soup.find(id="notebook")
    assert notebook is not None and "Payloads" in notebook.get_text()
    assert "ctl link" in notebook.get_text()  # the output is shown, its link is not a link
    assert notebook.find_all("script") == []
    for tag in notebook.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
        for value in tag.attrs.values():
            text = re.sub(r"[\x00-\x20]", "", " ".join(value) if isinstance(value, list) else value)
            assert "javascript:" not in text.lower(), tag
    assert "<!--" not in str(notebook)
    meta = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert meta is not None and "script-src 'self'" in meta["content"]
    assert "'unsafe-inline'" not in meta["content"].split("script-src", 1)[1].split(";")[0]


def test_svg_outputs_are_published_without_script(hostile_site):
    svgs = sorted((hostile_site / "notebooks").rglob("*.svg"))
    assert len(svgs) >= 2, svgs  # the display(SVG) output and the Markdown data: image
    for svg in svgs:
        text = svg.read_text(encoding="utf-8")
        assert "<rect" in text  # still the drawing
        assert not re.search(r"<script|foreignObject|\son\w+=|javascript:", text, re.I), text


@pytest.fixture(scope="module")
def chromium(shared_chromium):
    browser, why_not = shared_chromium
    if browser is None:
        pytest.skip(why_not)
    return browser


def _load(browser, url: str, click: bool = False) -> tuple[list[str], list[str]]:
    """(dialogs opened, console messages) on loading `url`, and clicking
    every link of the page with `click`."""
    dialogs: list[str] = []
    console: list[str] = []
    page = browser.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: console.append(m.text))
    page.goto(url, wait_until="load")
    page.wait_for_timeout(200)
    if click:
        for link in page.locator("#notebook a").all():
            href = link.get_attribute("href") or ""
            if href.startswith(("http", "../", "#")) or href.endswith((".ipynb", ".html")):
                continue  # a navigation, not a payload
            link.click(no_wait_after=True, timeout=2000)
            page.wait_for_timeout(50)
    page.close()
    return dialogs, console


def test_payloads_run_nothing_in_chromium(hostile_site, chromium):
    from .browser.browser import SiteServer

    server = SiteServer(hostile_site)
    try:
        dialogs, _ = _load(chromium, server.url + "notebooks/b.html", click=True)
        for svg in sorted((hostile_site / "notebooks").rglob("*.svg")):
            opened, _ = _load(chromium, server.url + svg.relative_to(hostile_site).as_posix())
            dialogs += opened
    finally:
        server.close()
    assert dialogs == []


def test_the_policy_alone_stops_a_handler_and_a_javascript_link(hostile_site, chromium, tmp_path):
    """What a sanitizer might miss: a page with a handler and a javascript:
    link planted into its HTML after the build runs neither."""
    from .browser.browser import SiteServer

    site = tmp_path / "site"
    shutil.copytree(hostile_site, site)
    page = _notebook_page(site)
    planted = ('<img src="x" onerror="alert(\'pwned-planted\')">'
               '<a id="planted" href="javascript:alert(\'pwned-link\')">planted</a>')
    page.write_text(page.read_text(encoding="utf-8").replace(
        '<div id="notebook" class="notebook">', '<div id="notebook" class="notebook">' + planted, 1),
        encoding="utf-8")
    server = SiteServer(site)
    try:
        dialogs, console = _load(chromium, server.url + "notebooks/b.html", click=True)
    finally:
        server.close()
    assert dialogs == []
    assert any("Content Security Policy" in m for m in console), console


def test_the_sites_own_scripts_run_under_the_policy(hostile_site, chromium):
    """Every page of the book loads with no script refused by the policy
    (the built-in pages' scripts are files; Quarto's inline ones are
    allowed by hash)."""
    from .browser.browser import SiteServer

    server = SiteServer(hostile_site)
    refused = []
    try:
        for page in sorted(hostile_site.rglob("*.html")):
            _, console = _load(chromium, server.url + page.relative_to(hostile_site).as_posix())
            refused += [f"{page.name}: {m}" for m in console if "Content Security Policy" in m]
        # the old links to a check still reach the reviewer notes (a script file now)
        tab = chromium.new_page()
        tab.goto(server.url + "claims.html#check-anything", wait_until="load")
        tab.wait_for_url("**/checks.html#check-anything", timeout=5000)
        tab.close()
    finally:
        server.close()
    assert refused == []


def test_a_licence_path_is_a_link_only_when_it_is_a_web_address(hostile_site, chromium):
    """datapackage.json's package licences: a `javascript:` path was a live link."""
    from .browser.browser import SiteServer

    soup = BeautifulSoup((hostile_site / "data.html").read_text(encoding="utf-8"), "html.parser")
    text = soup.get_text()
    assert "CC0-1.0" in text and "CC-BY-4.0" in text
    hrefs = [a.get("href", "") for a in soup.find_all("a")]
    assert "https://opendatacommons.org/licenses/odbl/" in hrefs
    assert not [h for h in hrefs if "javascript" in h.lower()], hrefs
    server = SiteServer(hostile_site)
    try:
        page = chromium.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "data.html", wait_until="load")
        for name in ("CC0-1.0", "CC-BY-4.0"):
            page.get_by_text(name).first.click(no_wait_after=True, timeout=2000)
        page.wait_for_timeout(100)
        page.close()
    finally:
        server.close()
    assert dialogs == []
