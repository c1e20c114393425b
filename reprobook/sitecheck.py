"""Checks of a built website that need no browser, and its page weights.

Each checker takes the site's root folder and one page (a path relative to
it) and returns a list of problems as strings (empty = fine), so the test
suite can run them on the real site and on deliberately broken copies.

  - broken_links: every internal link, image, stylesheet and script points
    to a file of the site, and every #anchor to an id on the target page;
  - external_requests: nothing the page loads (scripts, styles, images,
    fonts, frames, CSS url()) comes from another host;
  - image_problems: every image has alt text (non-empty inside a figure);
  - structure_problems: `lang` on <html>, exactly one h1, no skipped
    heading levels, a skip link to an existing target.

page_weights() adds up what a browser downloads for each page: the HTML,
its stylesheets (with the fonts they load that the page's text needs), its
scripts and images. PDFs and files offered for download are not counted.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

RESOURCE_ATTRS = (("img", "src"), ("script", "src"), ("link", "href"), ("iframe", "src"),
                  ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
                  ("object", "data"), ("input", "src"), ("track", "src"))
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
LOCAL_SCHEMES = ("", "data", "blob", "about")


def html_pages(site: Path) -> list[str]:
    return sorted(str(p.relative_to(site).as_posix()) for p in site.rglob("*.html"))


@lru_cache(maxsize=512)
def _soup_cached(path: str, mtime: float) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def soup(site: Path, page: str) -> BeautifulSoup:
    path = site / page
    return _soup_cached(str(path), path.stat().st_mtime_ns)


def _is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme not in LOCAL_SCHEMES


def _resolve(site: Path, page: str, url: str) -> tuple[str | None, str]:
    """(site-relative path or None if it leaves the site, fragment)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if not path:
        return page, parts.fragment
    base = PurePosixPath(page).parent
    joined = PurePosixPath(path[1:]) if path.startswith("/") else base / path
    resolved: list[str] = []
    for part in joined.parts:
        if part == "..":
            if not resolved:
                return None, parts.fragment
            resolved.pop()
        elif part != ".":
            resolved.append(part)
    target = "/".join(resolved)
    if (site / target).is_dir():
        target = (target + "/index.html").lstrip("/")
    return target, parts.fragment


def _ids(site: Path, page: str) -> set[str]:
    path = site / page
    return _ids_cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=512)
def _ids_cached(path: str, mtime: float) -> set[str]:
    doc = _soup_cached(path, mtime)
    return {t["id"] for t in doc.find_all(id=True)} | {t["name"] for t in doc.find_all("a", attrs={"name": True})}


def srcset_urls(value: str | None) -> list[str]:
    """The URLs of a srcset attribute ("a.svg, b.svg 2x, c.svg 600w")."""
    return [part.split()[0] for part in (value or "").split(",") if part.strip()]


def _srcset_refs(doc) -> list[tuple[str, str]]:
    return [(el.name, url) for el in doc.find_all(["source", "img"], srcset=True)
            for url in srcset_urls(el.get("srcset"))]


def broken_links(site: Path, page: str) -> list[str]:
    problems = []
    doc = soup(site, page)
    refs = [("a", a.get("href")) for a in doc.find_all("a", href=True)]
    refs += [(tag, el.get(attr)) for tag, attr in RESOURCE_ATTRS for el in doc.find_all(tag)
             if el.get(attr)]
    refs += _srcset_refs(doc)
    for tag, url in refs:
        if _is_external(url):
            continue  # other hosts: links are allowed, loads are external_requests' business
        target, fragment = _resolve(site, page, url)
        if target is None:
            problems.append(f"{page}: <{tag}> {url} leaves the site")
            continue
        if not (site / target).is_file():
            problems.append(f"{page}: <{tag}> {url} -> {target} does not exist")
            continue
        if fragment and target.endswith(".html") and unquote(fragment) not in _ids(site, target):
            problems.append(f"{page}: <{tag}> {url}: no id '{fragment}' on {target}")
    return problems


def _stylesheets(site: Path, page: str) -> list[str]:
    doc = soup(site, page)
    out = []
    for link in doc.find_all("link", href=True):
        if "stylesheet" in (link.get("rel") or []) and not _is_external(link["href"]):
            target, _ = _resolve(site, page, link["href"])
            if target and (site / target).is_file():
                out.append(target)
    return out


def _css_urls(site: Path, css: str) -> list[str]:
    text = (site / css).read_text(encoding="utf-8")
    return [m.group(1) or m.group(2) for m in CSS_URL.finditer(text)]


def external_requests(site: Path, page: str) -> list[str]:
    problems = []
    doc = soup(site, page)
    for tag, attr in RESOURCE_ATTRS:
        for el in doc.find_all(tag):
            url = el.get(attr)
            if tag == "link" and not set(el.get("rel") or []) & {"stylesheet", "icon", "preload",
                                                                  "prefetch", "modulepreload",
                                                                  "manifest", "preconnect"}:
                continue
            if url and _is_external(url):
                problems.append(f"{page}: <{tag} {attr}={url}> loads from another host")
    for el in doc.find_all(srcset=True):
        for candidate in el["srcset"].split(","):
            url = candidate.strip().split(" ")[0]
            if url and _is_external(url):
                problems.append(f"{page}: srcset {url} loads from another host")
    for style in doc.find_all("style"):
        for m in CSS_URL.finditer(style.get_text()):
            url = m.group(1) or m.group(2)
            if _is_external(url):
                problems.append(f"{page}: <style> loads {url} from another host")
    for el in doc.find_all(style=True):
        for m in CSS_URL.finditer(el["style"]):
            if _is_external(m.group(1) or m.group(2)):
                problems.append(f"{page}: style attribute loads {m.group(1)} from another host")
    for css in _stylesheets(site, page):
        for url in _css_urls(site, css):
            if _is_external(url):
                problems.append(f"{page}: stylesheet {css} loads {url} from another host")
    return problems


def image_problems(site: Path, page: str) -> list[str]:
    problems = []
    for img in soup(site, page).find_all("img"):
        alt = img.get("alt")
        if alt is None:
            problems.append(f"{page}: <img src={img.get('src')}> has no alt attribute")
        elif not alt.strip() and img.find_parent("figure") is not None:
            problems.append(f"{page}: figure image {img.get('src')} has empty alt text")
    return problems


def structure_problems(site: Path, page: str) -> list[str]:
    problems = []
    doc = soup(site, page)
    html_tag = doc.find("html")
    if html_tag is None or not html_tag.get("lang"):
        problems.append(f"{page}: <html> has no lang")
    h1s = doc.find_all("h1")
    if len(h1s) != 1:
        problems.append(f"{page}: {len(h1s)} h1 elements (want exactly one)")
    previous = 0
    for heading in doc.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        if previous and level > previous + 1:
            problems.append(f"{page}: heading level jumps from h{previous} to h{level} "
                            f"({heading.get_text(' ', strip=True)[:40]!r})")
        previous = level
    skip = doc.find("a", class_="skip-link")
    if skip is None and doc.find("nav") is not None:  # WCAG 2.4.1: bypass repeated blocks
        problems.append(f"{page}: no skip link")
    elif skip is not None and skip.get("href", "").lstrip("#") not in _ids(site, page):
        problems.append(f"{page}: skip link target {skip.get('href')} does not exist")
    return problems


CHECKERS = (broken_links, external_requests, image_problems, structure_problems)


def check_site(site: Path, pages: list[str] | None = None) -> list[str]:
    problems = []
    for page in pages or html_pages(site):
        for checker in CHECKERS:
            problems += checker(site, page)
    return problems


# ------------------------------------------------------------ page weight
@dataclass
class PageWeight:
    page: str
    html: int
    css: int
    js: int
    images: int
    fonts: int
    files: list[str]

    @property
    def total(self) -> int:
        return self.html + self.css + self.js + self.images + self.fonts


UNICODE_RANGE = re.compile(r"unicode-range:\s*([^;]+);")
FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}", re.S)


def _font_needed(block: str, text: str) -> bool:
    m = UNICODE_RANGE.search(block)
    if not m:
        return True
    codes = {ord(c) for c in text}
    for part in m.group(1).split(","):
        lo, _, hi = part.strip().removeprefix("U+").partition("-")
        low, high = int(lo, 16), int(hi or lo, 16)
        if any(low <= c <= high for c in codes):
            return True
    return False


def page_weight(site: Path, page: str) -> PageWeight:
    doc = soup(site, page)
    files = {page}
    weight = PageWeight(page, (site / page).stat().st_size, 0, 0, 0, 0, [page])
    text = doc.get_text()

    def add(kind: str, target: str | None) -> None:
        if not target or target in files or not (site / target).is_file():
            return
        files.add(target)
        weight.files.append(target)
        setattr(weight, kind, getattr(weight, kind) + (site / target).stat().st_size)

    for css in _stylesheets(site, page):
        add("css", css)
        body = (site / css).read_text(encoding="utf-8")
        for block in FONT_FACE.findall(body):
            if _font_needed(block, text):
                for m in CSS_URL.finditer(block):
                    add("fonts", _resolve(site, css, m.group(1) or m.group(2))[0])
    for script in doc.find_all("script", src=True):
        add("js", _resolve(site, page, script["src"])[0])
    for img in doc.find_all("img", src=True):
        if img["src"].startswith("data:"):
            continue
        # In a <picture> the browser downloads one of the sources (or the
        # <img> itself): the largest is counted.
        picture = img.find_parent("picture")
        candidates = [img["src"]] + ([url for source in picture.find_all("source", srcset=True)
                                      for url in srcset_urls(source["srcset"])] if picture else [])
        targets = [t for t in (_resolve(site, page, c)[0] for c in candidates)
                   if t and t not in files and (site / t).is_file()]
        if targets:
            add("images", max(targets, key=lambda t: (site / t).stat().st_size))
    return weight


def page_weights(site: Path) -> list[PageWeight]:
    return [page_weight(site, page) for page in html_pages(site)]


@lru_cache(maxsize=4096)
def _gzip_size(path: str, mtime: float) -> int:
    # Level 6 is what nginx's and Apache's gzip modules use by default.
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0))


def transfer_size(site: Path, files: list[str]) -> int:
    """Bytes sent for these files by a server that gzips text (HTML, CSS,
    JS, SVG); images and fonts are already compressed and sent as they are."""
    total = 0
    for name in files:
        path = site / name
        if path.suffix.lower() in {".html", ".css", ".js", ".svg", ".json"}:
            total += _gzip_size(str(path), path.stat().st_mtime)
        else:
            total += path.stat().st_size
    return total


def shared_files(site: Path, weights: list[PageWeight]) -> set[str]:
    """Files every page of the same edition loads (its stylesheets, scripts,
    fonts): a browser fetches them for the first page it opens and has them
    cached for the next. In a versioned site each edition's folder (one with
    its own index.html) is a site of its own; a page that loads nothing (a
    redirect) is left out."""
    groups: dict[str, list[set[str]]] = {}
    for w in weights:
        top = w.page.split("/", 1)[0] if "/" in w.page else ""
        edition = top if top and (site / top / "index.html").is_file() else ""
        if len(w.files) > 1:
            groups.setdefault(edition, []).append(set(w.files[1:]))
    return set().union(*(set.intersection(*g) for g in groups.values() if len(g) > 1))
