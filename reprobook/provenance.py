"""Machine-readable provenance per edition, in the conventions archives and
registries read:

- ro-crate-metadata.json: an RO-Crate (Workflow Run Crate profile) written
  with the `rocrate` library: the raw data with licence and source, each
  notebook run (a CreateAction) with the data it read and the files it made,
  the build with the replication package as its workflow, and every
  published file with its sha256 and size;
- CITATION.cff and .zenodo.json, so that an edition can get its own DOI.

Every date is the edition's (never the clock) and every identifier is
derived from a path, so two builds write the same bytes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from . import __version__
from .project import Project

CRATE = "ro-crate-metadata.json"
CITATION = "CITATION.cff"
ZENODO = ".zenodo.json"
PROFILES = ("https://w3id.org/ro/wfrun/process/0.5", "https://w3id.org/ro/wfrun/workflow/0.5",
            "https://w3id.org/workflowhub/workflow-ro-crate/1.0")


# A fixed table (the system's mimetypes database differs between machines).
FORMATS = {".html": "text/html", ".pdf": "application/pdf", ".json": "application/json",
           ".csv": "text/csv", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
           ".js": "text/javascript", ".css": "text/css", ".zip": "application/zip",
           ".ipynb": "application/x-ipynb+json", ".md": "text/markdown", ".cff": "application/yaml",
           ".geojson": "application/geo+json", ".tif": "image/tiff", ".woff2": "font/woff2",
           ".txt": "text/plain", ".xml": "application/xml"}


def _one(values: list):
    """A single value rather than a one-item list (RO-Crate 1.1's advice)."""
    return values[0] if len(values) == 1 else values


def _licence_entity(licence: dict) -> tuple[str, dict]:
    name = licence.get("title") or licence.get("name") or "licence"
    ident = licence.get("path") or f"#licence-{licence.get('name') or name}"
    return ident, {"@type": "CreativeWork", "name": name}


def _raw_files(project: Project) -> list[dict]:
    """The published raw files (data/<path>) with licence and source."""
    descriptor = project.root / project.datapackage
    if not descriptor.is_file():
        return []
    package = json.loads(descriptor.read_text(encoding="utf-8"))
    out = []
    for resource in package.get("resources") or []:
        if isinstance(resource.get("path"), str):
            out.append({"name": resource.get("name"), "path": f"data/{resource['path']}",
                        "title": resource.get("title") or resource.get("name"),
                        "licences": resource.get("licenses") or package.get("licenses") or [],
                        "sources": resource.get("sources") or []})
    return out


def write_crate(project: Project, site: Path, edition: dict, replication: dict, date: str) -> None:
    """ro-crate-metadata.json in the edition folder `site`, listing every
    file already there (write it last, before the manifest)."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    crate = ROCrate(gen_preview=False, version="1.1")
    crate.metadata.extra_terms["sha256"] = "http://schema.org/sha256"  # not in 1.1's context
    root = crate.root_dataset
    title = project.title + (f", edition {edition['number']}" if edition.get("number") else "")
    root["name"] = title
    root["description"] = edition.get("summary") or project.subtitle or project.title
    root["datePublished"] = date
    root["conformsTo"] = [{"@id": p} for p in PROFILES]
    crate.metadata["conformsTo"] = [{"@id": "https://w3id.org/ro/crate/1.1"},
                                    {"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0"}]
    version = str(edition.get("number") or date)
    authors = [a.strip() for a in (project.author or "").split(",") if a.strip()]
    if authors:
        root["author"] = _one([{"@id": f"#author-{n}"} for n in range(len(authors))])
    for profile in PROFILES:
        crate.add(ContextEntity(crate, profile, properties={
            "@type": "CreativeWork", "name": profile.rsplit("/", 2)[-2], "version": profile.rsplit("/", 1)[-1]}))

    def entity(ident: str, properties: dict):
        return crate.add(ContextEntity(crate, ident, properties=properties))

    for n, name in enumerate(authors):
        entity(f"#author-{n}", {"@type": "Person", "name": name})

    # Every published file, with its hash (the crate cannot list itself).
    types = {replication["path"]: ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
             **{f"notebooks/{spec.name}.ipynb": ["File", "SoftwareSourceCode"]
                for spec in project.notebooks}}
    files = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p.name != CRATE):
        rel = path.relative_to(site).as_posix()
        data = path.read_bytes()
        files[rel] = crate.add_file(dest_path=rel, properties={
            "@type": types.get(rel, "File"), "name": path.name, "contentSize": str(len(data)),
            "encodingFormat": FORMATS.get(path.suffix.lower(), "application/octet-stream"),
            "sha256": hashlib.sha256(data).hexdigest()})
    raw = _raw_files(project)
    licences = {}
    for item in raw:
        file = files.get(item["path"])
        if file is None:
            continue
        file["name"] = item["title"]
        ids = []
        for licence in item["licences"]:
            ident, props = _licence_entity(licence)
            licences.setdefault(ident, entity(ident, props))
            ids.append({"@id": ident})
        if ids:
            file["license"] = _one(ids)
        sources = [s.get("path") or s.get("url") or s.get("title") for s in item["sources"]]
        sources = [{"@id": s} if str(s).startswith(("http://", "https://")) else s
                   for s in sources if s]
        if sources:
            file["isBasedOn"] = _one(sources)
    if licences:
        root["license"] = _one([{"@id": i} for i in sorted(licences)])
    else:
        root["license"] = "not given: see the data page"
    # The workflow: the replication package (build plan, notebooks, engine);
    # `reprobook build` runs it.
    # (not on PyPI: its source is in the replication package, under engine/)
    engine = entity("#reprobook", {"@type": "ComputerLanguage", "name": "reprobook",
                                   "version": __version__})
    workflow = files.get(replication["path"])
    if workflow is not None:
        workflow["name"] = "Replication package: everything that built this edition"
        workflow["version"] = version
        workflow["programmingLanguage"] = engine
        root["mainEntity"] = workflow
    engine_app = entity("#reprobook-engine", {"@type": "SoftwareApplication", "name": "reprobook",
                                              "softwareVersion": __version__})
    by_resource = {item["name"]: item["path"] for item in raw}
    actions = []
    for spec in project.notebooks:
        notebook = files.get(f"notebooks/{spec.name}.ipynb")
        read = [{"@id": by_resource[r]} for r in spec.inputs if by_resource.get(r) in files]
        made = [{"@id": o} for o in (*spec.outputs, "facts.json") if o in files]
        run = entity(f"#run-{spec.name}", {
            "@type": "CreateAction", "name": f"Run of notebook {spec.path}", "endTime": date,
            "description": f"{spec.path} executed top to bottom for this edition: the data it "
                           "read, the figures and facts (facts.json) it recorded"})
        if read:
            run["object"] = _one(read)
        if made:
            run["result"] = _one(made)
        if notebook is not None:
            notebook["name"] = f"Notebook {spec.path}, as executed"
            notebook["version"] = version
            run["instrument"] = notebook
        actions.append(run)
    results = [files[r] for r in files if r.endswith((".html", ".pdf"))]
    build = entity("#build", {"@type": "CreateAction", "name": f"reprobook build of {title}",
                              "endTime": date, "object": [{"@id": i["path"]} for i in raw
                                                          if i["path"] in files],
                              "result": [{"@id": f.id} for f in results]})
    if workflow is not None:
        build["instrument"] = workflow
    build["agent"] = engine_app
    root["mentions"] = [{"@id": a.id} for a in [*actions, build]]
    (site / CRATE).write_text(json.dumps(crate.metadata.generate(), indent=2, sort_keys=True,
                                         ensure_ascii=False) + "\n", encoding="utf-8")


def _licence_id(project: Project) -> str | None:
    descriptor = project.root / project.datapackage
    if not descriptor.is_file():
        return None
    licences = json.loads(descriptor.read_text(encoding="utf-8")).get("licenses") or []
    return licences[0].get("name") if licences else None


def write_citation(project: Project, site: Path, edition: dict, date: str) -> None:
    """CITATION.cff and .zenodo.json for this edition."""
    version = edition.get("number") or date
    title = project.title + (f", edition {edition['number']}" if edition.get("number") else "")
    authors = [a.strip() for a in (project.author or "").split(",") if a.strip()] or ["Unknown"]
    summary = edition.get("summary") or project.subtitle or project.title
    licence = _licence_id(project)
    cff = {"cff-version": "1.2.0",
           "message": "If you use this edition, please cite it as below.",
           "type": "dataset", "title": title, "version": str(version), "date-released": date,
           "abstract": summary, "authors": [{"name": a} for a in authors]}
    if licence:
        cff["license"] = licence
    if project.site_url:
        cff["url"] = project.site_url
    (site / CITATION).write_text(yaml.safe_dump(cff, sort_keys=False, allow_unicode=True),
                                 encoding="utf-8")
    zenodo = {"title": title, "upload_type": "publication", "publication_type": "report",
              "description": summary, "version": str(version), "publication_date": date,
              "creators": [{"name": a} for a in authors]}
    if licence:
        zenodo["license"] = licence
    original = project.original or {}
    if original.get("url"):
        zenodo["related_identifiers"] = [{"identifier": original["url"],
                                          "relation": "isDerivedFrom", "resource_type": "publication"}]
    (site / ZENODO).write_text(json.dumps(zenodo, indent=2, sort_keys=True, ensure_ascii=False)
                               + "\n", encoding="utf-8")


def write(project: Project, site: Path, edition: dict, replication: dict, date: str) -> None:
    write_citation(project, site, edition, date)
    write_crate(project, site, edition, replication, date)


__all__ = ["write", "CRATE", "CITATION", "ZENODO"]
