"""The interactive map draws in the browser from files the site serves:
Leaflet from assets/vendor, the data from figures/, nothing from elsewhere."""

from __future__ import annotations

import pytest

from .browser import DESKTOP, PHONE, axe_problems, errors, new_context, off_host_requests, visit


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


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_interactive_map_labels_do_not_cover_each_other(browser, server, edition_prefix, viewport):
    """Every permanent label can be read: no label box overlaps another
    label or another place's marker (Bhamo's label ran over Momauk's)."""
    context = new_context(browser, viewport)
    try:
        page = context.new_page()
        page.goto(server.url + f"{edition_prefix}chapters/maps.html", wait_until="load")
        page.locator("#interactive-map").scroll_into_view_if_needed()
        tooltips = page.locator("#interactive-map .leaflet-tooltip")
        labels = {t.inner_text(): t.bounding_box() for t in tooltips.all()}
        assert {"Bhamo", "Momauk Township", "Myitkyina", "Chipwi Township"} <= set(labels)
        names = sorted(labels)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert not _overlap(labels[a], labels[b]), f"label {a!r} covers label {b!r}"
        markers = [m.bounding_box() for m in page.locator("#interactive-map path.leaflet-interactive").all()]
        circles = [m for m in markers if m and m["width"] <= 30 and m["height"] <= 30]
        assert len(circles) >= 5  # three towns, two townships
        for name, box in labels.items():
            covered = [m for m in circles if _overlap(box, m)]
            # its own marker at most (a tooltip starts inside a large circle)
            assert len(covered) <= 1, f"label {name!r} covers another place's marker"
    finally:
        context.close()


def test_map_labels_and_popups_from_data_are_text(browser, tmp_path):
    """Place names come from data: a label or popup holding markup is shown
    as text (Leaflet would parse a string as HTML)."""
    from unearthing.maps import leaflet_script

    from .browser import SiteServer

    hostile = '<img src=x onerror="window.pwned=1">'
    point = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [97.4, 25.4]},
        "properties": {"label": hostile, "popup": f"Title {hostile}\nsecond line"}}]}
    layers = [{"name": "x", "fit": False, "permanent": True, "data": point, "style": {"radius": 5}}]
    (tmp_path / "leaflet").mkdir()
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    for name in ("leaflet.js", "leaflet.css"):
        (tmp_path / "leaflet" / name).write_bytes((root / "vendor/leaflet" / name).read_bytes())
    (tmp_path / "map.js").write_text(leaflet_script(layers, "test"))
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        '<link rel="stylesheet" href="leaflet/leaflet.css"></head><body>'
        '<div id="interactive-map" style="height:400px"></div>'
        '<script src="leaflet/leaflet.js"></script><script src="map.js"></script></body></html>')
    server = SiteServer(tmp_path)
    context = new_context(browser, DESKTOP)
    try:
        page = context.new_page()
        page.goto(server.url + "index.html", wait_until="load")
        tooltip = page.locator("#interactive-map .leaflet-tooltip")
        assert tooltip.inner_text() == hostile
        assert page.locator("#interactive-map img").count() == 0
        page.locator("#interactive-map path.leaflet-interactive").first.click(force=True)
        popup = page.locator(".leaflet-popup-content")
        assert popup.locator("strong").inner_text() == f"Title {hostile}"
        assert "second line" in popup.inner_text()
        assert page.evaluate("window.pwned === undefined")
    finally:
        context.close()
        server.close()
