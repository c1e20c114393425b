"""Quarto shortcodes, resolved before pandoc sees the text (pandoc does not
know them). Supported: `{{< var key >}}` and `{{< include file >}}`; any
other shortcode stops the build with the file and line, rather than leaking
into the output."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import RenderError

SHORTCODE = re.compile(r"\{\{<\s*(\w+)\s*([^>]*?)\s*>\}\}")
# Printed facts become links to their claims-ledger entry; the renderer
# resolves this pseudo-scheme per page (and drops the link in the PDF).
CLAIM_SCHEME = "reprobook-claim:"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!$<>|~^@])")


def escape_markdown(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)


# What a table cell from data must not be read as: every Markdown special
# above, plus `&` (an entity such as `&lt;` would be decoded, not printed).
CELL_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!$<>|~^@&])")


def escape_cell(value) -> str:
    """Text from data, printed literally in one cell of a Markdown pipe table:
    every Markdown special (raw HTML `<`, links, emphasis, `|`, shortcode
    braces) is backslash-escaped, so pandoc reads it as plain characters and
    `{{<` can never become a shortcode; a line break would end the row, so it
    becomes a space."""
    text = " ".join(str(value).splitlines())
    return CELL_SPECIAL.sub(r"\\\1", text)


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def expand_includes(text: str, source: Path, label: str, depth: int = 0) -> str:
    """Quarto's include: the file's text replaces the shortcode, paths being
    relative to the including file."""
    if depth > 5:
        raise RenderError(f"{label}: includes nested more than 5 deep")

    def replace(match: re.Match) -> str:
        if match.group(1) != "include":
            return match.group(0)
        target = (source.parent / match.group(2).strip()).resolve()
        if not target.is_file():
            raise RenderError(f"{label}:{_line(text, match.start())}: included file "
                              f"{match.group(2).strip()} does not exist")
        return expand_includes(target.read_text(encoding="utf-8"), target, label, depth + 1)

    return SHORTCODE.sub(replace, text)


def substitute(text: str, facts: dict[str, dict], source: str) -> tuple[str, list[str]]:
    """Replace each `{{< var key >}}` with the fact's text. In running text it
    becomes a link to its claims-ledger entry carrying the key
    (`<a class="fact" data-key=...>` in HTML) so every printed number can be
    traced; inside an attribute value
    (`fig-alt="{{< var k >}}"`) it is plain text. Returns the new text and the
    keys used, in order."""
    used: list[str] = []

    def replace(match: re.Match) -> str:
        name, args = match.group(1), match.group(2).strip()
        line = _line(text, match.start())
        if name != "var":
            raise RenderError(f"{source}:{line}: shortcode '{name}' is not supported by the "
                              "built-in renderer (only 'var' and 'include'); see docs/quarto-subset.md")
        if args not in facts:
            raise RenderError(f"{source}:{line}: unknown fact '{args}' in {{{{< var {args} >}}}}")
        used.append(args)
        value = facts[args]["text"]
        if _inside_attribute(text, match.start()):
            return value.replace("\\", "\\\\").replace('"', '\\"')
        return f'[{escape_markdown(value)}]({CLAIM_SCHEME}{args}){{.fact data-key="{args}"}}'

    return SHORTCODE.sub(replace, text), used


def _inside_attribute(text: str, pos: int) -> bool:
    """True when `pos` sits inside a quoted attribute value such as
    fig-alt="...": an open `{` precedes an unclosed `="` on the same line."""
    start = text.rfind("\n", 0, pos) + 1
    segment = text[start:pos]
    quote = segment.rfind('="')
    if quote == -1 or segment.count('"', quote + 2) % 2:
        return False
    before = segment[:quote]
    return before.rfind("{") > before.rfind("}")
