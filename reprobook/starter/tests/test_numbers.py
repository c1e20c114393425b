"""The published numbers, checked against the data they come from.
Run `reprobook build`, then `pytest`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "data" / "raw" / "library-visits.csv"


@pytest.fixture(scope="module")
def edition() -> Path:
    """The newest edition's folder of the published site."""
    registry = yaml.safe_load((ROOT / "editions.yml").read_text(encoding="utf-8"))["editions"]
    folder = ROOT / "_site" / str(registry[-1]["number"])
    if not (folder / "facts.json").is_file():
        pytest.fail(f"no published site in {folder}: run `reprobook build` first")
    return folder


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(CSV, dtype={"month": str})


def page_text(path: Path) -> str:
    return " ".join(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text().split())


def test_facts_match_the_data(edition, data):
    facts = json.loads((edition / "facts.json").read_text(encoding="utf-8"))
    assert facts["visits.total"]["value"] == data.visits.sum()
    assert facts["visits.months"]["value"] == len(data)
    assert facts["events.total"]["value"] == data.events.sum()
    assert facts["visits.busiest"]["value"] == data.visits.max()
    assert round(facts["visits.monthly_mean"]["value"], 6) == round(data.visits.mean(), 6)


def test_the_chapter_prints_the_numbers(edition, data):
    text = page_text(edition / "chapters" / "visits.html")
    busiest = data.loc[data.visits.idxmax()]
    month = pd.Timestamp(busiest.month + "-01").month_name()
    assert f"recorded {data.visits.sum():,} visits over twelve months" in text
    assert f"busiest month was {month}, with {busiest.visits:,} visits" in text
    assert f"{data.visits.mean():,.0f} in an average month" in text
