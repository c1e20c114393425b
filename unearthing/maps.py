"""Map helpers for the report's seven maps: layers in a metric CRS, distances
to rivers, scale bar, north arrow, the offline shaded-relief basemap (with
online tiles as an option), and the before/after figure for local GeoTIFF
scenes.

All geometry is drawn and measured in UTM zone 47N (EPSG:32647), which covers
Kachin State; axis units are metres, so distances and the scale bar are true
to within the projection's scale error (well under 0.1 % here).
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

CRS_LONLAT = "EPSG:4326"
CRS_METRIC = "EPSG:32647"  # WGS 84 / UTM zone 47N
METRES_PER_MILE = 1609.344

# Attribution lines printed on every map that uses the layer.
CREDIT_NE = "Boundaries: Natural Earth (public domain)"
CREDIT_GEONAMES = "Places: GeoNames (CC BY 4.0), Wikipedia"
CREDIT_RIVERS = "Rivers: WDBII via GSHHG/basemap (LGPL)"
CREDIT_RELIEF = "Relief: basemap shaded relief"

# Online tiles are an option for users with a network; never the default.
TILES_ENV = "UNEARTHING_TILES"            # an xyzservices provider name or an http(s) URL template
TILE_CACHE_ENV = "UNEARTHING_TILE_CACHE"  # where fetched tiles are kept between builds


# ----------------------------------------------------------------- layers
def read_layer(path, crs: str = CRS_METRIC):
    """A GeoJSON layer as a GeoDataFrame in `crs` (UTM 47N by default)."""
    import geopandas as gpd

    gdf = gpd.read_file(path, engine="pyogrio")
    if gdf.crs is None:
        gdf = gdf.set_crs(CRS_LONLAT)  # GeoJSON is longitude/latitude by definition
    return gdf.to_crs(crs)


def gazetteer_points(gazetteer: pd.DataFrame, crs: str = CRS_METRIC):
    """Split the gazetteer into located places (a GeoDataFrame in `crs`) and
    the places without citable coordinates (a plain DataFrame). Rows whose
    status is 'coordinates unavailable' must carry no coordinates."""
    import geopandas as gpd

    missing = gazetteer.status == "coordinates unavailable"
    stray = gazetteer[missing & (gazetteer.latitude.notna() | gazetteer.longitude.notna())]
    if len(stray):
        raise ValueError(f"places marked unavailable carry coordinates: {list(stray.place)}")
    located = gazetteer[~missing].copy()
    if located[["latitude", "longitude"]].isna().any().any():
        raise ValueError("a located place has no coordinates")
    points = gpd.GeoDataFrame(located, geometry=gpd.points_from_xy(located.longitude, located.latitude),
                              crs=CRS_LONLAT).to_crs(crs)
    return points, gazetteer[missing].copy()


def require_metric(*layers) -> None:
    for layer in layers:
        crs = layer.crs
        if crs is None or not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
            raise ValueError(f"distances need a projected CRS in metres, got {crs}")


def nearest_river(points, rivers, *, name_column: str = "place") -> pd.DataFrame:
    """For each point, the nearest named river and the distance to it (metres
    and statute miles). Both layers must be in the same metric CRS."""
    require_metric(points, rivers)
    if points.crs != rivers.crs:
        raise ValueError("points and rivers must share one CRS")
    named = rivers[rivers["name"].fillna("") != ""].dissolve(by="name").reset_index()
    rows = []
    for _, point in points.iterrows():
        distances = named.geometry.distance(point.geometry)
        best = int(np.argmin(distances.to_numpy()))
        metres = float(distances.iloc[best])
        rows.append({name_column: point[name_column], "river": named["name"].iloc[best],
                     "distance_m": metres, "distance_miles": metres / METRES_PER_MILE})
    return pd.DataFrame(rows)


def padded_bounds(gdf, pad: float) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of the layer plus `pad` metres on each side."""
    xmin, ymin, xmax, ymax = gdf.total_bounds
    return xmin - pad, xmax + pad, ymin - pad, ymax + pad


def fit_bounds(bounds, aspect: float) -> tuple[float, float, float, float]:
    """Widen (or heighten) (xmin, xmax, ymin, ymax) about its centre so that
    width / height == aspect, the shape of the axes it will fill."""
    x0, x1, y0, y1 = bounds
    w, h = x1 - x0, y1 - y0
    if w / h < aspect:
        grow = (h * aspect - w) / 2
        return x0 - grow, x1 + grow, y0, y1
    grow = (w / aspect - h) / 2
    return x0, x1, y0 - grow, y1 + grow


def points_inside(ax, points) -> bool:
    """Whether every point lies inside the axes' current view."""
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    return bool(all(x0 <= p.x <= x1 and y0 <= p.y <= y1 for p in points.geometry))


# ----------------------------------------------------------------- drawing
# Plain matplotlib collections: GeoDataFrame.plot redraws the whole figure on
# every call (draw_idle), which makes a map with a raster basemap slow.
def _parts(geom):
    return list(geom.geoms) if hasattr(geom, "geoms") else [geom]


def draw_lines(ax, geometries, **kwargs):
    """Lines, and the outlines of polygons, as one LineCollection."""
    from matplotlib.collections import LineCollection

    segments = []
    for geom in geometries:
        for part in _parts(geom):
            if part.is_empty:
                continue
            if part.geom_type == "Polygon":
                rings = [part.exterior, *part.interiors]
                segments.extend(np.asarray(r.coords)[:, :2] for r in rings)
            elif part.geom_type in ("LineString", "LinearRing"):
                segments.append(np.asarray(part.coords)[:, :2])
    collection = LineCollection(segments, **kwargs)
    ax.add_collection(collection)
    return collection


def fill_polygons(ax, geometries, **kwargs):
    """Polygons (with holes) as one PathCollection."""
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    paths = []
    for geom in geometries:
        for part in _parts(geom):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            verts, codes = [], []
            for ring in [part.exterior, *part.interiors]:
                xy = np.asarray(ring.coords)[:, :2]
                verts.append(xy)
                codes.append([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
            paths.append(MplPath(np.concatenate(verts), np.concatenate(codes)))
    collection = PathCollection(paths, **kwargs)
    collection.set_transform(ax.transData)
    ax.add_collection(collection)
    return collection


# ------------------------------------------------------------- decorations
def _round_length(target: float) -> float:
    return max(c for c in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500) if c <= max(target, 1))


def scale_bar(ax, *, length_km: float | None = None, loc=(0.04, 0.05), color="black",
              miles: bool = False) -> float:
    """Draw a two-segment scale bar in an axes whose units are metres, on a
    white backing so no line of the map runs through its labels; returns its
    length in km. Without `length_km`, a round length near a fifth of the
    map's width is chosen. With `miles`, a second bar in statute miles sits
    under the first (for maps that print distances in miles)."""
    import matplotlib.patheffects as pe
    from matplotlib.patches import FancyBboxPatch

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_km = abs(x1 - x0) / 1000
    if length_km is None:
        length_km = _round_length(width_km / 5)
    bars = [(length_km * 1000.0, f"{length_km:g} km")]
    if miles:
        length_mi = _round_length(length_km / (METRES_PER_MILE / 1000))
        bars.append((length_mi * METRES_PER_MILE, f"{length_mi:g} mi"))
    h = 0.012 * (y1 - y0)
    step = 4.2 * h  # one bar and its labels
    bx = x0 + loc[0] * (x1 - x0)
    by = y0 + loc[1] * (y1 - y0) + (len(bars) - 1) * step  # the last bar sits at `loc`
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    longest = max(length for length, _ in bars)
    ax.add_patch(FancyBboxPatch((bx - 0.6 * h, by - (len(bars) - 1) * step - 0.8 * h),
                                longest + 0.09 * (x1 - x0), len(bars) * step + 0.4 * h,
                                boxstyle=f"round,pad=0,rounding_size={0.8 * h}", facecolor="white",
                                edgecolor="none", alpha=0.82, zorder=19))
    for row, (length, text) in enumerate(bars):
        y = by - row * step
        half = length / 2
        for i, fill in enumerate(("black", "white")):
            ax.add_patch(plt.Rectangle((bx + i * half, y), half, h, facecolor=fill, edgecolor=color,
                                       linewidth=0.8, zorder=20))
        for frac, label_text in ((0, "0"), (1, text)):
            ax.text(bx + frac * length, y + 1.6 * h, label_text, ha="center", va="bottom", fontsize=8,
                    zorder=20, color=color, path_effects=halo)
    return float(length_km)


def north_arrow(ax, loc=(0.06, 0.22)) -> None:
    """A simple north arrow (grid north of UTM 47N, within a degree of true
    north over Kachin State)."""
    ax.annotate("N", xy=loc, xytext=(loc[0], loc[1] - 0.08), xycoords="axes fraction",
                ha="center", va="center", fontsize=10, fontweight="bold", zorder=20,
                arrowprops=dict(arrowstyle="-|>", color="black", lw=1.5))


def label(ax, x, y, text, *, dx=6, dy=4, ha="left", size=8.5, weight="normal", color="black"):
    """A map label with a white halo, offset in points from (x, y)."""
    import matplotlib.patheffects as pe

    return ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va="center",
                       fontsize=size, fontweight=weight, color=color, zorder=15,
                       path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def place_labels(ax, labels, *, points=None, avoid=(), iterations: int = 300):
    """Point labels placed clear of each other, of the points (x, y lists of
    every marker on the map) and of other artists (`avoid`: text boxes,
    legends), with adjustText rather than hand-tuned offsets. `labels` are
    (x, y, text, style) with `label` keyword arguments in `style`; each
    starts beside its point and is moved only as far as needed, with a thin
    leader line when it ends up away from the point. Deterministic: a fixed
    number of iterations, never a time limit. Returns the text artists."""
    import matplotlib.patheffects as pe
    from adjustText import adjust_text

    texts = []
    to_data = ax.transData.inverted()
    for x, y, text, style in labels:
        style = {"dx": 0, "dy": 0, "ha": "center", "size": 8.5, "weight": "normal", "color": "black",
                 **style}
        # The starting offset, in points, as a position in data units:
        # adjustText moves text by its data position.
        px, py = ax.transData.transform((x, y))
        scale = ax.figure.dpi / 72
        sx, sy = to_data.transform((px + style["dx"] * scale, py + style["dy"] * scale))
        texts.append(ax.text(sx, sy, text, ha=style["ha"], va="center", fontsize=style["size"],
                             fontweight=style["weight"], color=style["color"], zorder=15,
                             path_effects=[pe.withStroke(linewidth=2.5, foreground="white")]))
    xs = [x for x, *_ in labels] + list(points[0] if points is not None else [])
    ys = [y for _, y, *_ in labels] + list(points[1] if points is not None else [])
    ax.figure.canvas.draw()  # text extents are known only once drawn
    renderer = ax.figure.canvas.get_renderer()
    # What to keep clear of, as boxes in data units (adjustText 1.4 maps
    # object boxes through the texts' data transform): a text's box is its
    # frame (bbox patch) when it has one, not just its letters.
    boxes = [((a.get_bbox_patch() or a) if hasattr(a, "get_bbox_patch") else a)
             .get_window_extent(renderer).transformed(to_data) for a in avoid]
    adjust_text(texts, x=xs, y=ys, objects=boxes or None, ax=ax, time_lim=None,
                iter_lim=iterations, expand=(1.15, 1.4), ensure_inside_axes=True,
                arrowprops=dict(arrowstyle="-", color="#555555", lw=0.6), min_arrow_len=12)
    return texts


def points_along(geometries, spacing: float, bounds=None) -> tuple[list[float], list[float]]:
    """Points every `spacing` map units along lines (and polygon outlines),
    only inside `bounds` (x0, x1, y0, y1) when given: lines for
    place_labels to keep labels off, as it keeps them off markers."""
    from shapely.geometry import box

    view = box(bounds[0], bounds[2], bounds[1], bounds[3]) if bounds is not None else None
    xs: list[float] = []
    ys: list[float] = []
    for geom in geometries:
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            geom = geom.boundary
        if view is not None:
            geom = geom.intersection(view)
        for part in _parts(geom):
            if part.geom_type not in ("LineString", "LinearRing") or part.length == 0:
                continue
            steps = max(1, int(part.length // spacing))
            for i in range(steps + 1):
                p = part.interpolate(i / steps, normalized=True)
                xs.append(p.x)
                ys.append(p.y)
    return xs, ys


def label_point(polygon):
    """Where a region's name goes: the centre of the largest circle inside
    the polygon (shapely's polylabel), the point farthest from its borders,
    so a name never straddles a boundary."""
    from shapely.ops import polylabel

    part = max(_parts(polygon), key=lambda g: g.area)
    return polylabel(part, tolerance=500.0)


def frame(ax) -> None:
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color("#888888")


# ---------------------------------------------------------------- basemap
def tile_cache_dir() -> Path:
    return Path(os.environ.get(TILE_CACHE_ENV) or Path.cwd() / ".reprobook" / "tile-cache")


def add_basemap(ax, relief_path, *, crs: str = CRS_METRIC, source=None) -> str:
    """Draw the basemap under the map and return its attribution line.

    Offline (the default): the local shaded-relief GeoTIFF, drawn through
    contextily with a file source, so no network is touched. Online, only
    when asked (argument `source`, or the UNEARTHING_TILES environment
    variable): an xyzservices provider or URL template; tiles are cached on
    disk (UNEARTHING_TILE_CACHE, default .reprobook/tile-cache) so a rebuild
    does not fetch them again."""
    import contextily as ctx

    source = source if source is not None else os.environ.get(TILES_ENV) or None
    if source is None:
        image, extent = relief_image(relief_path, crs)
        limits = ax.get_xlim(), ax.get_ylim()
        ax.imshow(image, extent=extent, interpolation="bicubic", alpha=0.55, zorder=0,
                  aspect=ax.get_aspect())
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        return CREDIT_RELIEF
    provider = _provider(source)
    cache = tile_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    ctx.set_cache_dir(str(cache))
    ctx.add_basemap(ax, source=provider, crs=crs, attribution=False, zorder=0, alpha=0.7)
    return "Tiles: " + (provider.get("attribution") or provider.get("name", "online provider"))


RELIEF_FEATHER_PX = 12  # source pixels (2' each, about 0.4 degrees) over which the relief fades out
RELIEF_UPSAMPLE = 4  # output pixels per source pixel: smooth at print size, not blocky


def relief_image(relief_path, crs: str = CRS_METRIC):
    """The shaded relief reprojected to `crs` as an RGBA image and its
    extent (left, right, bottom, top). The relief fades out over its last
    RELIEF_FEATHER_PX pixels, so a map reaching beyond the raster shows a
    soft edge rather than a hard rectangle; it is resampled (bilinear) to
    RELIEF_UPSAMPLE times its resolution, so print output is smooth."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    with rasterio.open(relief_path) as src:
        rgb = src.read()[:3]
        h, w = rgb.shape[1:]
        ramp = lambda n: np.clip((np.minimum(np.arange(n), np.arange(n)[::-1]) + 0.5)  # noqa: E731
                                 / RELIEF_FEATHER_PX, 0, 1)
        alpha = np.minimum.outer(ramp(h), ramp(w))
        alpha = (255 * alpha * alpha * (3 - 2 * alpha)).round().astype("uint8")  # smoothstep
        data = np.concatenate([rgb, alpha[None]])
        transform, width, height = calculate_default_transform(
            src.crs, crs, w, h, *src.bounds, dst_width=w * RELIEF_UPSAMPLE, dst_height=h * RELIEF_UPSAMPLE)
        out = np.zeros((4, height, width), dtype="uint8")
        reproject(data, out, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs=crs, resampling=Resampling.bilinear, dst_nodata=0)
    left, top = transform @ (0, 0)
    right, bottom = transform @ (width, height)
    return np.moveaxis(out, 0, -1), (left, right, bottom, top)


def _provider(source):
    import xyzservices
    import xyzservices.providers as xyz

    if isinstance(source, xyzservices.TileProvider):
        return source
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return xyzservices.TileProvider(name="custom", url=source, attribution="online tiles")
    return xyz.query_name(source)


# ------------------------------------------------------- before/after imagery
def read_scene(path):
    """A GeoTIFF scene as (H x W x bands array scaled to 0..1, extent, crs)."""
    import rasterio

    with rasterio.open(path) as src:
        data = src.read().astype("float64")
        bounds = src.bounds
        crs = src.crs
    lo, hi = np.nanpercentile(data, 2), np.nanpercentile(data, 98)
    data = np.clip((data - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    image = data[0] if data.shape[0] == 1 else np.moveaxis(data[:3], 0, -1)
    return image, (bounds.left, bounds.right, bounds.bottom, bounds.top), crs


def before_after_figure(before, after, *, title: str, before_label: str, after_label: str,
                        source: str):
    """Two local GeoTIFF scenes of one place side by side, on a shared
    extent, with a scale bar in each panel when the scene CRS is metric."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.8))
    crss = []
    for ax, path, text in zip(axes, (before, after), (before_label, after_label)):
        image, extent, crs = read_scene(path)
        crss.append(crs)
        ax.imshow(image, extent=extent, cmap="gray" if image.ndim == 2 else None,
                  interpolation="nearest")
        ax.set_title(text, fontsize=10)
        frame(ax)
        if crs is not None and crs.is_projected:
            scale_bar(ax, color="black")
    if crss[0] != crss[1]:
        raise ValueError(f"before and after scenes differ in CRS: {crss[0]} vs {crss[1]}")
    north_arrow(axes[1])
    fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.text(0.01, 0.01, source, fontsize=7.5, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def fetch_scene(src: str, bbox_lonlat, out) -> Path:
    """Clip a GeoTIFF (local path, or an http(s) URL to a cloud-optimised
    GeoTIFF read through GDAL's /vsicurl/) to a lon/lat box and write it to
    `out`. For users with network access who have a licence to the scene;
    the build itself never calls this."""
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    path = f"/vsicurl/{src}" if str(src).startswith(("http://", "https://")) else str(src)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path) as scene:
        left, bottom, right, top = transform_bounds(CRS_LONLAT, scene.crs, *bbox_lonlat)
        window = from_bounds(left, bottom, right, top, scene.transform).round_offsets().round_lengths()
        data = scene.read(window=window, boundless=False)
        profile = scene.profile | {"width": data.shape[2], "height": data.shape[1],
                                   "transform": scene.window_transform(window), "driver": "GTiff"}
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(data)
    return out


def main(argv=None) -> None:
    """python -m unearthing.maps fetch-scene SRC WEST SOUTH EAST NORTH OUT"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m unearthing.maps")
    sub = parser.add_subparsers(dest="cmd", required=True)
    fetch = sub.add_parser("fetch-scene", help="clip a GeoTIFF scene (path or URL) to a lon/lat box")
    fetch.add_argument("src")
    fetch.add_argument("bbox", nargs=4, type=float, metavar=("WEST", "SOUTH", "EAST", "NORTH"))
    fetch.add_argument("out")
    args = parser.parse_args(argv)
    print(fetch_scene(args.src, args.bbox, args.out))


if __name__ == "__main__":
    main()


# ------------------------------------------------------------ interactive map
LEAFLET_ELEMENT = "interactive-map"


def geojson_layer(gdf, *, tolerance_m: float = 0.0, properties=()) -> dict:
    """A GeoJSON FeatureCollection in longitude/latitude, simplified in metres
    first (so the page stays light) and rounded to 4 decimals (about 10 m),
    with sorted keys: the same data gives the same bytes."""
    import json

    require_metric(gdf)
    layer = gdf[[*properties, "geometry"]].copy()
    if tolerance_m:
        layer["geometry"] = layer.geometry.simplify(tolerance_m, preserve_topology=True)
    layer = layer.to_crs(CRS_LONLAT)
    data = json.loads(layer.to_json(drop_id=True))

    def rounded(value):
        if isinstance(value, float):
            return round(value, 4)
        if isinstance(value, list):
            return [rounded(v) for v in value]
        return value

    for feature in data["features"]:
        feature["geometry"]["coordinates"] = rounded(feature["geometry"]["coordinates"])
    return data


def label_sides(points, reach: tuple[float, float] = (0.6, 0.2)) -> list[str]:
    """The side of its marker each permanent label of the interactive map
    takes: the right, unless another labelled point lies close on that side
    (within `reach` degrees east, and north or south), then the left. A label
    to the right of Bhamo ran over Momauk's marker and label."""
    points = [(float(x), float(y)) for x, y in points]
    return ["left" if any(0 < ox - x <= reach[0] and abs(oy - y) <= reach[1]
                          for j, (ox, oy) in enumerate(points) if j != i) else "right"
            for i, (x, y) in enumerate(points)]


def leaflet_script(layers: list[dict], attribution: str) -> str:
    """JavaScript that draws `layers` with Leaflet in the element
    #interactive-map. Each layer: {"name", "data" (GeoJSON), "style"}; a
    feature's `popup` property (plain text; lines separated by newlines, the
    first shown as its title) becomes its popup and `label` its tooltip, on
    the feature's `side` ("right" unless set; see label_sides).
    Both are printed as text, never parsed as HTML: they hold data.
    No tile layer: the site makes no request to any other host."""
    import json

    payload = json.dumps({"layers": layers, "attribution": attribution}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"))
    return f"""// Generated by notebooks/maps.ipynb; draws with the Leaflet the site serves.
(function () {{
  var el = document.getElementById("{LEAFLET_ELEMENT}");
  if (!el || !window.L) {{ return; }}
  var spec = {payload};
  var map = L.map(el, {{zoomSnap: 0.5, scrollWheelZoom: false}});
  var overlays = {{}};
  function textNode(text, title) {{
    var box = document.createElement("div");
    String(text).split("\\n").forEach(function (line, i) {{
      var part = document.createElement(i === 0 && title ? "strong" : "div");
      part.textContent = line;
      box.appendChild(part);
    }});
    return box;
  }}
  var extent = null;
  spec.layers.forEach(function (layer) {{
    var group = L.geoJSON(layer.data, {{
      style: function () {{ return layer.style; }},
      pointToLayer: function (feature, latlng) {{ return L.circleMarker(latlng, layer.style); }},
      onEachFeature: function (feature, shape) {{
        var p = feature.properties || {{}};
        if (p.popup) {{ shape.bindPopup(textNode(p.popup, true)); }}
        if (p.label) {{ shape.bindTooltip(textNode(p.label, false), {{permanent: !!layer.permanent, direction: p.side || "right"}}); }}
      }}
    }}).addTo(map);
    overlays[layer.name] = group;
    if (layer.fit) {{ extent = group.getBounds(); }}
  }});
  map.fitBounds(extent || L.latLngBounds([[23, 96], [28.5, 99]]));
  L.control.layers(null, overlays, {{collapsed: false}}).addTo(map);
  L.control.scale({{imperial: false}}).addTo(map);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(spec.attribution);
}})();
"""
