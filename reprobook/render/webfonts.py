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


def _needs_font(code: int) -> bool:
    """Characters worth a web font: not Latin, Greek or general punctuation,
    which every reader's system fonts draw (zero-width joiners and the
    dotted circle go with complex scripts, so they stay)."""
    if code in (0x200B, 0x200C, 0x200D, 0x25CC):
        return True
    return not (code < 0x0370 or 0x2000 <= code <= 0x206F or 0x20A0 <= code <= 0x22FF)


def subset_fonts(folder: Path, assets: Path, text: str) -> None:
    """Cut each served font down to the characters the site prints that
    system fonts may lack (with every OpenType layout feature, so complex
    scripts still shape), and restrict its unicode-range to them: a reader
    downloads a few kilobytes, and only on pages that need them. The PDF
    embeds the fonts from the project's fonts/ folder, untouched."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    css = assets / "fonts.css"
    if not folder.is_dir() or not css.is_file():
        return
    used = {ord(c) for c in set(text)}  # set() first: the text is the whole site
    rules = ["/* Fonts shipped with the project, cut down to the characters this site\n"
             "   prints; the full fonts and their licences are in the project's fonts/. */\n"]
    from .. import memo

    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FONT_SUFFIXES):
        (assets / "fonts" / path.name).unlink(missing_ok=True)
        font = TTFont(path, recalcTimestamp=False)
        keep = sorted(c for c in used if c in font.getBestCmap() and _needs_font(c))
        if not keep:
            continue

        def cut(font=font, keep=keep) -> bytes:
            if "fvar" in font:  # one regular instance: a fraction of the variable font's size
                from fontTools.varLib import instancer

                axes = {a.axisTag: a.defaultValue for a in font["fvar"].axes}
                axes.update({k: v for k, v in (("wght", 400), ("wdth", 100)) if k in axes})
                font = instancer.instantiateVariableFont(font, axes)
            options = subset.Options()
            options.layout_features = ["*"]
            options.name_IDs = ["*"]
            options.name_languages = ["*"]
            options.notdef_outline = True
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=keep)
            subsetter.subset(font)
            font.flavor = "woff"
            import io

            out = io.BytesIO()
            font.save(out)
            return out.getvalue()

        import fontTools

        served = assets / "fonts" / (path.stem + ".woff")
        served.write_bytes(memo.cached("font-subset", memo.key(
            fontTools.version, path, ",".join(map(str, keep))), cut))
        rules.append(font_face(served, f"fonts/{served.name}"))
    css.write_text("\n".join(rules), encoding="utf-8")
