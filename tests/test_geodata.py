"""Geodata is validated before any notebook runs (issue 10): invalid
geometries (feature and reason named), a layer in another CRS, a truncated
raster, a gazetteer place outside the declared box. Each breaks a copy of
the real project's data and runs the real validator."""

from __future__ import annotations

import json

import pytest

from reprobook.errors import DataError
from reprobook.validate import rehash, require_valid

ADMIN = "data/raw/geo/myanmar-admin1.geojson"


def _rewrite_geojson(project, edit) -> None:
    path = project.root / ADMIN
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    rehash(project)


def test_self_intersecting_polygon_is_named(project_copy):
    bowtie = {"type": "Polygon", "coordinates": [[[96, 25], [98, 27], [98, 25], [96, 27], [96, 25]]]}
    _rewrite_geojson(project_copy, lambda d: d["features"][0].update(geometry=bowtie))
    with pytest.raises(DataError, match=rf"{ADMIN}: feature 1 .*invalid geometry: Self-intersection"):
        require_valid(project_copy)


def test_layer_in_another_crs_is_caught(project_copy):
    """A layer in metres (UTM 47N) instead of degrees: its coordinates fall
    far outside the declared box."""
    def to_metres(data):
        geometry = data["features"][2]["geometry"]
        def scale(coords):
            return [scale(c) for c in coords] if isinstance(coords[0], list) else \
                [coords[0] * 100000, coords[1] * 100000]
        geometry["coordinates"] = scale(geometry["coordinates"])
    _rewrite_geojson(project_copy, to_metres)
    with pytest.raises(DataError, match=rf"{ADMIN}: feature 3 .*outside the declared box.*wrong CRS"):
        require_valid(project_copy)


def test_truncated_raster_is_reported(project_copy):
    path = project_copy.root / "data/raw/geo/shaded-relief.tif"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    rehash(project_copy)
    with pytest.raises(DataError, match="shaded-relief.tif: is not a readable raster"):
        require_valid(project_copy)


def test_gazetteer_place_outside_the_box_names_row_and_columns(project_copy):
    path = project_copy.root / "data/raw/gazetteer.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("latitude")] = "-25.38"  # a sign error: the southern hemisphere
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    rehash(project_copy)
    with pytest.raises(DataError, match=r"gazetteer.csv, row 2, column 'longitude/latitude'.*outside"):
        require_valid(project_copy)
