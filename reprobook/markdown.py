"""Escaping text for Markdown, shared by the facts (printed in prose) and
the Step's tables (cells from data): what a value must never be read as."""

from __future__ import annotations

import re

# Quotes too: escaped, pandoc prints them straight, as the fact records them
# (its smart typography would curl N'Mai into N’Mai).
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!$<>|~^@'\"])")


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
