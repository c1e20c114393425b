"""Quarto shortcodes, resolved before pandoc sees the text (pandoc does not
know them). Supported: `{{< fact key >}}` (the engine's Quarto extension,
_extensions/reprobook), `{{< var key >}}` and `{{< include file >}}`; any
other shortcode stops the build with the file and line, rather than leaking
into the output."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import BuildError, RenderError, did_you_mean
from ..facts import FORMATS, formatted
from ..markdown import escape_markdown
from ..project import Project, find_root
from .profiles import active_profiles, blank_other_profiles

SHORTCODE = re.compile(r"\{\{<\s*(\w+)\s*([^>]*?)\s*>\}\}")
# Printed facts become links to their claims-ledger entry; the renderer
# resolves this pseudo-scheme per page (and drops the link in the PDF).
CLAIM_SCHEME = "reprobook-claim:"
# Generated from data by the notebooks: included as text, never as source.
GENERATED_DIR = "figures"
def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# What one {{< include >}} may bring into a page: a table printed in a
# chapter, not a data set.
MAX_INCLUDE_LINES = 5_000
MAX_INCLUDE_BYTES = 2_000_000


def read_source(path: Path, label: str) -> str:
    """A chapter or included file as text, or a RenderError naming the line
    and byte that is not UTF-8 (instead of a UnicodeDecodeError traceback)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RenderError(f"{label}:{line}: is not valid UTF-8 (byte {data[exc.start:exc.start + 1]!r}); "
                          "save the file as UTF-8 in your editor") from None


def expand_includes(text: str, source: Path, label: str, depth: int = 0,
                    root: Path | None = None) -> str:
    """Quarto's include: the file's text replaces the shortcode, paths being
    relative to the including file.

    Only files that resolve (symlinks followed) inside the project root are
    included. Files under figures/ are generated from data, so their text is
    made inert: nothing in it is read as a shortcode (no include, no var)."""
    if depth > 5:
        raise RenderError(f"{label}: includes nested more than 5 deep")
    if root is None:
        root = find_root(source.parent)
    root = root.resolve()
    generated = root / GENERATED_DIR

    def replace(match: re.Match) -> str:
        if match.group(1) != "include":
            return match.group(0)
        name = match.group(2).strip()
        where = f"{label}:{_line(text, match.start())}"
        target = (source.parent / name).resolve()
        if not target.is_relative_to(root):
            raise RenderError(f"{where}: included file {name} resolves to {target}, outside the "
                              "project; only files inside the project can be included")
        if not target.is_file():
            raise RenderError(f"{where}: included file {name} does not exist")
        size = target.stat().st_size
        included = read_source(target, name) if size <= MAX_INCLUDE_BYTES else ""
        lines = included.count("\n")
        if size > MAX_INCLUDE_BYTES or lines > MAX_INCLUDE_LINES:
            # pandoc's memory grows with a table's cells: a 1,000,000-row
            # table passed 14 GB without finishing
            raise RenderError(
                f"{where}: included file {name} is too long to print in a page "
                f"({size:,} bytes, {lines:,} lines; at most {MAX_INCLUDE_BYTES:,} bytes and "
                f"{MAX_INCLUDE_LINES:,} lines): print a summary (the first rows, or totals) "
                "and link the whole table as a CSV download")
        if target.is_relative_to(generated):
            return inert(included)
        return expand_includes(included, target, label, depth + 1, root)

    return SHORTCODE.sub(replace, text)


FACT_SHORTCODES = ("fact", "var")


def fact_args(name: str, args: str, where: str) -> tuple[str, str | None]:
    """The key and print format of a `{{< fact key [fmt=words] >}}` (or a
    `{{< var key >}}`, which takes no format: Quarto prints var itself)."""

    parts = args.split()
    key, fmt = (parts[0] if parts else ""), None
    for part in parts[1:]:
        option, _, value = part.partition("=")
        value = value.strip("\"'")
        if name != "fact" or option != "fmt" or value not in FORMATS:
            raise RenderError(f"{where}: '{part}' is not an option of {{{{< {name} >}}}} "
                              f"(a fact takes fmt={' or fmt='.join(FORMATS)})")
        fmt = value
    return key, fmt


def inert(text: str) -> str:
    """Text in which no shortcode can match: `{{<` becomes `{{\\<`, which
    pandoc prints as `{{<`."""
    return text.replace("{{<", "{{\\<")


def substitute(text: str, facts: dict[str, dict], source: str) -> tuple[str, list[str]]:
    """Replace each `{{< fact key >}}` and `{{< var key >}}` with the fact's
    text. `fact` in running text becomes a link to its claims-ledger entry
    carrying the key (`<a class="fact" data-key=...>` in HTML) so every
    printed number can be traced, as the extension's shortcode does under
    Quarto; `var` is plain text, as Quarto prints it. Inside an attribute
    value (`fig-alt="{{< var k >}}"`) both are plain text. Returns the new
    text and the keys used, in order."""
    used: list[str] = []

    def replace(match: re.Match) -> str:
        name, args = match.group(1), match.group(2).strip()
        line = _line(text, match.start())
        if name not in FACT_SHORTCODES:
            raise RenderError(f"{source}:{line}: shortcode '{name}' is not supported by the "
                              "built-in renderer (only 'fact', 'var' and 'include'); "
                              "see docs/quarto-subset.md")
        key, fmt = fact_args(name, args, f"{source}:{line}")
        if key not in facts:
            raise RenderError(f"{source}:{line}: unknown fact '{key}' in "
                              f"{{{{< {name} {key} >}}}}{did_you_mean(key, facts)}")
        value = formatted(facts[key], fmt)
        if value is None:
            raise RenderError(f"{source}:{line}: fact '{key}' cannot be printed with fmt={fmt} "
                              f"(value {facts[key]['value']!r})")
        used.append(key)
        args = key
        if _inside_attribute(text, match.start()):
            return value.replace("\\", "\\\\").replace('"', '\\"')
        if name == "var":
            return escape_markdown(value)
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


def chapter_fact_uses(project: Project) -> list[tuple[str, int, str, str | None]]:
    """(chapter, line, key, print format) for every `{{< fact key >}}` and
    `{{< var key >}}` the chapters use."""
    uses = []
    profiles = active_profiles(project)
    for chapter in project.chapters:
        path = project.root / chapter
        # text meant for another edition (when-profile) uses that edition's facts
        text = blank_other_profiles(
            expand_includes(read_source(path, chapter), path, chapter), profiles)
        for m in SHORTCODE.finditer(text):
            if m.group(1) in FACT_SHORTCODES:
                line = text.count("\n", 0, m.start()) + 1
                key, fmt = fact_args(m.group(1), m.group(2).strip(), f"{chapter}:{line}")
                uses.append((chapter, line, key, fmt))
    return uses


def check_facts_resolve(project: Project, facts: dict[str, dict]) -> None:
    """Every fact the chapters print exists and has the print format asked:
    all problems in one message, before anything is rendered."""
    uses = chapter_fact_uses(project)
    missing = [f"  - {c}:{line}: unknown fact '{k}'{did_you_mean(k, facts)}"
               for c, line, k, _ in uses if k not in facts]
    if missing:
        raise BuildError("chapters use facts no notebook records:\n" + "\n".join(missing)
                         + "\n(a notebook records one with step.fact(\"key\", value, unit=...))")
    unprintable = [f"  - {c}:{line}: fact '{k}' (value {facts[k]['value']!r}) has no fmt={fmt} form"
                   for c, line, k, fmt in uses if fmt is not None and formatted(facts[k], fmt) is None]
    if unprintable:
        raise BuildError("chapters ask for a print format a fact does not have (fmt=words takes a "
                         "whole number from 0 to 99):\n" + "\n".join(unprintable))
