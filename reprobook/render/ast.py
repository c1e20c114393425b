"""Small helpers over pandoc's JSON AST (pandoc-api-version 1.23)."""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator


def walk(node: Any, visit: Callable[[dict], Any]) -> Any:
    """Depth-first rewrite: `visit` gets each element (a dict with "t") after
    its children were rewritten, and returns a replacement element, a list of
    elements (spliced into the parent list), or None to keep it."""
    if isinstance(node, list):
        out = []
        for item in node:
            new = walk(item, visit)
            if isinstance(item, dict) and "t" in item and isinstance(new, list):
                out.extend(new)
            else:
                out.append(new)
        return out
    if isinstance(node, dict):
        if "c" in node:
            node = {**node, "c": walk(node["c"], visit)}
        if "t" in node:
            replaced = visit(node)
            return node if replaced is None else replaced
        return {k: walk(v, visit) if k != "c" else v for k, v in node.items()}
    return node


def iter_elements(node: Any) -> Iterator[dict]:
    """Every element under `node`, depth first, parents before children, in
    document order. With an explicit stack: nested `yield from` costs a
    frame per level for every element, and this runs over every chapter of
    every edition several times per build."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if "t" in item:
                yield item
            if "c" in item:
                stack.append(item["c"])


def stringify(node: Any) -> str:
    parts: list[str] = []
    for el in iter_elements(node):
        kind = el["t"]
        if kind == "Str":
            parts.append(el["c"])
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            parts.append(" ")
        elif kind in ("Code", "Math"):
            parts.append(el["c"][1])
    return "".join(parts)


def attr_of(el: dict) -> tuple[str, list[str], list[list[str]]] | None:
    """(id, classes, key-values) of elements that carry an Attr."""
    kind = el["t"]
    if kind in ("Header",):
        return el["c"][1]
    if kind in ("Div", "Span", "Figure", "Table", "CodeBlock", "Code", "Image", "Link"):
        return el["c"][0]
    return None


def str_inlines(text: str) -> list[dict]:
    out: list[dict] = []
    for i, word in enumerate(text.split(" ")):
        if i:
            out.append({"t": "Space"})
        if word:
            out.append({"t": "Str", "c": word})
    return out


def raw_inline(fmt: str, text: str) -> dict:
    return {"t": "RawInline", "c": [fmt, text]}


def raw_block(fmt: str, text: str) -> dict:
    return {"t": "RawBlock", "c": [fmt, text]}


def typst_string(text: str) -> str:
    """A Typst string literal (Typst knows \\u{...}, not JSON's \\uXXXX)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def typst_content(text: str) -> str:
    """Plain text inside Typst content brackets, markup characters escaped."""
    return re.sub(r"([\\#*_`$<>@\[\]=/~-])", r"\\\1", text)
