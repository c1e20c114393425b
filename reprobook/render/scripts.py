"""Mark text in non-Latin scripts with its language, so browsers pick the
right font, line breaking and screen-reader voice (a page in English that
quotes a Burmese title should say so: `<span lang="my">…</span>`).

Add a script by adding a row to SCRIPT_LANGUAGES; nothing else changes.
"""

from __future__ import annotations

import re

# (language tag, Unicode ranges of the script's characters)
SCRIPT_LANGUAGES: list[tuple[str, tuple[tuple[int, int], ...]]] = [
    ("my", ((0x1000, 0x109F),   # Myanmar
            (0xAA60, 0xAA7F),   # Myanmar Extended-A
            (0xA9E0, 0xA9FF))), # Myanmar Extended-B
]

# Elements whose text must stay plain text (no markup allowed inside).
_RAW_TEXT = {"script", "style", "title", "textarea", "option", "head"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "param", "source", "track", "wbr"}
_TOKEN = re.compile(r"<!--.*?-->|<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_LANG_ATTR = re.compile(r"""(?<![\w-])lang\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


def _run_pattern(ranges: tuple[tuple[int, int], ...]) -> re.Pattern:
    """A run of the script's characters. Spaces, zero-width joiners and up to
    two Latin words or numbers between two such characters stay inside the
    run (an acronym such as "KIA" inside a Burmese title is part of it)."""
    chars = f"[{_class(ranges)}]"
    gap = r"[ \u00a0\u200b-\u200d]+"
    return re.compile(f"{chars}+(?:{gap}(?:[A-Za-z0-9]+{gap}){{0,2}}{chars}+)*")


_PATTERNS = [(lang, _run_pattern(ranges)) for lang, ranges in SCRIPT_LANGUAGES]


def language_of(char: str) -> str | None:
    """The language tag SCRIPT_LANGUAGES gives a character, or None."""
    code = ord(char)
    for lang, ranges in SCRIPT_LANGUAGES:
        if any(lo <= code <= hi for lo, hi in ranges):
            return lang
    return None


def _covered(inherited: str, lang: str) -> bool:
    inherited = inherited.lower()
    return inherited == lang or inherited.startswith(lang + "-")


def _mark_text(text: str, inherited: str) -> str:
    for lang, pattern in _PATTERNS:
        if _covered(inherited, lang):
            continue
        text = pattern.sub(lambda m, lang=lang: f'<span lang="{lang}">{m.group(0)}</span>', text)
    return text


def mark_languages(page: str) -> str:
    """Wrap every run of a SCRIPT_LANGUAGES script in `<span lang=..>` unless
    an enclosing element already declares that language. Works on the
    well-formed HTML pandoc and the page template produce. Reused from the
    build's cache for an unchanged page."""
    from pathlib import Path

    from .. import memo

    return memo.cached("languages", memo.key(Path(__file__), page),
                       lambda: _mark_languages(page).encode("utf-8")).decode("utf-8")


def _mark_languages(page: str) -> str:
    if not any(pattern.search(page) for _, pattern in _PATTERNS):
        return page  # nothing to mark (most pages): skip the walk over every tag
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag, language in force inside it)
    raw_depth = 0
    pos = 0
    for token in _TOKEN.finditer(page):
        text = page[pos:token.start()]
        if text:
            out.append(text if raw_depth else _mark_text(text, stack[-1][1] if stack else ""))
        pos = token.end()
        tag_text = token.group(0)
        out.append(tag_text)
        match = _TAG.match(tag_text)
        if not match:
            continue  # comment, doctype
        closing, name = match.group(1) == "/", match.group(2).lower()
        if closing:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name:
                    del stack[depth:]
                    break
            if name in _RAW_TEXT:
                raw_depth = max(0, raw_depth - 1)
            continue
        if name in _VOID or tag_text.rstrip(">").rstrip().endswith("/"):
            continue
        lang_match = _LANG_ATTR.search(tag_text[match.end():])
        lang = next((g for g in lang_match.groups() if g is not None), "") if lang_match else None
        stack.append((name, lang if lang is not None else (stack[-1][1] if stack else "")))
        if name in _RAW_TEXT:
            raw_depth += 1
    tail = page[pos:]
    if tail:
        out.append(tail if raw_depth else _mark_text(tail, stack[-1][1] if stack else ""))
    return "".join(out)
