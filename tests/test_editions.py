"""Editions side by side: both editions of the real publication are built,
their switcher links and notices are right, the 1.1 changes page is the
difference of the two facts files, each PDF carries its edition on the cover,
and `verify` catches a changed raw input."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from reprobook.build import build
from reprobook.editions import load_editions
from reprobook.project import load_project
from reprobook.validate import rehash
from reprobook.verify import verify

from .conftest import ONE_EDITION, make_mini_project


@pytest.fixture(scope="module")
def site(built) -> Path:
    project, _ = built
    return project.site_dir


@pytest.fixture(scope="module")
def registry(built):
    project, _ = built
    return load_editions(project.root)


def html_pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def resolve(page: Path, href: str) -> Path:
    """The file a relative link on `page` points to (fragment dropped)."""
    target = PurePosixPath(urlsplit(href).path)
    return (page.parent / target).resolve()


def test_registry_has_both_editions(registry):
    assert [e.number for e in registry] == ["1.0", "1.1"]
    assert [e.status for e in registry] == ["superseded", "current"]


def test_both_editions_are_built(built, site, registry):
    _, result = built
    for edition in registry:
        folder = site / edition.number
        assert (folder / "index.html").is_file(), edition.number
        assert (folder / "facts.json").is_file(), edition.number
    assert result.output_dir == site / "1.1"
    assert (site / "1.1/chapters/update-2025.html").is_file()
    assert (site / "1.1/chapters/reconciliation.html").is_file()
    assert not (site / "1.0/chapters/update-2025.html").exists()


def test_every_edition_switcher_link_resolves(site, registry):
    checked = 0
    for edition in registry:
        for page in html_pages(site / edition.number):
            soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
            switcher = soup.select_one("nav.edition-switcher")
            assert switcher is not None, page
            links = switcher.select("a[href]")
            assert len(links) == len(registry) - 1, page
            for link in links:
                target = resolve(page, link["href"])
                assert target.is_file(), f"{page.relative_to(site)}: {link['href']} -> missing"
                assert target.relative_to(site.resolve()).parts[0] == link.get_text(strip=True)
                checked += 1
    assert checked > 20


def test_superseded_notice_only_on_the_older_edition(site):
    for page in html_pages(site / "1.0"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        notice = soup.select_one(".edition-notice")
        assert notice is not None and "superseded" in notice.get_text(), page
        assert resolve(page, notice.find("a")["href"]).is_file(), page
    for page in html_pages(site / "1.1"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert soup.select_one(".edition-notice") is None, page


def test_changes_page_lists_exactly_the_changed_claims(built, site):
    project, _ = built
    old = json.loads((site / "1.0/facts.json").read_text())
    new = json.loads((site / "1.1/facts.json").read_text())
    expected = {k for k in old.keys() ^ new.keys()} | {
        k for k in old.keys() & new.keys()
        if (old[k]["value"], old[k]["text"]) != (new[k]["value"], new[k]["text"])}
    assert expected, "edition 1.1 should add claims"
    page = site / "1.1/changes.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    listed = [code.get_text() for code in soup.select("main code")]
    assert len(listed) == len(set(listed))
    assert set(listed) == expected

    base = load_project(project.root)
    update = load_project(project.root, profile="1.1")
    new_chapters = {str(PurePosixPath(c).with_suffix(".html")) for c in update.chapters
                    if c not in base.chapters}
    assert new_chapters == {"chapters/update-2025.html", "chapters/reconciliation.html"}
    heading = soup.find("h2", string="Chapters")
    chapter_links = {a["href"] for a in heading.find_next("ul").select("a")}
    assert chapter_links == new_chapters
    for href in chapter_links:
        assert resolve(page, href).is_file()


def test_each_pdf_has_a_stable_name_and_its_edition_on_the_cover(site, registry):
    for edition in registry:
        folder = site / edition.number
        pdfs = sorted(p.name for p in folder.glob("*.pdf"))
        assert pdfs == [f"unearthing-the-cost-{edition.number}.pdf"]
        cover = re.sub(r"\s+", " ", PdfReader(folder / pdfs[0]).pages[0].extract_text())
        assert f"edition {edition.number}" in cover.lower(), cover
        assert edition.date in cover, cover


def test_57_percent_check_has_the_verdict_the_data_gives(built, site):
    project, _ = built
    raw = project.root / "data/raw"
    news = pd.read_csv(raw / "news-2025-figures.csv", dtype=str).set_index("id")
    trade = pd.read_csv(raw / "report-trade-statistics.csv").set_index("id")
    row = news.loc["china_imports_share_myanmar"]
    share = float(row.value)
    low = float(trade.loc["volume_share_annual_min", "value"])
    high = float(trade.loc["volume_share_annual_max", "value"])
    # "nearly X" is X or a little less: it can only fall further below the range.
    assert row.qualifier == "nearly"
    expected = "consistent" if low <= share <= high else "inconsistent"
    assert expected == "inconsistent"  # 57 against 60-87, as published
    checks = json.loads((site / "1.1/checks.json").read_text())
    assert checks["update.share_2024_vs_report_range"]["verdict"] == expected
    assert "update.share_2024_vs_report_range" not in json.loads((site / "1.0/checks.json").read_text())
    notes = BeautifulSoup((site / "1.1/checks.html").read_text(encoding="utf-8"), "html.parser")
    assert "update.share_2024_vs_report_range" in notes.get_text()


# ------------------------------------------------------------------ verify
def test_verify_passes_unchanged_and_names_a_changed_input(tmp_path):
    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(ONE_EDITION)
    project = load_project(root)
    build(project, renderer="builtin")
    assert (root / "_site/1.0/manifest.json").is_file()

    number, differences = verify(project)
    assert (number, differences) == ("edition 1.0", [])

    # Tampering outside the edition folder, and an edition page rewritten
    # together with its manifest: the root manifest names both, the rebuild
    # names the page.
    changed = tmp_path / "tampered"
    shutil.copytree(root, changed)
    site = changed / "_site"
    (site / "index.html").write_text((site / "index.html").read_text() + "<script></script>")
    page = site / "1.0/index.html"
    page.write_text(page.read_text().replace("</body>", "<p>planted</p></body>"))
    edition_manifest = json.loads((site / "1.0/manifest.json").read_text())
    edition_manifest["outputs"]["index.html"] = hashlib.sha256(page.read_bytes()).hexdigest()
    (site / "1.0/manifest.json").write_text(json.dumps(edition_manifest))
    (site / "planted.html").write_text("<p>planted</p>")
    _, differences = verify(load_project(changed))
    assert differences == [
        "published _site/1.0/manifest.json: altered (sha256 differs from the manifest)",
        "published _site/index.html: altered (sha256 differs from the manifest)",
        "published _site/planted.html: extra (not in the manifest)",
        "output index.html: differs",
    ], differences

    changed = tmp_path / "changed"
    shutil.copytree(root, changed)
    data = changed / "data/raw/alpha.csv"
    content = bytearray(data.read_bytes())
    content[-2] ^= 0x01  # "2500" -> "2501": one byte, still valid CSV
    data.write_bytes(bytes(content))
    # The published edition is rebuilt from its snapshot: the edit is not
    # its input. Made a draft, it follows the working files, and verify
    # names the changed file.
    assert verify(load_project(changed)) == ("edition 1.0", [])
    registry = changed / "editions.yml"
    registry.write_text(registry.read_text().replace("status: current", "status: draft"))
    number, differences = verify(load_project(changed))
    assert number == "edition 1.0"
    assert any("data/raw/alpha.csv" in d for d in differences), differences
    assert not any("beta.csv" in d for d in differences), differences


TWO_EDITIONS = textwrap.dedent("""\
    editions:
      - number: "1.0"
        date: "2024-01-02"
        title: "Mini, first edition"
        status: superseded
        summary: "The fixture book."
        profile: null
      - number: "1.1"
        date: "2024-06-02"
        title: "Mini, second edition"
        status: current
        summary: "The fixture book again."
        profile: null
    """)


def test_an_edition_built_alone_is_the_edition_built_with_the_others(tmp_path):
    """`build --edition N` in a fresh clone (as `verify` does in an empty
    copy) builds the editions not published yet too, so edition N has its
    "What changed" page and switcher targets: the same bytes as a full
    build. And `verify` passes on a two-edition site."""
    from reprobook.verify import copy_source

    root = make_mini_project(tmp_path / "mini")
    (root / "editions.yml").write_text(TWO_EDITIONS)
    alone = copy_source(load_project(root), tmp_path / "alone")
    project = load_project(root)
    build(project, renderer="builtin")
    build(load_project(alone), edition="1.1", renderer="builtin")

    full = json.loads((root / "_site/1.1/manifest.json").read_text())["outputs"]
    single = json.loads((alone / "_site/1.1/manifest.json").read_text())["outputs"]
    assert "changes.html" in full
    assert single == full
    assert (alone / "_site/1.0/index.html").is_file()  # the switcher's other edition exists
    assert verify(project) == ("editions 1.0, 1.1", [])
    assert verify(project, "1.1") == ("edition 1.1", [])

    # An older edition's PDF replaced by another valid PDF, with its own and
    # the root manifest made to match: the published files agree with their
    # manifests, so only the rebuild of every edition can tell.
    site = root / "_site"
    pdfs = sorted(site.glob("1.*/*.pdf"))
    old_pdf, new_pdf = pdfs[0], pdfs[1]
    assert old_pdf.parent.name == "1.0"
    old_pdf.write_bytes(new_pdf.read_bytes())
    edition_manifest = json.loads((site / "1.0/manifest.json").read_text())
    edition_manifest["outputs"][old_pdf.name] = hashlib.sha256(old_pdf.read_bytes()).hexdigest()
    (site / "1.0/manifest.json").write_text(json.dumps(edition_manifest, indent=2, sort_keys=True) + "\n")
    from reprobook import manifest as manifestlib
    manifestlib.write_root(site, ["1.0", "1.1"])
    assert verify(project, "1.1") == ("edition 1.1", [])  # one edition cannot see it
    label, differences = verify(project)
    assert label == "editions 1.0, 1.1"
    assert differences == [f"edition 1.0: output {old_pdf.name}: differs",
                           "site root: output 1.0/manifest.json: differs"], differences


def test_pins_stop_a_changed_input_and_only_warn_on_the_lock(tmp_path):
    from reprobook.editions import file_sha256
    from reprobook.errors import BuildError

    root = make_mini_project(tmp_path / "pinned")
    (root / "requirements.lock").write_text("example==1.0\n")
    alpha = file_sha256(root / "data/raw/alpha.csv")
    (root / "editions.yml").write_text(textwrap.dedent(f"""\
        editions:
          - number: "1.0"
            date: "2024-01-02"
            title: "Mini, pinned"
            status: draft  # pins guard a draft; a published edition reads its snapshot
            summary: "The fixture book."
            profile: null
            pins:
              environment: {file_sha256(root / "requirements.lock")}
              inputs:
                alpha: {alpha}
        """))
    project = load_project(root)
    build(project, renderer="builtin")  # everything matches its pins

    class Collect:
        def __init__(self):
            self.lines = []

        def step(self, message):
            self.lines.append(message)

        done = step

    (root / "requirements.lock").write_text("example==2.0\n")
    reporter = Collect()
    build(project, reporter, renderer="builtin")
    assert any("requirements.lock differs" in line for line in reporter.lines)

    (root / "data/raw/alpha.csv").write_text("id,amount\n1,1000\n2,2501\n")
    rehash(project)  # a deliberate data change, but not what edition 1.0 was built from
    with pytest.raises(BuildError, match=r"data/raw/alpha.csv differs from the checksum pinned"):
        build(project, renderer="builtin")


def test_citation_file_and_cite_blocks_name_the_edition(built):
    import yaml

    project, _ = built
    registry = load_editions(project.root)
    cff = yaml.safe_load((project.root / "CITATION.cff").read_text(encoding="utf-8"))
    assert (str(cff["version"]), str(cff["date-released"])) == (registry[-1].number, registry[-1].date)
    for edition in registry:
        page = BeautifulSoup((project.site_dir / edition.number / "index.html").read_text(encoding="utf-8"),
                             "html.parser")
        cite = page.select_one("details.cite").get_text(" ", strip=True)
        assert f"Edition {edition.number}, {edition.date}" in cite
