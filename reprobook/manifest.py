"""Build manifests: the sha256 of everything that went into an edition and
everything that came out, plus tool versions. `reprobook verify` rebuilds an
edition in a clean directory and compares the two manifests."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from pathlib import Path

from .project import Project

MANIFEST = "manifest.json"
LOCK_FILE = "requirements.lock"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tool_versions(renderer: str) -> dict[str, str]:
    import pypandoc
    import typst

    versions = {"python": platform.python_version(), "pandoc": pypandoc.get_pandoc_version(),
                "typst": getattr(typst, "__version__", "unknown"), "renderer": renderer}
    if renderer == "quarto":
        import subprocess

        proc = subprocess.run(["quarto", "--version"], capture_output=True, text=True)
        versions["quarto"] = proc.stdout.strip()
    return versions


def inputs_of(project: Project) -> dict[str, dict[str, str]]:
    """The sha256 of every input that can change an output, by group (raw
    data, notebooks, chapters, the report's own code, configuration with
    references, fonts and the extension, the lock), and the engine's digest."""
    from . import replication

    inputs = {group: {name: sha256_of(path) for name, path in files.items()}
              for group, files in replication.input_groups(project).items()}
    inputs["engine"] = {"reprobook": replication.engine_digest()}
    return inputs


INPUT_GROUPS = ("raw", "notebooks", "chapters", "code", "configuration", "environment", "engine")


def outputs_of(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): sha256_of(p) for p in sorted(site.rglob("*"))
            if p.is_file() and p.name != MANIFEST}


# The environment variables that can change an output's bytes, recorded so
# that `verify` rebuilds under the same values (a Nix shell, for one, sets
# SOURCE_DATE_EPOCH; the notebooks' figures carry it as their date).
REPLAYED_ENV = ("SOURCE_DATE_EPOCH",)


def build_environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in REPLAYED_ENV}


@contextlib.contextmanager
def replayed_build_environment(recorded: dict):
    """Set REPLAYED_ENV as `recorded` (a manifest) says, for a rebuild."""
    wanted = recorded.get("build_environment", {})
    saved = build_environment()
    try:
        for name in REPLAYED_ENV:
            if wanted.get(name) is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = wanted[name]
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def write(project: Project, site: Path, renderer: str, edition: str | None,
          replication: dict | None = None) -> dict:
    manifest = {"edition": edition, "inputs": inputs_of(project), "outputs": outputs_of(site),
                "tools": tool_versions(renderer), "build_environment": build_environment()}
    if replication:  # the edition's replication package (replication.py)
        manifest["replication"] = replication
    (site / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")
    return manifest


def root_outputs(site: Path, editions: list[str]) -> dict[str, str]:
    """The sha256 of each file at the site root (outside the edition
    folders) and of each edition's manifest."""
    outputs = {str(p.relative_to(site)): sha256_of(p) for p in sorted(site.rglob("*"))
               if p.is_file() and p.name != MANIFEST
               and p.relative_to(site).parts[0] not in editions}
    outputs.update({f"{number}/{MANIFEST}": sha256_of(site / number / MANIFEST)
                    for number in editions if (site / number / MANIFEST).is_file()})
    return dict(sorted(outputs.items()))


def write_root(site: Path, editions: list[str]) -> dict:
    """The site root's manifest (root_outputs), so that `verify` checks the
    root pages and every edition's manifest too."""
    root = {"editions": editions, "outputs": root_outputs(site, editions)}
    (site / MANIFEST).write_text(json.dumps(root, indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")
    return root


def compare(expected: dict, actual: dict) -> list[str]:
    """Human-readable differences, each naming the file; empty if identical."""
    problems = []
    for section in INPUT_GROUPS:
        want, got = expected["inputs"].get(section, {}), actual["inputs"].get(section, {})
        for name in sorted(set(want) | set(got)):
            if want.get(name) != got.get(name):
                state = "missing" if name not in got else "added" if name not in want else "changed"
                problems.append(f"input {name}: {state}")
    want, got = expected["outputs"], actual["outputs"]
    for name in sorted(set(want) | set(got)):
        if want.get(name) != got.get(name):
            state = "missing" if name not in got else "new" if name not in want else "differs"
            problems.append(f"output {name}: {state}")
    for tool in sorted(set(expected["tools"]) | set(actual["tools"])):
        if expected["tools"].get(tool) != actual["tools"].get(tool):
            problems.append(f"tool {tool}: {expected['tools'].get(tool)} -> {actual['tools'].get(tool)}")
    return problems
