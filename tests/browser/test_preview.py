"""`reprobook preview` in a real browser: on a mini book, the open page
follows edits saved on disk (no manual reload, scroll position kept), a
broken fact key shows the build's message over the last good page, and the
next good save removes it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import make_mini_project, quarto_binaries

from .browser import DESKTOP, new_context

FILLER = "\n\n".join(f"Filler paragraph {i} of a long chapter, so the page scrolls." for i in range(60))
CHAPTER_ONE = f"# One {{#sec-one}}\n\n{FILLER}\n\nAlpha total is {{{{< fact alpha.total >}}}}.\n"


@pytest.fixture
def preview(tmp_path):
    """The real command on a mini book, on a free port; yields (root, url, output lines)."""
    root = make_mini_project(tmp_path / "mini", {"one": CHAPTER_ONE})
    env = {**os.environ, "COLUMNS": "400"}
    # A real Quarto on PATH when there is one: preview must say what it does with it.
    quarto = quarto_binaries()[:1]
    env["PATH"] = os.pathsep.join([str(Path(q).parent) for q in quarto] + [
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "quarto").exists()])
    proc = subprocess.Popen([sys.executable, "-m", "reprobook", "preview", "--root", str(root),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    lines: list[str] = []
    serving = threading.Event()

    def read():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Serving "):
                serving.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert serving.wait(120), "preview did not start:\n" + "\n".join(lines)
        url = re.search(r"http://127\.0\.0\.1:\d+/", next(l for l in lines if l.startswith("Serving"))).group(0)
        yield root, url, lines, bool(quarto)
    finally:
        proc.terminate()
        proc.wait(10)


def test_page_follows_saves_and_shows_build_errors(browser, preview):
    root, url, lines, with_quarto = preview
    chapter = root / "chapters/one.qmd"
    context = new_context(browser, DESKTOP)
    page = context.new_page()
    page.goto(url + "chapters/one.html")
    assert "Alpha total is 3,500" in page.inner_text("main")
    page.evaluate("window.scrollTo(0, 600)")
    page.wait_for_function("() => window.scrollY === 600")

    # A prose edit: the open page changes by itself, at the same place.
    saved = time.monotonic()
    chapter.write_text(CHAPTER_ONE.replace("Alpha total is", "The alpha total comes to"))
    page.wait_for_function("() => document.body.innerText.includes('The alpha total comes to 3,500')",
                           timeout=15000)
    seconds = time.monotonic() - saved
    page.wait_for_function("() => window.scrollY === 600", timeout=5000)
    print(f"prose edit in the browser {seconds:.2f}s after saving")

    # A broken fact key: the overlay names the file and line; the page stays.
    chapter.write_text(CHAPTER_ONE.replace("alpha.total", "alpha.totl"))
    overlay = page.wait_for_selector("#reprobook-preview-error", timeout=15000)
    message = overlay.inner_text()
    line = CHAPTER_ONE.splitlines().index(next(l for l in CHAPTER_ONE.splitlines() if "fact" in l)) + 1
    assert f"chapters/one.qmd:{line}" in message and "alpha.totl" in message, message
    assert "The alpha total comes to 3,500" in page.inner_text("main")
    assert not (root / "_site/chapters/one.html").read_text().count("__reprobook")

    # Fixed: the overlay goes and the page shows the fix.
    chapter.write_text(CHAPTER_ONE.replace("Alpha total is", "Fixed: alpha total is"))
    page.wait_for_function("() => document.body.innerText.includes('Fixed: alpha total is 3,500')",
                           timeout=15000)
    assert page.query_selector("#reprobook-preview-error") is None
    context.close()
    assert any("the PDF is not rebuilt" in l for l in lines), lines
    if with_quarto:
        assert any("is on PATH; the preview renders with the built-in renderer" in l
                   for l in lines), lines
