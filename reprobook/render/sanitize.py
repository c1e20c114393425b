"""Allow-list sanitizers for what a notebook puts on a page (issue 23).

Notebook Markdown and HTML outputs go through nh3 (the Rust `ammonia`
sanitizer, which parses HTML as browsers do, html5ever): comments, CDATA
and every element or attribute not listed below are removed, and URLs keep
only the schemes listed (a `\\x01javascript:` link is not a link any more).
SVG outputs are published as files shown with <img>, where script is inert,
but a reader can open such a file on its own; so they are rebuilt from an
allow-list of drawing elements and attributes: no script, no foreignObject,
no event handlers, no links to anything but the file's own fragments and
embedded raster images."""

from __future__ import annotations

import re

import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
    "section", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul", "var",
}
ATTRIBUTES = {
    "*": {"id", "class", "title", "lang"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "col": {"span"},
    "colgroup": {"span"},
}
# data: only for images (nbconvert inlines Markdown attachments so), and
# only raster or SVG (which _image_file turns into a sanitized file).
DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,", re.I)


def _attribute(tag: str, name: str, value: str) -> str | None:
    if value.lower().startswith("data:") and not (tag == "img" and name == "src"
                                                 and DATA_IMAGE.match(value)):
        return None
    return value


def clean_html(body: str) -> str:
    """`body` with only the elements, attributes and URL schemes listed."""
    return nh3.clean(body, tags=TAGS, attributes=ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "data"},
                     attribute_filter=_attribute, strip_comments=True, link_rel=None)


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
SVG_TAGS = {
    "svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "textPath", "title", "desc", "clipPath", "mask", "pattern",
    "marker", "linearGradient", "radialGradient", "stop", "image", "style", "filter",
}
# Attributes that name another resource: only the file's own fragments
# (#id, url(#id)) or an embedded raster image.
RASTER = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.I)
URL_FUNCTION = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.I)


def _safe_reference(value: str) -> bool:
    for target in URL_FUNCTION.findall(value):
        if not target.startswith("#"):
            return False
    return "javascript:" not in re.sub(r"[\s\x00-\x1f]", "", value).lower() and \
        "@import" not in value.lower() and "expression(" not in value.lower()


def clean_svg(data: bytes) -> bytes | None:
    """The SVG with only drawing elements and attributes, or None when it is
    not well-formed XML (then not published)."""
    import xml.etree.ElementTree as ET

    from defusedxml.ElementTree import fromstring  # no entity expansion, no DTD fetch

    try:
        root = fromstring(data, forbid_dtd=True)
    except Exception:
        return None
    if root.tag != f"{{{SVG_NS}}}svg":
        return None

    def clean(element) -> None:
        for child in list(element):
            tag = child.tag if isinstance(child.tag, str) else ""
            local = tag.split("}", 1)[1] if tag.startswith(f"{{{SVG_NS}}}") else None
            if local not in SVG_TAGS:
                element.remove(child)
                continue
            clean(child)
        for name in list(element.attrib):
            value = element.attrib[name]
            local = name.split("}", 1)[-1].lower()
            if local.startswith("on") or name.startswith("{") and not name.startswith(
                    f"{{{XLINK_NS}}}"):
                del element.attrib[name]
            elif local == "href":
                if not (value.startswith("#") or RASTER.match(value)):
                    del element.attrib[name]
            elif not _safe_reference(value):
                del element.attrib[name]
        if element.tag == f"{{{SVG_NS}}}style" and not _safe_reference(element.text or ""):
            element.text = ""

    clean(root)
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
