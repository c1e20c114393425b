"""Serve the project's own fonts (fonts/) from the website itself: copy them
with their licence texts into the site and describe each with an
@font-face rule, so a reader without, say, a Myanmar font still sees the
text. Nothing is loaded from another host."""

from __future__ import annotations

import shutil
from pathlib import Path

FONT_SUFFIXES = {".ttf": "truetype", ".otf": "opentype", ".woff": "woff", ".woff2": "woff2"}
LICENCE_SUFFIXES = {".txt", ".md"}


def _ranges(codepoints: list[int]) -> str:
    """Codepoints as a CSS unicode-range (U+20-7E, U+1000-109F, ...)."""
    parts: list[str] = []
    start = prev = None
    for code in sorted(codepoints):
        if start is None:
            start = prev = code
        elif code == prev + 1:
            prev = code
        else:
            parts.append(_range(start, prev))
            start = prev = code
    if start is not None:
        parts.append(_range(start, prev))
    return ", ".join(parts)


def _range(lo: int, hi: int) -> str:
    return f"U+{lo:X}" if lo == hi else f"U+{lo:X}-{hi:X}"


def font_face(path: Path, url: str) -> str:
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    family = font["name"].getBestFamilyName()
    axes = {a.axisTag: a for a in font["fvar"].axes} if "fvar" in font else {}
    if "wght" in axes:
        weight = f"{axes['wght'].minValue:g} {axes['wght'].maxValue:g}"
    else:
        weight = str(font["OS/2"].usWeightClass) if "OS/2" in font else "400"
    italic = "head" in font and bool(font["head"].macStyle & 0b10)
    lines = [f'  font-family: "{family}";',
             f'  src: url("{url}") format("{FONT_SUFFIXES[path.suffix.lower()]}");',
             f"  font-weight: {weight};",
             f"  font-style: {'italic' if italic else 'normal'};"]
    if "wdth" in axes:
        lines.append(f"  font-stretch: {axes['wdth'].minValue:g}% {axes['wdth'].maxValue:g}%;")
    lines += ["  font-display: swap;",
              f"  unicode-range: {_ranges(list(font.getBestCmap()))};"]
    return "@font-face {\n" + "\n".join(lines) + "\n}\n"


def publish_fonts(folder: Path, assets: Path) -> str | None:
    """Copy fonts and licences from `folder` to assets/fonts/ and write
    assets/fonts.css; returns the stylesheet's name, or None without fonts."""
    if not folder.is_dir():
        return None
    fonts = sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES)
    if not fonts:
        return None
    dest = assets / "fonts"
    dest.mkdir(parents=True, exist_ok=True)
    rules = ["/* Fonts shipped with the project; licences beside them in fonts/. */\n"]
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in FONT_SUFFIXES or path.suffix.lower() in LICENCE_SUFFIXES:
            shutil.copy2(path, dest / path.name)
    for path in fonts:
        rules.append(font_face(path, f"fonts/{path.name}"))
    (assets / "fonts.css").write_text("\n".join(rules), encoding="utf-8")
    return "fonts.css"
