"""Per-edition text: Quarto's `when-profile` / `unless-profile` conditions
on `.content-visible` and `.content-hidden` divs, settled once when a chapter
is read (the profile, the edition, is the same for both formats). Format
conditions (`when-format`, `unless-format`) are left to the transform.
"""

from __future__ import annotations

import re

from . import ast
from ..project import Project


FORMAT_KEYS = ("when-format", "unless-format")
PROFILE_KEYS = ("when-profile", "unless-profile")
CONDITIONAL = ("content-visible", "content-hidden")


def active_profiles(project: Project) -> set[str]:
    """The Quarto profiles a project was loaded with ("1.1,reprobook" -> both):
    what `when-profile` / `unless-profile` test."""
    return {p.strip() for p in (project.profile or "").split(",") if p.strip()}


def _profile_match(attrs: dict, profiles: set[str]) -> bool:
    """Quarto's test (content-hidden.lua propertiesMatch): each condition
    present must hold; a value is one profile name, compared whole."""
    match = True
    if "when-profile" in attrs:
        match = match and attrs["when-profile"] in profiles
    if "unless-profile" in attrs:
        match = match and attrs["unless-profile"] not in profiles
    return match


def resolve_profiles(blocks: list, profiles: set[str]) -> list:
    """Settle the profile conditions of `.content-visible` / `.content-hidden`
    divs once, when a chapter is read: the profile (the edition) is the same
    for both formats, so every later step (facts, ledger, cross-references,
    "What changed") sees only this edition's text. A div that also has a
    format condition stays, without its profile condition, for `_shown_in`."""
    def visit(el: dict):
        if el["t"] != "Div":
            return None
        (ident, classes, kvs), body = el["c"]
        kind = next((c for c in classes if c in CONDITIONAL), None)
        attrs = dict(kvs)
        if kind is None or not any(k in attrs for k in PROFILE_KEYS):
            return None
        matches = _profile_match(attrs, profiles)
        if not any(k in attrs for k in FORMAT_KEYS):
            return body if matches == (kind == "content-visible") else []
        if not matches:  # the whole condition fails, whatever the format
            return [] if kind == "content-visible" else body
        rest = [(k, v) for k, v in kvs if k not in PROFILE_KEYS]
        return {"t": "Div", "c": [[ident, classes, rest], body]}

    return ast.walk(blocks, visit)


FENCE_OPEN = re.compile(r"^(:{3,})\s*\{([^}]*)\}\s*$")
FENCE_ANY_OPEN = re.compile(r"^:{3,}\s*\S")
FENCE_CLOSE = re.compile(r"^:{3,}\s*$")
ATTRIBUTE = re.compile(r'([\w-]+)=(?:"([^"]*)"|\'([^\']*)\'|(\S+))')


def blank_other_profiles(text: str, profiles: set[str]) -> str:
    """The chapter's text with the lines of each div that is hidden in this
    profile made blank (line numbers kept for messages): a paragraph meant for
    another edition may print a fact only that edition's notebooks record, so
    it must be gone before shortcodes are resolved. Divs shown here are left
    to `resolve_profiles`."""
    lines = text.split("\n")
    depth = 0  # > 0 while inside a hidden div
    for i, line in enumerate(lines):
        if depth:
            if FENCE_CLOSE.match(line):
                depth -= 1
            elif FENCE_ANY_OPEN.match(line):
                depth += 1
            lines[i] = ""
            continue
        m = FENCE_OPEN.match(line)
        if not m:
            continue
        attrs_text = m.group(2)
        classes = set(re.findall(r"(?:^|\s)\.([\w-]+)", attrs_text))
        attrs = {a.group(1): next(g for g in a.groups()[1:] if g is not None)
                 for a in ATTRIBUTE.finditer(attrs_text)}
        kind = next((c for c in CONDITIONAL if c in classes), None)
        if kind is None or not any(k in attrs for k in PROFILE_KEYS):
            continue
        matches = _profile_match(attrs, profiles)
        has_format = any(k in attrs for k in FORMAT_KEYS)
        hidden = (not matches) if kind == "content-visible" else (matches and not has_format)
        if hidden:
            depth = 1
            lines[i] = ""
    return "\n".join(lines)
