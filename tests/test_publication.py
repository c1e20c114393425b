"""The published numbers of the mining-sites chapter, read back from the
rendered HTML and the PDF text, equal what the raw data gives and what the
report printed."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

COUP_YEAR = 2021  # the report's split: 2013-2020 pre-coup, 2021-2024 post-coup


@pytest.fixture(scope="module")
def raw(built):
    project, result = built
    sites = pd.read_csv(project.root / "data/raw/mining-sites-per-year.csv")
    stated = pd.read_csv(project.root / "data/raw/report-stated-figures.csv").set_index("key")
    return sites, stated


@pytest.fixture(scope="module")
def chapter_facts(built):
    project, result = built
    html = (result.output_dir / "chapters/mining-expansion.html").read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    printed: dict[str, set[str]] = {}
    for span in soup.select("main .fact"):
        printed.setdefault(span["data-key"], set()).add(span.get_text())
    return printed


@pytest.fixture(scope="module")
def pdf_text(built):
    project, result = built
    reader = PdfReader(result.pdf)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def expected_from_data(sites: pd.DataFrame) -> dict[str, str]:
    """Independent recomputation from the raw table, formatted as printed."""
    pre = sites[sites.year < COUP_YEAR]
    post = sites[sites.year >= COUP_YEAR]
    peak = sites.sort_values("new_sites").iloc[-1]
    return {
        "sites.total": f"{sites.new_sites.sum():,}",
        "pits.total": f"{sites.new_pits.sum():,}",
        "sites.pre_coup": f"{pre.new_sites.sum():,}",
        "sites.post_coup": f"{post.new_sites.sum():,}",
        "pits.pre_coup": f"{pre.new_pits.sum():,}",
        "pits.post_coup": f"{post.new_pits.sum():,}",
        "sites.increase_pct": f"{100 * post.new_sites.sum() / pre.new_sites.sum():.1f}%",
        "pits.increase_pct": f"{100 * post.new_pits.sum() / pre.new_pits.sum():.1f}%",
        "sites.peak_year": str(peak.year),
        "sites.peak_count": f"{peak.new_sites:,}",
        "sites.first_year": str(sites.year.min()),
        "sites.last_year": str(sites.year.max()),
        "sites.years_covered": str(sites.year.max() - sites.year.min() + 1),
    }


def test_every_number_in_the_chapter_equals_the_data(raw, chapter_facts):
    from reprobook.facts import number_words

    sites, _ = raw
    expected = expected_from_data(sites)
    # The prose prints this count in words ("across the twelve years").
    expected["sites.years_covered"] = number_words(int(expected["sites.years_covered"]))
    for key, text in expected.items():
        assert chapter_facts.get(key) == {text}, f"{key}: printed {chapter_facts.get(key)}, data gives {text}"


def test_chapter_prints_the_key_results(chapter_facts):
    for key in ("sites.total", "pits.total", "sites.pre_coup", "sites.post_coup",
                "pits.pre_coup", "pits.post_coup", "sites.increase_pct", "pits.increase_pct",
                "sites.peak_year", "sites.peak_count"):
        assert key in chapter_facts, f"the chapter does not print {key}"


def test_data_reproduces_the_report_as_published(raw):
    """The report's own numbers (371 sites, 2,795 pits, 126 -> +245, 194.4 %...)."""
    sites, stated = raw
    computed = {k: float(v.rstrip("%").replace(",", "")) for k, v in expected_from_data(sites).items()}
    for key, row in stated.iterrows():
        assert computed[key] == pytest.approx(row.value, abs=0.05), f"{key} ({row.location})"


def test_report_numbers_in_the_html_as_the_report_printed_them(chapter_facts, raw):
    _, stated = raw
    assert chapter_facts["sites.total"] == {"371"}
    assert chapter_facts["pits.total"] == {"2,795"}
    assert chapter_facts["sites.increase_pct"] == {f"{stated.loc['sites.increase_pct'].value}%"}


def test_pdf_prints_the_same_numbers(raw, pdf_text):
    sites, _ = raw
    expected = expected_from_data(sites)
    sentence_parts = [
        f"{expected['sites.total']} mining sites and {expected['pits.total']} collection pits",
        f"records {expected['sites.pre_coup']} sites and {expected['pits.pre_coup']} pits",
        f"another {expected['sites.post_coup']} sites and {expected['pits.post_coup']} pits",
        f"grew by {expected['sites.increase_pct']}",
        f"pits by {expected['pits.increase_pct']}",
    ]
    for part in sentence_parts:
        assert part in pdf_text, f"PDF lacks: {part!r}"


def test_figure_csv_is_the_plotted_data(built, raw):
    project, result = built
    sites, _ = raw
    csv = pd.read_csv(result.output_dir / "figures/mining-sites-per-year.csv")
    assert list(csv.iloc[:, 0]) == list(sites.year)
    assert list(csv.new_mining_sites) == list(sites.new_sites)
    assert list(csv.new_collection_pits) == list(sites.new_pits)


def test_table_in_html_matches_data(built, raw):
    project, result = built
    sites, _ = raw
    soup = BeautifulSoup((result.output_dir / "chapters/mining-expansion.html").read_text(), "html.parser")
    table = soup.find("table", id="tbl-sites-per-year")
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
    assert rows[:-1] == [[str(r.year), f"{r.new_sites:,}", f"{r.new_pits:,}"] for r in sites.itertuples()]


def test_table_ends_with_the_reports_total_row(built, raw):
    """Figure 5 of the report ends with 'Total | 371 | 2,795': the table
    prints it, summed from the data, and the sum equals the stated totals."""
    project, result = built
    sites, stated = raw
    soup = BeautifulSoup((result.output_dir / "chapters/mining-expansion.html").read_text(), "html.parser")
    last = soup.find("table", id="tbl-sites-per-year").find("tbody").find_all("tr")[-1]
    total = [td.get_text() for td in last.find_all("td")]
    assert total == ["Total", f"{sites.new_sites.sum():,}", f"{sites.new_pits.sum():,}"]
    assert total[1:] == [f"{stated.loc['sites.total'].value:,.0f}", f"{stated.loc['pits.total'].value:,.0f}"]
    assert result.checks["sites.table_total_row"]["verdict"] == "consistent"


def test_figures_are_numbered_and_referenced(built):
    project, result = built
    soup = BeautifulSoup((result.output_dir / "chapters/mining-expansion.html").read_text(), "html.parser")
    figure = soup.find("figure", id="fig-mining-sites-per-year")
    # Quarto's book numbering: <chapter>.<n-th figure of the chapter>
    chapter = project.chapters.index("chapters/mining-expansion.qmd")  # index.qmd is unnumbered
    position = [f["id"] for f in soup.find_all("figure") if f.get("id", "").startswith("fig-")
                ].index("fig-mining-sites-per-year") + 1
    label = f"Figure {chapter}.{position}"
    assert figure.find("figcaption").get_text().startswith(label + ":")
    assert figure.find("img")["alt"].startswith("Two bar charts")
    link = soup.find("a", class_="xref", href="#fig-mining-sites-per-year")
    assert link is not None and link.get_text() == label
    assert (result.output_dir / "figures/mining-sites-per-year.svg").is_file()


def test_site_has_index_and_chapter_and_pdf(built):
    project, result = built
    assert (result.output_dir / "index.html").is_file()
    assert (result.output_dir / "chapters/mining-expansion.html").is_file()
    assert result.pdf is not None and result.pdf.read_bytes().startswith(b"%PDF")
    assert len(PdfReader(result.pdf).pages) >= 3


def test_consistency_checks_agree_with_the_data(built):
    """The notebook's checks against the report's printed values: every one
    must hold for the year table (the report's section 7 is internally
    consistent)."""
    _, result = built
    checks = {k: v for k, v in result.checks.items() if k.startswith(("stated.sites", "stated.pits",
                                                                       "sites."))}
    assert checks, "no checks were recorded"
    assert {c["verdict"] for c in checks.values()} == {"consistent"}
