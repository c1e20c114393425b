"""The three number rules, over every fact the publication records
(issue 11):

1. A difference, ratio, share or sum of printed numbers is computed from the
   printed values: recomputing it from the operands' printed text and
   rounding it as it is printed gives the printed text. (A range computed
   from the rounding interval of a printed number is allowed when its
   sentence says so.)
2. A floor is never rounded up (and a ceiling never down): a fact that is a
   lower bound prints a number no larger than its value.
3. A source's qualifier is never dropped: wherever a figure the source
   qualifies ("over 371", "nearly 300", "about 15") is printed, its sentence
   says so too.

Every numeric fact must be classified: computed from data without
qualifiers, transcribed from a source row (value equal to the row's), listed
below with the formula that derives it, or a rounding range. A new fact that
is none of these fails the suite until someone says which it is."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}

# The source's qualifier -> words that keep it in an English sentence.
FLOOR = ("over", "more than", "at least", "exceed", "above", "or more", "lower bound", "floor", "upwards of")
CEILING = ("at most", "up to", "upper bound", "no more than", "under", "below")
APPROX = ("about", "around", "approximately", "roughly", "some ", "close to", "nearly", "almost", "circa",
          "approximate")
NEARLY = ("nearly", "almost", "just under", "close to", "approaching")
FAMILY = {"over": FLOOR, "more than": FLOOR, "at least": FLOOR, "exceeding": FLOOR,
          "approximately": APPROX, "about": APPROX, "around": APPROX, "roughly": APPROX,
          "nearly": NEARLY}
FLOOR_QUALIFIERS = {"over", "more than", "at least", "exceeding"}

# Facts derived from other facts: (operands, formula on their printed values).
PCT = 100.0
DERIVED = {
    "actors.area_ratio_low": (["actors.locals_acres_low", "actors.brigade3_reported_acres"], lambda a, b: a / b),
    "actors.area_ratio_high": (["actors.locals_acres_high", "actors.brigade3_reported_acres"], lambda a, b: a / b),
    "geo.chipwi.lupi_langyang_share_pct": (["geo.chipwi.lupi_langyang_sites", "geo.chipwi.sites"],
                                           lambda a, b: PCT * a / b),
    "geo.chipwi.pits_if_one_and_a_half": (["geo.chipwi.pits_es_from", "geo.chipwi.pits_growth_s7_times"],
                                          lambda a, b: a * b),
    "geo.chipwi.pits_increase_pct": (["geo.chipwi.pits_es_to", "geo.chipwi.pits_es_from"],
                                     lambda a, b: PCT * (a - b) / b),
    "geo.chipwi.pits_ratio": (["geo.chipwi.pits_es_to", "geo.chipwi.pits_es_from"], lambda a, b: a / b),
    "geo.chipwi.sites_added": (["geo.chipwi.sites_es_to", "geo.chipwi.sites_es_from"], lambda a, b: a - b),
    "geo.chipwi.sites_ratio": (["geo.chipwi.sites_es_to", "geo.chipwi.sites_es_from"], lambda a, b: a / b),
    "geo.township_pits_sum": (["geo.chipwi.pits", "geo.momauk.pits"], lambda a, b: a + b),
    "geo.township_sites_sum": (["geo.chipwi.sites", "geo.momauk.sites"], lambda a, b: a + b),
    "geo.township_tracts_sum": (["geo.chipwi.village_tracts", "geo.momauk.village_tracts"], lambda a, b: a + b),
    "geo.momauk.sites_share_pct": (["geo.momauk.sites", "geo.sites_total"], lambda a, b: PCT * a / b),
    "townships.chipwi.mining_tract_share_pct": (["townships.chipwi.mining_village_tracts",
                                                 "townships.chipwi.village_tracts"], lambda a, b: PCT * a / b),
    "townships.momauk.mining_tract_share_pct": (["townships.momauk.mining_village_tracts",
                                                 "townships.momauk.village_tracts"], lambda a, b: PCT * a / b),
    "reconciliation.compounds_value_myanmar": (["reconciliation.compounds_value_all",
                                                "reconciliation.compounds_share_pct"], lambda a, b: a * b / PCT),
    "reconciliation.compounds_volume_myanmar": (["reconciliation.compounds_volume_all",
                                                 "reconciliation.compounds_share_pct"], lambda a, b: a * b / PCT),
    "reconciliation.oxides_value_myanmar": (["reconciliation.oxides_value_all", "reconciliation.oxides_share_pct"],
                                            lambda a, b: a * b / PCT),
    "reconciliation.oxides_volume_myanmar": (["reconciliation.oxides_volume_all",
                                              "reconciliation.oxides_share_pct"], lambda a, b: a * b / PCT),
    "reconciliation.gw_vs_oxides_diff": (["reconciliation.oxides_volume_myanmar", "reconciliation.gw_volume_2023"],
                                         lambda a, b: a - b),
    "reconciliation.oxides_part_of_report_pct": (["reconciliation.oxides_volume_myanmar",
                                                  "reconciliation.report_volume_2023"], lambda a, b: PCT * a / b),
    "reconciliation.value_estimate": (["reconciliation.oxides_value_myanmar",
                                       "reconciliation.compounds_value_myanmar"], lambda a, b: a + b),
    "reconciliation.value_residual": (["reconciliation.report_value_2023", "reconciliation.value_estimate"],
                                      lambda a, b: a - b),
    "reconciliation.value_residual_abs": (["reconciliation.report_value_2023", "reconciliation.value_estimate"],
                                          lambda a, b: abs(a - b)),
    "reconciliation.value_residual_pct": (["reconciliation.report_value_2023", "reconciliation.value_estimate"],
                                          lambda a, b: PCT * (a - b) / a),
    "reconciliation.volume_estimate": (["reconciliation.oxides_volume_myanmar",
                                        "reconciliation.compounds_volume_myanmar"], lambda a, b: a + b),
    "reconciliation.volume_residual": (["reconciliation.report_volume_2023", "reconciliation.volume_estimate"],
                                       lambda a, b: a - b),
    "reconciliation.volume_residual_abs": (["reconciliation.report_volume_2023", "reconciliation.volume_estimate"],
                                           lambda a, b: abs(a - b)),
    "reconciliation.volume_residual_pct": (["reconciliation.report_volume_2023", "reconciliation.volume_estimate"],
                                           lambda a, b: PCT * (a - b) / a),
    "trade.value_myanmar_share_pct": (["trade.value_2017_2024", "trade.value_china_total_2017_2024"],
                                      lambda a, b: PCT * a / b),
    "trade.value_other_suppliers_2017_2024": (["trade.value_china_total_2017_2024", "trade.value_2017_2024"],
                                              lambda a, b: a - b),
    "trade.value_parts_sum": (["trade.value_pre_coup", "trade.value_post_coup"], lambda a, b: a + b),
    "trade.value_peak_share_of_post_coup_pct": (["trade.value_peak", "trade.value_post_coup"],
                                                lambda a, b: PCT * a / b),
    "trade.value_post_coup_other_years": (["trade.value_post_coup", "trade.value_peak"], lambda a, b: a - b),
    "trade.value_post_coup_share_of_parts_pct": (["trade.value_post_coup", "trade.value_parts_sum"],
                                                 lambda a, b: PCT * a / b),
    "trade.value_pre_coup_share_of_parts_pct": (["trade.value_pre_coup", "trade.value_parts_sum"],
                                                lambda a, b: PCT * a / b),
    "trade.value_post_coup_share_pct": (["trade.value_post_coup", "trade.value_2017_2024"],
                                        lambda a, b: PCT * a / b),
    "trade.value_post_vs_pre_multiple": (["trade.value_post_coup", "trade.value_pre_coup"], lambda a, b: a / b),
    "trade.value_vs_volume_post_coup_gap_points": (["trade.value_post_coup_share_pct",
                                                    "trade.volume_post_coup_share_pct"], lambda a, b: a - b),
    "trade.volume_2023_needed_for_floor": (["trade.public.reuters_2023_china_total", "trade.volume_share_min_pct"],
                                           lambda a, b: a * b / PCT),
    "trade.volume_myanmar_share_pct": (["trade.volume_myanmar_2017_2024", "trade.volume_china_total_2017_2024"],
                                       lambda a, b: PCT * a / b),
    "trade.volume_other_suppliers_share_pct": (["trade.volume_share_stated_pct"], lambda a: PCT - a),
    "trade.volume_peak_2023_share_of_reuters_pct": (["trade.volume_peak_2023", "trade.public.reuters_2023_china_total"],
                                                    lambda a, b: PCT * a / b),
    "trade.volume_peak_2023_vs_gw": (["trade.volume_peak_2023", "trade.public.gw_2023_volume"], lambda a, b: a / b),
    "trade.volume_post_coup_share_pct": (["trade.volume_post_coup", "trade.volume_myanmar_2017_2024"],
                                         lambda a, b: PCT * a / b),
    "trade.volume_share_gap_points": (["trade.volume_share_stated_pct", "trade.volume_two_thirds_pct"],
                                      lambda a, b: a - b),
    "trade.volume_two_thirds_pct": ([], lambda: PCT * 2 / 3),  # the report's "two-thirds"
    "update.exports_2024_09_12": (["update.exports_2024_09", "update.exports_2024_10_12"], lambda a, b: a + b),
    "update.exports_2024_09_vs_2023_month_pct": (["update.exports_2024_09", "update.report_2023_monthly_floor"],
                                                 lambda a, b: PCT * a / b),
    "update.exports_2024_10_12_monthly": (["update.exports_2024_10_12"], lambda a: a / 3),
    "update.panwa_sites_gap": (["update.report_lupi_langyang_sites", "update.panwa_sites"], lambda a, b: a - b),
    "update.report_2023_monthly_floor": (["update.report_volume_2023"], lambda a: a / 12),
    "update.share_2024_gap_points": (["update.report_share_min_pct", "update.share_2024_pct"], lambda a, b: a - b),
}

# Ends of the interval a rounded number stands for: computed from unrounded
# bounds on purpose, and every sentence printing them says it is rounding.
ROUNDING_RANGES = {
    "trade.value_2017_2024_high", "trade.value_2017_2024_low",
    "trade.value_myanmar_share_high_pct", "trade.value_myanmar_share_low_pct",
    "trade.value_parts_sum_high", "trade.value_parts_sum_low",
    "trade.value_post_coup_share_high_pct", "trade.value_post_coup_share_low_pct",
    "trade.value_post_vs_pre_multiple_high", "trade.value_post_vs_pre_multiple_low",
    "reconciliation.report_value_2023_high", "reconciliation.report_value_2023_low",
    "reconciliation.value_estimate_high", "reconciliation.value_estimate_low",
    "reconciliation.volume_estimate_high", "reconciliation.volume_estimate_low",
}


# ------------------------------------------------------------------ helpers
def parse(text: str) -> tuple[float, float] | None:
    """(number, rounding step) of a printed fact: 'USD 1.25 billion' ->
    (1.25e9, 1e7); '−2,043 tonnes' -> (-2043, 1); 'two' -> (2, 1); 'about
    105,500 tonnes' -> (105500, 100): 'about' announces rounding to the last
    non-zero digit."""
    t = text.replace("\u2212", "-").strip()
    for word, n in WORDS.items():
        if re.fullmatch(rf"(\w+ )*{word}", t.lower()):
            return float(n), 1.0
    m = re.search(r"(-?)\s*(?:USD|CNY)?\s*(\d[\d,]*(?:\.\d+)?)\s*(billion|million)?", t)
    if not m:
        return None
    digits = m.group(2).replace(",", "")
    scale = {"billion": 1e9, "million": 1e6, None: 1.0}[m.group(3)]
    value = float(digits) * scale * (-1 if m.group(1) else 1)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    step = scale * 10 ** -decimals
    if re.match(r"(about|around|roughly|approximately)\b", t.lower()) and decimals == 0:
        step *= 10 ** (len(digits) - len(digits.rstrip("0")))
    return value, step


def source_rows() -> dict[str, dict[str, dict]]:
    """Raw resources that carry a `qualifier` column, by primary key."""
    out = {}
    for path in sorted((ROOT / "data/raw").glob("*.csv")):
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if rows and "qualifier" in rows[0]:
            pk = "key" if "key" in rows[0] else "id"
            out[path.stem] = {r[pk]: r for r in rows}
    return out


def raw_number(text: str) -> float | None:
    m = re.fullmatch(r"\s*([\d,]*\.?\d+)\s*(billion|million)?\s*", text or "")
    if not m:
        return None
    return float(m.group(1).replace(",", "")) * {"billion": 1e9, "million": 1e6, None: 1}[m.group(2)]


def transcribed_qualifiers(fact: dict, sources) -> set[str] | None:
    """The source qualifiers of a fact that transcribes source rows (its value
    equals every row's), or None if it is not a transcription."""
    rows = [(res, key) for res, keys in fact["rows"].items() for key in keys]
    if not rows or any(res not in sources for res, _ in rows):
        return None
    quals = set()
    for res, key in rows:
        row = sources[res][key]
        value = raw_number(row["value"])
        if value is None or not isinstance(fact["value"], (int, float)) or not math.isclose(
                value, fact["value"], rel_tol=1e-9):
            return None
        quals.add((row["qualifier"] or "exact").strip())
    return quals


def is_data_fact(fact: dict, sources) -> bool:
    """Computed from data that carries no qualifiers (year table, interviewee
    list, gazetteer and geodata): it names no source row, or only rows of
    resources without a qualifier column."""
    return all(res not in sources for res in fact["rows"])


def numeric(facts):
    """Facts that print a number: not text, not years (labels), not the
    source's own words quoted ('more than tripled')."""
    return {k: f for k, f in facts.items() if f["unit"] not in ("text", "year")
            and not isinstance(f["value"], str) and parse(f["text"]) is not None}


def test_quoted_wordings_are_the_sources_words(editions, sources):
    """Facts printed as the source's own words carry its qualifier by
    construction: check they are its words."""
    for edition, facts in editions.items():
        for key, fact in facts.items():
            if fact["unit"] in ("text", "year") or isinstance(fact["value"], str) or parse(fact["text"]):
                continue
            rows = [sources[r][k] for r, ks in fact["rows"].items() for k in ks]
            assert rows and all(fact["text"] in (row.get("wording") or row.get("quote") or "") for row in rows), key


def sentences(fact: dict) -> list[str]:
    return [use["sentence"].lower() for use in fact["printed_at"]]


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def editions(built):
    project, _ = built
    out = {}
    for folder in sorted(project.site_dir.iterdir()):
        if (folder / "claims.json").is_file():
            out[folder.name] = json.loads((folder / "claims.json").read_text(encoding="utf-8"))
    assert set(out) >= {"1.0", "1.1"}
    return out


@pytest.fixture(scope="module")
def sources():
    return source_rows()


# ------------------------------------------------------------------ the rules
def test_every_numeric_fact_is_classified(editions, sources):
    for edition, facts in editions.items():
        unclassified = [k for k, f in numeric(facts).items()
                        if k not in DERIVED and k not in ROUNDING_RANGES
                        and transcribed_qualifiers(f, sources) is None and not is_data_fact(f, sources)]
        assert unclassified == [], f"{edition}: say how these are derived (DERIVED or ROUNDING_RANGES)"
    assert not set(DERIVED) & ROUNDING_RANGES


def test_derived_numbers_follow_from_the_printed_operands(editions):
    """Rule 1: recomputed from what the reader sees, rounded as printed."""
    for edition, facts in editions.items():
        for key, (operands, formula) in DERIVED.items():
            if key not in facts:
                continue
            printed, step = parse(facts[key]["text"])
            expected = formula(*(parse(facts[o]["text"])[0] for o in operands))
            # Rounded half away from zero to the printed step.
            rounded = math.copysign(math.floor(abs(expected) / step + 0.5 + 1e-9) * step, expected)
            says_unrounded = all("unrounded" in s for s in sentences(facts[key]))
            assert math.isclose(rounded, printed, rel_tol=1e-9, abs_tol=step * 1e-6) or says_unrounded, (
                f"{edition} {key}: prints {facts[key]['text']!r}, the printed operands give {expected:,.4f}")


def test_rounding_ranges_say_they_are_rounding(editions):
    for edition, facts in editions.items():
        for key in ROUNDING_RANGES & set(facts):
            for s in sentences(facts[key]):
                assert "round" in s, f"{edition} {key}: {s!r} does not say it is a rounding range"


def test_floors_are_never_rounded_up(editions, sources):
    """Rule 2 (and its mirror for ceilings)."""
    checked = 0
    for edition, facts in editions.items():
        for key, fact in numeric(facts).items():
            quals = transcribed_qualifiers(fact, sources) or set()
            floor = "(lower bound)" in fact["unit"] or (quals and quals <= FLOOR_QUALIFIERS)
            ceiling = "(upper bound)" in fact["unit"]
            if not (floor or ceiling):
                continue
            checked += 1
            printed, _ = parse(fact["text"])
            if floor:
                assert printed <= fact["value"] + 1e-9, f"{edition} {key}: floor {fact['value']} printed as {fact['text']!r}"
            else:
                assert printed >= fact["value"] - 1e-9, f"{edition} {key}: ceiling {fact['value']} printed as {fact['text']!r}"
    assert checked > 20


def test_floor_values_are_not_pre_rounded(editions):
    """A derived floor keeps its unrounded value, so the check above can bite:
    e.g. over 70,000 t / 12 months is 5,833.3 t, printed 5,833 (not 5,834)."""
    facts = editions["1.1"]
    assert facts["update.report_2023_monthly_floor"]["value"] == pytest.approx(70_000 / 12)
    assert parse(facts["update.report_2023_monthly_floor"]["text"])[0] == 5833


def test_source_qualifiers_are_kept_where_printed(editions, sources):
    """Rule 3: a figure the source qualifies carries the qualifier (or one of
    the same sense) in its sentence; so does a derived lower bound."""
    checked = 0
    for edition, facts in editions.items():
        for key, fact in numeric(facts).items():
            quals = (transcribed_qualifiers(fact, sources) or set()) - {"exact", ""}
            words = set()
            for q in quals:
                words |= set(FAMILY.get(q, ()))
            if "(lower bound)" in fact["unit"]:
                words |= set(FLOOR)
            if not words:
                continue
            for use in fact["printed_at"]:
                checked += 1
                s = use["sentence"].lower().replace("\u2019", "'")
                assert any(w in s for w in words) or any(w in fact["text"].lower() for w in words), (
                    f"{edition} {key} ({'/'.join(sorted(quals)) or 'lower bound'}) printed without its qualifier "
                    f"on {use['page']}: {use['sentence']!r}")
    assert checked > 30


def test_parse_reads_printed_numbers():
    assert parse("USD 1.25 billion") == (1.25e9, pytest.approx(1e7))
    assert parse("\u2212USD 98 million") == (-98e6, 1e6)
    assert parse("about 105,500 tonnes") == (105500, 100)
    assert parse("two") == (2, 1)
    assert parse("5.4 times") == (5.4, pytest.approx(0.1))


def test_map_3_keeps_the_captions_over_371(built, editions):
    """The issue's example: the report's Map 3 says 'from 126 to over 371'.
    The map and its text print the year table's exact 371 as the table's,
    and the caption's figure with its 'over'."""
    import pandas as pd

    project, _ = built
    table = pd.read_csv(project.root / "data/raw/mining-sites-per-year.csv")
    for edition, facts in editions.items():
        assert facts["maps.coup_sites_total"]["text"] == f"{table.new_sites.sum():,}"
        assert facts["maps.coup_caption_sites_after"]["text"] == "over 371"
        assert facts["maps.coup_title_sites_added"]["text"] == "over 245"
        assert "over 371" in facts["maps.alt_coup"]["text"]
        pages = {u["page"] for u in facts["maps.coup_caption_sites_after"]["printed_at"]}
        assert "chapters/methodology.html" in pages
        plotted = pd.read_csv(project.site_dir / edition / "figures/map-3-before-after-coup.csv")
        caption = plotted[plotted.role.str.contains("caption", na=False)]
        assert list(zip(caption.reported_sites, caption.qualifier)) == [(371, "over")]
