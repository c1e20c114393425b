"""Validate raw data against its Frictionless descriptor before anything runs.

Frictionless checks each file's schema (column names, types, constraints,
primary keys) and its sha256 against the `hash` recorded in the descriptor.
We turn its report into messages that name file, row and column, and add the
checks Frictionless does not make: required provenance metadata per file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .project import Project

# Metadata every raw file must carry, beyond its schema.
REQUIRED_RESOURCE_KEYS = ("name", "path", "title", "description", "sources", "hash")
# Tabular files must also describe their columns; other files (GeoJSON layers,
# rasters) carry provenance and a checksum but no table schema.
TABULAR_FORMATS = ("csv", "tsv", "xlsx", "xls", "ods")


def is_tabular(resource: dict) -> bool:
    fmt = (resource.get("format") or Path(resource.get("path", "")).suffix.lstrip(".")).lower()
    return fmt in TABULAR_FORMATS or "schema" in resource


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def has_data_package(project: Project) -> bool:
    return (project.root / project.datapackage).is_file()


def load_descriptor(project: Project) -> dict:
    """The data package's descriptor. A book whose notebooks read no data
    (or that has none) needs none: it then has an empty data package."""
    path = project.root / project.datapackage
    if not path.is_file():
        readers = [nb.path for nb in project.notebooks if nb.inputs]
        if not readers:
            return {"resources": []}
        raise DataError(f"data descriptor {project.datapackage} is missing, and "
                        f"{', '.join(readers)} declare(s) inputs from it: describe the raw files "
                        "there (see the README's 'How to add a data file'), then run "
                        "`reprobook data rehash`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{project.datapackage} is not valid JSON: {exc}") from exc


def resource_file(project: Project, resource: dict, index: int) -> Path:
    """The file of one resource, which must resolve (symlinks followed) inside
    the project; otherwise a DataError naming the descriptor and key."""
    base = (project.root / project.datapackage).parent
    where = f"{project.datapackage}: resources[{index}]"
    if not isinstance(resource, dict):
        raise DataError(f"{where} must be an object, got {resource!r}")
    name, path = resource.get("name"), resource.get("path")
    if not isinstance(name, str) or not name:
        raise DataError(f"{where} has no 'name'")
    if not isinstance(path, str) or not path.strip():
        raise DataError(f"{where}.path (resource '{name}') is missing or not a relative path")
    target = (base / path).resolve()
    if not target.is_relative_to(project.root.resolve()):
        raise DataError(f"{where}.path (resource '{name}'): {path} resolves to {target}, outside "
                        "the project; raw data must be inside it")
    return base / path


def _resources(project: Project, descriptor: dict) -> list:
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        raise DataError(f"{project.datapackage}: 'resources' must be a list")
    return resources


def resource_paths(project: Project) -> dict[str, Path]:
    """Resource name -> absolute path of its file (each inside the project)."""
    descriptor = load_descriptor(project)
    return {r["name"]: resource_file(project, r, i)
            for i, r in enumerate(_resources(project, descriptor))}


def _metadata_problems(project: Project, descriptor: dict) -> list[Problem]:
    problems: list[Problem] = []
    base = (project.root / project.datapackage).parent
    licences = bool(descriptor.get("licenses"))
    for resource in descriptor.get("resources", []):
        label = str(base.relative_to(project.root) / resource.get("path", "?"))
        required = REQUIRED_RESOURCE_KEYS + (("schema",) if is_tabular(resource) else ())
        for key in required:
            if not resource.get(key):
                problems.append(Problem(project.datapackage, None, None,
                                        f"resource '{resource.get('name', '?')}' has no '{key}'"))
        if not (licences or resource.get("licenses")):
            problems.append(Problem(project.datapackage, None, None,
                                    f"resource '{resource.get('name', '?')}' has no licence"))
        if not (base / resource.get("path", "")).is_file():
            problems.append(Problem(label, None, None, "file is missing"))
        for field in resource.get("schema", {}).get("fields", []):
            if field.get("type") in ("integer", "number") and not field.get("unit"):
                problems.append(Problem(label, None, field.get("name"),
                                        "numeric column has no 'unit' in the descriptor"))
    return problems


def csv_options(resource: dict) -> dict:
    """How a CSV resource is read, from its descriptor: the one reading path
    shared by the validator and `Step.read_csv` (Frictionless would sniff a
    `;` delimiter that pandas, reading with `,`, then trips over)."""
    dialect = resource.get("dialect") or {}
    csv_dialect = dialect.get("csv") if isinstance(dialect.get("csv"), dict) else dialect
    return {"delimiter": str(csv_dialect.get("delimiter", ",")),
            "quotechar": str(csv_dialect.get("quoteChar", '"')),
            "encoding": str(resource.get("encoding") or "utf-8")}


def _csv_problems(project: Project, descriptor: dict) -> list[Problem]:
    """Checks made with the notebooks' own reading options: every line
    decodes with the declared encoding (the row is named), and the header,
    split with the declared delimiter, is the schema's columns."""
    import csv

    problems = []
    for index, resource in enumerate(_resources(project, descriptor)):
        fmt = (resource.get("format") or Path(resource.get("path", "")).suffix.lstrip(".")).lower()
        if fmt != "csv":
            continue
        path = resource_file(project, resource, index)
        if not path.is_file():
            continue
        label = str(path.relative_to(project.root))
        options = csv_options(resource)
        lines = []
        for row, raw in enumerate(path.read_bytes().splitlines(), 1):
            try:
                lines.append(raw.decode(options["encoding"]))
            except UnicodeDecodeError as exc:
                problems.append(Problem(label, row, None, f"is not valid {options['encoding']} "
                                        f"(byte {exc.start + 1} of the line: {raw[exc.start:exc.start + 1]!r})"))
                break
            except LookupError:
                problems.append(Problem(project.datapackage, None, None,
                                        f"resource '{resource.get('name')}': unknown encoding "
                                        f"{options['encoding']!r}"))
                break
        else:
            if not lines:
                continue
            header = next(csv.reader(lines[:1], delimiter=options["delimiter"],
                                     quotechar=options["quotechar"]))
            fields = [f.get("name") for f in (resource.get("schema") or {}).get("fields", [])]
            # One column where the schema has several: the file uses another
            # delimiter (other header differences are Frictionless's to name).
            if len(fields) > 1 and len(header) == 1 and header != fields[:1]:
                problems.append(Problem(label, 1, None,
                                        f"header read with delimiter {options['delimiter']!r} is "
                                        f"{header}, the schema's columns are {fields} (another "
                                        "delimiter? declare it as dialect.delimiter)"))
                continue
            problems += _hidden_character_problems(label, lines, options)
    return problems


# Characters a reader cannot see that change what a page shows: control
# characters (a NUL byte) and the bidirectional embeddings, overrides and
# isolates (U+202E shows "12" as "21"). Tabs are ordinary text.
HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _hidden_character_problems(label: str, lines: list[str], options: dict) -> list[Problem]:
    import csv

    problems = []
    reader = csv.reader(lines, delimiter=options["delimiter"], quotechar=options["quotechar"])
    header = next(reader, [])
    for row, cells in enumerate(reader, 2):
        for column, cell in enumerate(cells):
            found = HIDDEN.search(cell)
            if found:
                name = header[column] if column < len(header) else str(column + 1)
                problems.append(Problem(label, row, name, (
                    f"holds the invisible character U+{ord(found.group()):04X}, which changes "
                    "how the text is shown or read (a control or a right-to-left override); "
                    "remove it from the raw file")))
                if len(problems) >= 20:
                    return problems
    return problems


def _inside_bbox(x: float, y: float, bbox: list) -> bool:
    west, south, east, north = bbox
    return west <= x <= east and south <= y <= north


def _geo_problems(project: Project, descriptor: dict) -> list[Problem]:
    """Geodata, before any notebook draws it: each resource with a `spatial`
    entry ({"crs": "EPSG:4326", "bbox": [west, south, east, north]}, and for
    tables the coordinate columns "x" and "y") is checked for valid
    geometries (the feature and the reason named), its declared CRS, and
    coordinates inside the box; rasters must be readable in full."""
    problems: list[Problem] = []
    for index, resource in enumerate(_resources(project, descriptor)):
        spatial = resource.get("spatial")
        if not spatial:
            continue
        path = resource_file(project, resource, index)
        if not path.is_file():
            continue
        label = str(path.relative_to(project.root))
        crs, bbox = spatial.get("crs"), spatial.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4):
            problems.append(Problem(project.datapackage, None, None, f"resource "
                                    f"'{resource.get('name')}': spatial.bbox must be [west, south, east, north]"))
            continue
        fmt = (resource.get("format") or path.suffix.lstrip(".")).lower()
        if fmt in ("geojson", "json"):
            problems += _geojson_problems(path, label, crs, bbox)
        elif fmt in ("tif", "tiff", "geotiff"):
            problems += _raster_problems(path, label, crs, bbox)
        elif fmt == "csv" and spatial.get("x") and spatial.get("y"):
            problems += _point_table_problems(path, label, spatial["x"], spatial["y"], bbox,
                                              csv_options(resource))
    return problems


def _geojson_problems(path: Path, label: str, crs: str | None, bbox: list) -> list[Problem]:
    from .extras import require

    shape = require("shapely.geometry", "geo", f"checking the GeoJSON {label}").shape
    explain_validity = require("shapely.validation", "geo", "checking GeoJSON").explain_validity

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return [Problem(label, None, None, f"is not valid GeoJSON: {exc}")]
    problems = []
    declared = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if declared and crs and not declared.upper().endswith(crs.upper().split(":")[-1]):
        problems.append(Problem(label, None, None, f"CRS is {declared}, the descriptor declares {crs}"))
    for n, feature in enumerate(data.get("features") or [], 1):
        name = (feature.get("properties") or {}).get("name")
        where = f"feature {n}" + (f" ({name})" if name else "")
        try:
            geometry = shape(feature.get("geometry"))
        except Exception as exc:  # shapely's errors vary by geometry type
            problems.append(Problem(label, None, None, f"{where}: unreadable geometry: {exc}"))
            continue
        if not geometry.is_valid:
            problems.append(Problem(label, None, None, f"{where}: invalid geometry: "
                                    f"{explain_validity(geometry)}"))
        west, south, east, north = geometry.bounds
        if not (_inside_bbox(west, south, bbox) and _inside_bbox(east, north, bbox)):
            problems.append(Problem(label, None, None, f"{where}: coordinates "
                                    f"{[round(v, 3) for v in geometry.bounds]} fall outside the "
                                    f"declared box {bbox} (wrong CRS?)"))
    return problems


def _raster_problems(path: Path, label: str, crs: str | None, bbox: list) -> list[Problem]:
    from .extras import require

    rasterio = require("rasterio", "geo", f"checking the raster {label}")
    try:
        with rasterio.open(path) as src:
            src.read()  # a truncated file fails here, not in a notebook
            actual = src.crs.to_string() if src.crs else None
            bounds = src.bounds
    except Exception as exc:  # rasterio raises several error types
        return [Problem(label, None, None, f"is not a readable raster: {exc}")]
    problems = []
    if crs and actual != crs:
        problems.append(Problem(label, None, None, f"CRS is {actual}, the descriptor declares {crs}"))
    if not (_inside_bbox(bounds.left, bounds.bottom, bbox) and _inside_bbox(bounds.right, bounds.top, bbox)):
        problems.append(Problem(label, None, None, f"bounds {tuple(bounds)} fall outside the "
                                f"declared box {bbox}"))
    return problems


def _point_table_problems(path: Path, label: str, x: str, y: str, bbox: list,
                          options: dict) -> list[Problem]:
    import csv

    problems = []
    with path.open(encoding=options["encoding"], newline="") as handle:
        for row, record in enumerate(csv.DictReader(handle, delimiter=options["delimiter"]), 2):
            if not record.get(x) or not record.get(y):
                continue  # places without coordinates are allowed (and not drawn)
            try:
                lon, lat = float(record[x]), float(record[y])
            except ValueError:
                continue  # a type error: Frictionless names it
            if not _inside_bbox(lon, lat, bbox):
                problems.append(Problem(label, row, f"{x}/{y}", f"({lon}, {lat}) falls outside "
                                        f"the declared box {bbox}"))
    return problems


def _frictionless_problems(project: Project, descriptor_path: Path) -> list[Problem]:
    # Imported here: frictionless is slow to import and only this stage needs it.
    from frictionless import Package

    package = Package(str(descriptor_path))
    problems: list[Problem] = []
    base = descriptor_path.parent
    report = package.validate()
    for task in report.tasks:
        label = str((base / task.place).relative_to(project.root)) if task.place else "?"
        changed = any(error.type == "hash-count" for error in task.errors)
        for error in task.errors:
            if changed and error.type == "byte-count":
                continue  # the checksum mismatch already says the file changed
            row = getattr(error, "row_number", None)
            column = getattr(error, "field_name", None) or getattr(error, "label", None)
            message = _plain_message(error)
            problems.append(Problem(label, row, column, message))
    for error in report.errors:
        problems.append(Problem(project.datapackage, None, None, error.message))
    return problems


def _plain_message(error) -> str:
    kind = error.type
    if kind == "hash-count":
        return ("checksum mismatch: the file changed since its descriptor was written "
                f"({error.note}). If the change is deliberate, run `reprobook data rehash`.")
    if kind == "byte-count":
        return ("size mismatch: the file changed since its descriptor was written "
                f"({error.note}). If the change is deliberate, run `reprobook data rehash`.")
    if kind == "missing-label":
        return "column is missing from the header"
    if kind == "extra-label":
        return "header has a column the schema does not describe"
    if kind == "type-error":
        return f"value {error.cell!r} is not of the column's type ({error.note})"
    if kind == "constraint-error":
        return f"value {error.cell!r} breaks a constraint: {error.note}"
    if kind in ("primary-key", "unique-error"):
        return f"duplicate key: {error.note}"
    if kind == "missing-cell":
        return "value is missing"
    return f"{error.title}: {error.note or error.message}"


def validate(project: Project) -> list[Problem]:
    """All problems with the raw data; an empty list means it is valid.
    A resource path outside the project is a DataError, raised at once."""
    descriptor = load_descriptor(project)
    if not has_data_package(project):
        return []  # no data, nothing to check
    resource_paths(project)
    problems = _metadata_problems(project, descriptor)
    if any(p.message == "file is missing" for p in problems):
        return problems
    # The same descriptor and files were found valid before: nothing to redo.
    from . import memo

    paths = resource_paths(project)
    key = memo.key(Path(__file__), project.root / project.datapackage,
                   *(paths[name] for name in sorted(paths)))
    store = memo.active()
    if store is not None and not problems:
        known = store.get("validation", key) == b"valid"
        store.count("validation", known)
        if known:
            return []
    found = _csv_problems(project, descriptor)
    if not found:  # (Frictionless would read a mis-delimited file differently)
        found = (_frictionless_problems(project, project.root / project.datapackage)
                 + _geo_problems(project, descriptor))
    problems = problems + found
    if store is not None and not problems:
        store.put("validation", key, b"valid")
    return problems


def check_declared_inputs(project: Project) -> None:
    known = set(resource_paths(project))
    for nb in project.notebooks:
        unknown = [name for name in nb.inputs if name not in known]
        if unknown:
            raise DataError(f"{nb.path} declares inputs not in {project.datapackage}: {unknown}")


def require_valid(project: Project) -> None:
    problems = validate(project)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DataError(f"raw data failed validation ({len(problems)} problem(s)):\n{lines}")
    check_declared_inputs(project)


def rehash(project: Project) -> list[str]:
    """Record the current sha256 and size of every raw file in the descriptor.

    This is the one deliberate way to accept a changed raw file; returns the
    names of the resources whose checksum changed."""
    path = project.root / project.datapackage
    descriptor = load_descriptor(project)
    if not has_data_package(project):
        raise DataError(f"no data package: {project.datapackage} does not exist, so there are no "
                        "checksums to record (describe the raw files there first)")
    files = [resource_file(project, r, i) for i, r in enumerate(_resources(project, descriptor))]
    missing = [f"  - resource '{r['name']}': {file.relative_to(project.root)}"
               for r, file in zip(descriptor["resources"], files) if not file.is_file()]
    if missing:
        raise DataError(f"{project.datapackage}: cannot record checksums, file(s) missing "
                        "(nothing was changed):\n" + "\n".join(missing))
    changed = []
    for resource, file in zip(descriptor["resources"], files):
        new_hash = f"sha256:{sha256_of(file)}"
        if resource.get("hash") != new_hash:
            changed.append(resource["name"])
        resource["hash"] = new_hash
        resource["bytes"] = file.stat().st_size
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed
