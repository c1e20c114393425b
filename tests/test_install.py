"""The engine as a new author gets it: a wheel built from the engine's
sources alone, installed into a fresh virtual environment (no editable
install, no repository on the path; versions pinned by requirements.lock),
then `reprobook new`, builds with the built-in renderer and each real
Quarto, a data change followed through `data rehash`, `verify`, and the
starter's own tests. One environment is shared by the module: installing it
is the slow part (about 40 s)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from .conftest import ROOT, quarto_binaries

OPTIONAL = ("geopandas", "shapely", "pyproj", "pyogrio", "rasterio", "contextily",
            "xyzservices", "adjustText", "dask", "distributed")


@dataclass
class Installed:
    wheel: Path
    bin: Path

    def run(self, *args: str, cwd: Path, path: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = os.pathsep.join(p for p in (path, str(self.bin), env["PATH"]) if p)
        env["COLUMNS"] = "200"  # rich wraps messages at 80 columns otherwise
        proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        if check and proc.returncode != 0:
            pytest.fail(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    # The engine's sources only: building in a copy also keeps build/ and
    # *.egg-info out of the working tree.
    src = base / "src"
    src.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", src)
    shutil.copytree(ROOT / "reprobook", src / "reprobook",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"),
                    str(src)], check=True, capture_output=True)
    wheel = next((base / "dist").glob("reprobook-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # This environment's pip installs into the new one (--python): the venv
    # needs no pip of its own; --no-compile skips byte-compiling ~100 MB of
    # sources that the tests mostly never import.
    proc = subprocess.run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-compile",
                           "-c", str(ROOT / "requirements.lock"), str(wheel), "pytest"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Installed(wheel, venv / "bin")


def test_wheel_holds_the_engine_not_the_report(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for needed in ("reprobook/cli.py", "reprobook/pipeline/runner.py", "reprobook/render/site.py",
                   "reprobook/guard/sitecustomize.py", "reprobook/templates/page.html",
                   "reprobook/quarto_extension/reprobook.lua", "reprobook/starter/_quarto.yml",
                   "reprobook/starter/notebooks/visits.ipynb"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("unearthing/", "tests/", "chapters/"))]
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "reprobook = reprobook.cli:main" in zipfile.ZipFile(installed.wheel).read(entry).decode()


def test_minimal_install_has_no_geodata_or_dask(installed, tmp_path):
    probe = f"""
import importlib, importlib.metadata as md, json, pkgutil, sys
import reprobook
names = [m.name for m in pkgutil.walk_packages(reprobook.__path__, "reprobook.")
         if m.name != "reprobook.__main__"]
for name in names:
    importlib.import_module(name)
from reprobook.errors import BuildError
from reprobook.extras import require
try:
    require("shapely.geometry", "geo", "checking the GeoJSON roads")
    message = None
except BuildError as exc:
    message = str(exc)
from reprobook.extras import hint
try:
    import geopandas
except ModuleNotFoundError as exc:
    notebook_hint = hint(f"ModuleNotFoundError: {{exc}}")
print(json.dumps({{"file": reprobook.__file__, "modules": names,
    "version": [reprobook.__version__, md.version("reprobook")],
    "installed": sorted(d.metadata["Name"].lower() for d in md.distributions()),
    "imported": [m for m in {OPTIONAL!r} if m in sys.modules], "message": message,
    "hint": notebook_hint}}))
"""
    out = json.loads(installed.run(str(installed.bin / "python"), "-c", probe, cwd=tmp_path).stdout)
    assert str(ROOT) not in out["file"] and "site-packages" in out["file"]
    assert out["version"] == ["0.9.0", "0.9.0"]
    assert "reprobook.pipeline.dask" in out["modules"] and "reprobook.render.site" in out["modules"]
    assert out["imported"] == [], "the engine imports optional packages at import time"
    assert not {m.lower() for m in OPTIONAL} & set(out["installed"])
    assert {"pandas", "matplotlib", "typst", "pypandoc_binary", "reprobook"} <= \
        {n.replace("-", "_") for n in out["installed"]}
    assert out["message"] == ("checking the GeoJSON roads needs the Python package `shapely`, which "
                              "comes with reprobook's `geo` extra: pip install 'reprobook[geo]'")
    assert out["hint"] == ("\n`geopandas` is not installed; it comes with reprobook's `geo` extra: "
                           "pip install 'reprobook[geo]'")


def _broken_links(site: Path) -> list[str]:
    from reprobook import sitecheck

    return [f"{page}: {link}" for page in sitecheck.html_pages(site)
            if not page.startswith("site_libs/") for link in sitecheck.broken_links(site, page)]


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(path).pages)


def _text(page: Path) -> str:
    return " ".join(BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").get_text().split())


@pytest.fixture(scope="module")
def report(installed, tmp_path_factory) -> Path:
    """`reprobook new`, then a build with the built-in renderer (Quarto is
    off PATH in this suite) in which the build writes the extension again."""
    root = tmp_path_factory.mktemp("authors") / "my-report"
    out = installed.run(str(installed.bin / "reprobook"), "new", str(root), cwd=root.parent).stdout
    assert "synthetic example" in out
    for name in (".gitignore", "_quarto.yml", "reprobook.yml", "editions.yml", "index.qmd",
                 "references.qmd", "README.md", "tests/test_numbers.py", "notebooks/visits.ipynb",
                 "data/raw/library-visits.csv", "_extensions/reprobook/_extension.yml"):
        assert (root / name).is_file(), name
    descriptor = json.loads((root / "data/raw/datapackage.json").read_text())
    digest = hashlib.sha256((root / "data/raw/library-visits.csv").read_bytes()).hexdigest()
    assert descriptor["resources"][0]["hash"] == f"sha256:{digest}"
    shutil.rmtree(root / "_extensions")  # a project without it: the build writes it
    out = installed.run(str(installed.bin / "reprobook"), "build", cwd=root).stdout
    assert "written _extensions/reprobook/" in out
    assert "pandoc + Typst" in out
    assert (root / "_extensions/reprobook/reprobook.lua").is_file()
    return root


def test_new_report_builds_and_passes_its_own_tests(installed, report):
    site = report / "_site" / "1.0"
    data = pd.read_csv(report / "data/raw/library-visits.csv")
    text = _text(site / "chapters/visits.html")
    assert f"recorded {data.visits.sum():,} visits" in text
    assert "Figure 1.1" in text  # the @fig- cross-reference, numbered
    assert "Wilkinson" in text  # the citation in the first chapter
    assert "The Grammar of Graphics" in _text(site / "references.html")
    assert "synthetic illustrative example" in _text(site / "index.html")
    assert _broken_links(site) == []
    pdf = _pdf_text(site / "library-visits-1.0.pdf")
    assert "The Grammar of Graphics" in pdf and f"{data.visits.sum():,}" in pdf
    installed.run(str(installed.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  cwd=report)


def test_new_refuses_a_folder_that_is_not_empty(installed, report):
    proc = installed.run(str(installed.bin / "reprobook"), "new", str(report), cwd=report.parent, check=False)
    assert proc.returncode == 1
    assert "is not empty" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("quarto", quarto_binaries() or ["none"],
                         ids=lambda b: Path(b).parent.parent.name)
def test_new_report_builds_with_real_quarto(installed, report, quarto, tmp_path):
    if quarto == "none":
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true needs real Quarto (./run test installs it)")
        pytest.skip("no Quarto: ./run test installs it, or put `quarto` on PATH")
    root = tmp_path / "my-report"
    ignore = shutil.ignore_patterns("_site", "_site.previous", "memo", "stage-*", "trash-*")
    shutil.copytree(report, root, ignore=ignore)  # with the notebook cache: it need not run again
    out = installed.run(str(installed.bin / "reprobook"), "build", cwd=root, path=str(Path(quarto).parent)).stdout
    version = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()
    assert f"render with Quarto {version}" in out
    site = root / "_site" / "1.0"
    data = pd.read_csv(root / "data/raw/library-visits.csv")
    text = _text(site / "chapters/visits.html")
    assert f"recorded {data.visits.sum():,} visits" in text and "Figure 1.1" in text
    assert "The Grammar of Graphics" in _text(site / "references.html")
    assert "The Grammar of Graphics" in _pdf_text(site / "library-visits-1.0.pdf")
    assert _broken_links(site) == []
    installed.run(str(installed.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  cwd=root)


def test_changed_data_is_refused_then_rehashed_rebuilt_and_verified(installed, report):
    csv = report / "data/raw/library-visits.csv"
    before = pd.read_csv(csv).visits.sum()
    csv.write_text(csv.read_text().replace("2024-07,2480,", "2024-07,2980,"))
    proc = installed.run(str(installed.bin / "reprobook"), "build", cwd=report, check=False)
    assert proc.returncode == 1 and "rehash" in proc.stderr, proc.stderr
    installed.run(str(installed.bin / "reprobook"), "data", "rehash", cwd=report)
    installed.run(str(installed.bin / "reprobook"), "build", cwd=report)
    text = _text(report / "_site/1.0/chapters/visits.html")
    assert f"recorded {before + 500:,} visits" in text
    assert f"{before:,}" not in text
    out = installed.run(str(installed.bin / "reprobook"), "verify", cwd=report).stdout
    assert re.search(r"rebuild\s+is\s+byte-identical", out), out
    installed.run(str(installed.bin / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                  cwd=report)


def test_an_editions_replication_package_rebuilds_in_the_fresh_environment(installed, tmp_path):
    """The package of an edition built here, verified from its site folder
    with the fresh environment's Python and the package's own engine source
    (PYTHONPATH=engine): the rebuild reproduces every published file."""
    import textwrap

    from click.testing import CliRunner

    from reprobook.build import build
    from reprobook.cli import main
    from reprobook.project import load_project

    from .conftest import make_mini_project

    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(textwrap.dedent("""\
        editions:
          - {number: "1.0", date: "2024-01-02", title: "Mini", status: current,
             summary: "The fixture book.", profile: null}
        """))
    build(load_project(root), renderer="builtin")
    result = CliRunner().invoke(main, ["verify", str(root / "_site"),
                                       "--python", str(installed.bin / "python")])
    output = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"rebuilt with {installed.bin / 'python'} as asked" in output
    files = len(json.loads((root / "_site/1.0/manifest.json").read_text())["outputs"])
    assert f"reproduced all {files} published files byte for byte" in output
