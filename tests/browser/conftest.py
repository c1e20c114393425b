"""Fixtures of the browser suite: the built site served on 127.0.0.1, one
Chromium for the session, and every page visited once at desktop width
(with axe-core) and once at phone width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reprobook.sitecheck import html_pages

from .browser import (AXE_JS, CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SiteServer, new_context,
                      require, visit)


@pytest.fixture(scope="session")
def site_root(built) -> Path:
    """The whole published site (all editions), as a reader gets it."""
    _, result = built
    return result.site


@pytest.fixture(scope="session")
def edition_prefix(built, site_root) -> str:
    _, result = built
    rel = result.output_dir.relative_to(site_root).as_posix()
    return "" if rel == "." else rel + "/"


@pytest.fixture(scope="session")
def server(site_root):
    srv = SiteServer(site_root)
    yield srv
    srv.close()


@pytest.fixture(scope="session")
def browser(shared_chromium):
    chromium, why_not = shared_chromium
    require(chromium is not None, why_not or "")
    return chromium


@pytest.fixture(scope="session")
def axe_available():
    require(AXE_JS.is_file(), f"axe-core not found at {AXE_JS}")
    return AXE_JS


@pytest.fixture(scope="session")
def pages(site_root, edition_prefix) -> list[str]:
    """Every HTML page of the newest edition (the root only redirects)."""
    return [p for p in html_pages(site_root) if p.startswith(edition_prefix)]


@pytest.fixture
def desktop(browser):
    context = new_context(browser, DESKTOP)
    yield context
    context.close()


@pytest.fixture
def phone(browser):
    context = new_context(browser, PHONE)
    yield context
    context.close()


@pytest.fixture(scope="session")
def desktop_visits(browser, server, pages, axe_available):
    context = new_context(browser, DESKTOP)
    visits = [visit(context, server.url, p, axe=True, overflow=True) for p in pages]
    context.close()
    return visits


@pytest.fixture(scope="session")
def phone_visits(browser, server, pages):
    context = new_context(browser, PHONE)
    visits = [visit(context, server.url, p, images=False, overflow=True) for p in pages]
    context.close()
    return visits
