"""The bibliography: every source of the report is listed on the References
page, Burmese titles are marked as Burmese in HTML, and the PDF carries a
font that can draw them. (Text extracted from a PDF in Myanmar script comes
out reordered and incomplete, so the PDF is checked through its fonts.)"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from reprobook.render.scripts import SCRIPT_LANGUAGES, language_of, mark_languages

ROOT = Path(__file__).resolve().parent.parent
REFERENCES = json.loads((ROOT / "references.json").read_text(encoding="utf-8"))
MYANMAR = dict(SCRIPT_LANGUAGES)["my"]

# The report's section 13, plus the report itself.
EXPECTED_KEYS = {
    "bbc2019", "bontron2012", "globalwitness2022", "interview-kachin-csos2025",
    "interview-chipwi2025", "interview-momauk2025", "meiti2022", "moonmoonpan2019",
    "mnj2022", "mnj2023", "rfa2023", "isp2025",
}


def is_myanmar(char: str) -> bool:
    return any(lo <= ord(char) <= hi for lo, hi in MYANMAR)


def myanmar_chars(text: str) -> set[str]:
    return {c for c in text if is_myanmar(c)}


BURMESE = [r for r in REFERENCES if myanmar_chars(r.get("title", ""))]
USED = set().union(*(myanmar_chars(json.dumps(r, ensure_ascii=False)) for r in REFERENCES))


# ------------------------------------------------------------ the data
def test_references_json_has_every_source_of_the_report():
    keys = [r["id"] for r in REFERENCES]
    assert len(keys) == len(set(keys)), "duplicate ids"
    assert set(keys) == EXPECTED_KEYS


def test_burmese_entries_are_tagged_and_translated():
    assert {r["id"] for r in BURMESE} == {"bbc2019", "moonmoonpan2019", "mnj2022",
                                          "mnj2023", "rfa2023"}
    for ref in BURMESE:
        assert ref["language"] == "my", ref["id"]
        # English rendering in brackets after the Myanmar-script title
        assert re.search(r"\[[A-Z][^\]]+\]$", ref["title"]), ref["id"]


def test_urls_have_no_line_break_debris():
    for ref in REFERENCES:
        if "URL" in ref:
            assert re.fullmatch(r"https://[^\s]+", ref["URL"]), ref["id"]
            assert not re.search(r"%(?![0-9A-F]{2})", ref["URL"]), ref["id"]


# ------------------------------------------------------------ HTML
def _page(root: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((root / name).read_text(encoding="utf-8"), "html.parser")


def test_references_page_lists_every_entry(built_site):
    refs = _page(built_site, "chapters/references.html").find(id="refs")
    assert refs is not None
    listed = {div["id"].removeprefix("ref-") for div in refs.find_all(class_="csl-entry")}
    assert listed == EXPECTED_KEYS


def test_only_the_references_page_has_a_reference_list(built_site):
    site = built_site
    pages = [p for p in site.rglob("*.html") if p.name != "references.html"]
    assert pages
    for page in pages:
        assert 'id="refs"' not in page.read_text(encoding="utf-8"), page


def test_citations_link_to_the_references_page(built_site):
    soup = _page(built_site, "index.html")
    links = [a["href"] for a in soup.select("span.citation a")]
    assert "chapters/references.html#ref-isp2025" in links
    refs = _page(built_site, "chapters/references.html")
    for href in links:
        assert refs.find(id=href.split("#")[1]) is not None, href


def test_burmese_titles_are_inside_lang_my(built_site):
    refs = _page(built_site, "chapters/references.html").find(id="refs")
    for ref in BURMESE:
        entry = refs.find(id=f"ref-{ref['id']}")
        burmese_title = ref["title"].split(" [")[0]
        spans = [s.get_text() for s in entry.find_all(attrs={"lang": "my"})]
        assert burmese_title in spans, ref["id"]
        for text in entry.find_all(string=True):
            if myanmar_chars(text):
                assert text.find_parent(attrs={"lang": "my"}) is not None, (ref["id"], text)


def test_site_serves_a_myanmar_font_from_itself(built_site):
    assets = built_site / "assets"
    css = (assets / "fonts.css").read_text(encoding="utf-8")
    assert '"Noto Sans Myanmar"' in css
    urls = re.findall(r'url\("([^"]+)"\)', css)
    assert urls and all(not u.startswith(("http:", "https:", "//")) for u in urls)
    for url in urls:
        assert (assets / url).is_file(), url
    assert list((assets / "fonts").glob("OFL*")), "the font licence travels with the font"
    page = (built_site / "chapters" / "references.html").read_text(encoding="utf-8")
    assert "assets/fonts.css" in page


# ------------------------------------------------------------ PDF
def _pdf_fonts(pdf: Path) -> dict[str, dict]:
    """BaseFont name without the subset tag -> font dictionary, for every
    font used on any page."""
    fonts: dict[str, dict] = {}
    for page in PdfReader(pdf).pages:
        resources = page["/Resources"].get_object()
        for ref in resources.get("/Font", {}).values():
            font = ref.get_object()
            fonts[str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]] = font
    return fonts


def _tounicode_chars(font: dict) -> set[str]:
    if "/ToUnicode" not in font:
        return set()
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    chars: set[str] = set()
    for block in re.findall(r"beginbf(?:char|range)(.*?)endbf(?:char|range)", cmap, re.S):
        for hexa in re.findall(r"<([0-9A-Fa-f]{4,})>\s*(?:\[)?\s*<([0-9A-Fa-f]+)>", block):
            chars |= set(bytes.fromhex(hexa[1]).decode("utf-16-be", "replace"))
    return chars


def _project_myanmar_font() -> tuple[Path, TTFont]:
    for path in sorted((ROOT / "fonts").iterdir()):
        if path.suffix.lower() in (".ttf", ".otf"):
            font = TTFont(path, lazy=True)
            cmap = font.getBestCmap()
            if any(ord(c) in cmap for c in USED):
                return path, font
    pytest.fail("no font in fonts/ covers Myanmar script")


def test_project_font_covers_every_myanmar_character_used():
    assert USED, "references.json has Burmese titles"
    path, font = _project_myanmar_font()
    cmap = font.getBestCmap()
    missing = sorted(f"U+{ord(c):04X}" for c in USED if ord(c) not in cmap)
    assert not missing, f"{path.name} lacks {missing}"


def test_pdf_embeds_that_font_and_draws_burmese_only_with_it(built_site):
    _, font = _project_myanmar_font()
    postscript = font["name"].getDebugName(6)
    fonts = _pdf_fonts(next(built_site.glob("*.pdf")))
    assert postscript in fonts, f"{postscript} not embedded; fonts: {sorted(fonts)}"
    embedded = fonts[postscript]
    descendant = embedded["/DescendantFonts"][0].get_object()
    descriptor = descendant["/FontDescriptor"].get_object()
    program = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
    assert program["maxp"].numGlyphs > 1  # a real subset, not just .notdef
    # The Myanmar font is used for Myanmar text, and no other font (where
    # a missing glyph would print as a box) is.
    assert myanmar_chars("".join(_tounicode_chars(embedded)))
    for name, other in fonts.items():
        if name != postscript:
            assert not myanmar_chars("".join(_tounicode_chars(other))), name


# ------------------------------------------------------------ unit
def test_mark_languages_wraps_runs_once_and_leaves_markup_alone():
    page = ('<html lang="en"><head><title>ကချင်</title></head><body>'
            '<p>BBC. ကချင်မှာ KIA မှ [New] <a title="ကချင်" href="#">ကချင်</a></p>'
            '<p lang="my">ကချင် <b>မှာ</b></p><!-- ကချင် --></body></html>')
    out = mark_languages(page)
    assert '<title>ကချင်</title>' in out
    assert '<span lang="my">ကချင်မှာ KIA မှ</span> [New]' in out
    assert 'title="ကချင်"' in out
    assert '<a title="ကချင်" href="#"><span lang="my">ကချင်</span></a>' in out
    assert '<p lang="my">ကချင် <b>မှာ</b></p>' in out
    assert "<!-- ကချင် -->" in out
    assert mark_languages(out) == out


def test_language_table_covers_the_myanmar_blocks():
    for code in (0x1000, 0x109F, 0xAA60, 0xAA7F, 0xA9E0, 0xA9FF):
        assert language_of(chr(code)) == "my"
    assert language_of("a") is None
