"""Content corrections from the line-by-line review (issue 11): claims and
wording that must read as the sources support, checked in the built HTML
and the reviewer notes."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup


def page_text(site, name: str) -> str:
    soup = BeautifulSoup((site / name).read_text(encoding="utf-8"), "html.parser")
    return re.sub(r"\s+", " ", soup.find("main").get_text(" "))


@pytest.fixture(scope="module")
def site(built):
    _, result = built
    return result.output_dir


def test_global_witness_value_is_not_called_agreement(site, built):
    """USD 1.4 bn for 2023 in both, but Global Witness's covers about 41,700 t
    of heavy rare earths and the report's over 70,000 t: say what agrees."""
    _, result = built
    text = page_text(site, "chapters/china-imports.html")
    assert "value for 2023 agrees" not in text
    gw = result.facts["trade.public.gw_2023_volume"]["text"]
    ours = result.facts["trade.volume_peak_2023"]["text"]
    start = text.index("same number for different things")
    paragraph = text[start:start + 700]
    assert gw in paragraph and f"more than {ours}" in paragraph, paragraph
    for name in ("chapters/exports.html", "chapters/key-findings.html"):
        assert "heavy rare earths only" in page_text(site, name)
        assert "the same figure as the report" not in page_text(site, name)


def test_chipwi_pits_wording_is_recorded_as_ambiguous(site, built):
    _, result = built
    check = result.checks["geo.chipwi.pits_nearly_one_and_a_half_times"]
    assert check["verdict"] == "unverifiable"
    assert "ambiguous" in check["finding"] and "150%" in check["finding"]
    text = page_text(site, "chapters/methodology.html")
    assert "We record it as inconsistent" not in text
    assert "ambiguous (unverifiable), not as inconsistent" in text
    assert "ambiguous" in page_text(site, "chapters/summary.html")


def test_projection_is_stated_per_map_not_for_all(site, built):
    """'All maps are in UTM 47N' was not true of edition 1.1's corridor map."""
    text = page_text(site, "chapters/maps.html")
    assert "All maps are drawn in" not in text
    assert "Maps 1–5 are drawn in UTM zone 47N" in text
    update = page_text(site, "chapters/update-2025.html")
    assert "transverse Mercator" in update and "two UTM zones" in update


def test_export_routes_are_described_once(site):
    text = page_text(site, "chapters/actors.html")
    assert text.count("Phimaw and Kangfang") == 1
    assert "tax revenue" in text


def test_pangwa_capture_month_is_a_reviewer_note_not_one_month(site, built):
    """The report says October 2024 in some passages, November in others."""
    _, result = built
    check = result.checks["actors.pangwa_capture_month"]
    assert check["verdict"] == "unverifiable"
    assert "October 2024" in check["claim"] and "November 2024" in check["claim"]
    update = page_text(site, "chapters/update-2025.html")
    assert "took the Pangwa area from the NDA-K in October 2024" not in update
    start = update.index("Who holds the mining areas")
    section = update[start:start + 900]
    assert "October 2024" in section and "November 2024" in section
    claims = BeautifulSoup((site / "claims.html").read_text(encoding="utf-8"), "html.parser")
    assert claims.find(id="check-actors.pangwa_capture_month") is not None


def test_missing_reviewer_notes_are_recorded(site, built):
    _, result = built
    drugs = result.checks["social.drug_use_source"]
    assert "Indawgyi" in drugs["finding"] and "teenage" in drugs["finding"]
    eaos = result.checks["interviews.eaos_plural_vs_figure_1"]
    assert eaos["verdict"] == "inconsistent"
    assert f"lists {result.facts['interviews.kio_kia']['value']} KIO/KIA" in eaos["finding"]
    assert "check-social.drug_use_source" in (site / "chapters/social-economic.html").read_text(encoding="utf-8")
    assert "check-interviews.eaos_plural_vs_figure_1" in (site / "chapters/methodology.html").read_text(
        encoding="utf-8")
