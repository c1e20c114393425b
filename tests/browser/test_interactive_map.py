"""The interactive map draws in the browser from files the site serves:
Leaflet from assets/vendor, the data from figures/, nothing from elsewhere."""

from __future__ import annotations

from .browser import DESKTOP, axe_problems, errors, new_context, off_host_requests, visit


def test_interactive_map_draws_offline(browser, server, edition_prefix, axe_available):
    page_path = f"{edition_prefix}chapters/maps.html"
    context = new_context(browser, DESKTOP)
    try:
        v = visit(context, server.url, page_path, axe=axe_available, images=False)
        assert errors(v) == [] and off_host_requests(v) == []
        assert context.blocked == []
        assert any(url.endswith("assets/vendor/leaflet/leaflet.js") for url in v.requests)
        assert any(url.endswith("figures/map-interactive.js") for url in v.requests)
        if axe_available:
            assert axe_problems(v) == []
        page = context.new_page()
        page.goto(server.url + page_path, wait_until="load")
        shapes = page.locator("#interactive-map path.leaflet-interactive")
        assert shapes.count() >= 4  # the state outline, rivers and the township circles
        tooltips = page.locator("#interactive-map .leaflet-tooltip").all_inner_texts()
        assert {"Chipwi Township", "Momauk Township", "Myitkyina"} <= set(tooltips)
        box = page.locator("#interactive-map").bounding_box()
        assert box["width"] > 300 and box["height"] > 300
        page.close()
    finally:
        context.close()
