"""The checkers catch real regressions: each test breaks a copy of the
built site the way a template or chapter change could, and asserts that the
same checker the page tests use reports it."""

from __future__ import annotations

import shutil
from pathlib import PurePosixPath

import pytest

from reprobook import sitecheck

from .browser import DESKTOP, SiteServer, axe_problems, errors, new_context, off_host_requests, visit

CHAPTER = "chapters/mining-expansion.html"


@pytest.fixture
def broken(site_root, tmp_path):
    """A copy of the whole built site (all editions: pages link across
    them), to be damaged."""
    copy = tmp_path / "site"
    shutil.copytree(site_root, copy)
    return copy


@pytest.fixture
def chapter(edition_prefix):
    """The damaged page, relative to the site root."""
    return str(PurePosixPath(edition_prefix or ".", CHAPTER))


def _edit(path, old, new, count=1):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_clean_copy_has_no_problems(broken, chapter):
    assert sitecheck.check_site(broken, [chapter]) == []


def test_a_broken_link_is_reported(broken, chapter):
    _edit(broken / chapter, 'href="../data.html"', 'href="../no-such-page.html"')
    problems = sitecheck.broken_links(broken, chapter)
    assert any("no-such-page.html" in p for p in problems), problems


def test_a_broken_anchor_is_reported(broken, chapter):
    _edit(broken / chapter, 'href="#fig-mining-sites-per-year"', 'href="#fig-gone"')
    problems = sitecheck.broken_links(broken, chapter)
    assert any("no id 'fig-gone'" in p for p in problems), problems


def test_a_missing_alt_text_is_reported(broken, browser, axe_available, chapter):
    doc = (broken / chapter).read_text(encoding="utf-8")
    start = doc.index("<img", doc.index('id="fig-mining-sites-per-year"'))
    alt = doc.index(' alt="', start)
    end = doc.index('"', alt + 6)
    (broken / chapter).write_text(doc[:alt] + doc[end + 1:], encoding="utf-8")
    problems = sitecheck.image_problems(broken, chapter)
    assert any("no alt" in p for p in problems), problems
    # and axe, in the browser, calls it critical
    server = SiteServer(broken)
    try:
        context = new_context(browser, DESKTOP)
        v = visit(context, server.url, chapter, axe=True, images=False)
        context.close()
    finally:
        server.close()
    assert any("image-alt" in p for p in axe_problems(v)), v.axe


def test_an_external_script_is_reported(broken, browser, chapter):
    _edit(broken / chapter, "</head>",
          '<script src="https://cdn.example.com/lib.js"></script>\n</head>')
    problems = sitecheck.external_requests(broken, chapter)
    assert any("cdn.example.com" in p for p in problems), problems
    # the browser records the attempt (blocked, so nothing leaves the machine)
    server = SiteServer(broken)
    try:
        context = new_context(browser, DESKTOP)
        v = visit(context, server.url, chapter, images=False)
        blocked = list(context.blocked)
        context.close()
    finally:
        server.close()
    # The page's Content-Security-Policy (script-src 'self') refuses it and
    # the browser says so: the page records the attempt, but the request
    # never reaches the network (the test browser's guard sees nothing).
    found = errors(v)
    assert any("cdn.example.com" in e and "Content Security Policy" in e for e in found), found
    assert any("cdn.example.com" in p for p in off_host_requests(v)), v.requests
    assert not any("cdn.example.com" in u for u in blocked), blocked


def test_an_external_font_in_a_stylesheet_is_reported(broken, chapter, edition_prefix):
    css = broken / edition_prefix / "assets/site.css"
    css.write_text(css.read_text() + '\n@import "https://fonts.example.com/css?family=X";\n')
    problems = sitecheck.external_requests(broken, chapter)
    assert any("fonts.example.com" in p for p in problems), problems


def test_a_second_h1_and_skipped_level_are_reported(broken, chapter):
    _edit(broken / chapter, "</main>", "<h1>Another</h1><h4>Deep</h4></main>")
    problems = sitecheck.structure_problems(broken, chapter)
    assert any("2 h1" in p for p in problems) and any("h1 to h4" in p for p in problems), problems


def test_a_heavy_page_is_over_the_budget(broken, chapter, edition_prefix):
    from .test_site import BUDGET

    (broken / edition_prefix / "figures/huge.png").write_bytes(b"\0" * (BUDGET + 1))
    _edit(broken / chapter, "</main>", '<img src="../figures/huge.png" alt="x"></main>')
    assert sitecheck.page_weight(broken, chapter).total > BUDGET


def test_next_page_and_compressed_sizes_count_the_right_files(broken, chapter, edition_prefix):
    """scripts/page_weight.py's "next page" leaves out only what every page of
    the edition loads, and its "gzip" column compresses text, not images."""
    extra = broken / edition_prefix / "assets/only-here.css"
    extra.write_text("p { color: #333333; }\n" * 200, encoding="utf-8")
    _edit(broken / chapter, "</head>", '<link rel="stylesheet" href="../assets/only-here.css"></head>')
    weights = sitecheck.page_weights(broken)
    shared = sitecheck.shared_files(broken, weights)
    assert f"{edition_prefix}assets/site.css" in shared
    assert f"{edition_prefix}assets/only-here.css" not in shared  # one page loads it
    assert not any(PurePosixPath(f).suffix in {".svg", ".webp", ".png", ".html"} for f in shared)

    page = next(w for w in weights if w.page == chapter)
    assert f"{edition_prefix}assets/only-here.css" in page.files
    css_gzip = sitecheck.transfer_size(broken, [f"{edition_prefix}assets/only-here.css"])
    assert css_gzip < extra.stat().st_size / 20  # 200 identical lines compress to almost nothing
    svg = next(f for f in page.files if f.endswith(".svg"))
    assert sitecheck.transfer_size(broken, [svg]) < (broken / svg).stat().st_size  # text: gzipped
    webp = next(p.relative_to(broken).as_posix() for p in sorted(broken.rglob("*.webp")))
    assert sitecheck.transfer_size(broken, [webp]) == (broken / webp).stat().st_size  # sent as is
