"""The Content-Security-Policy every page carries (issue 23), as a
`<meta http-equiv>` since the site is static files served by any server.

It allows scripts only from files of the site itself: no inline event
handler (`onerror=`, `onclick=`) and no `javascript:` URL runs, whatever a
sanitizer missed. The built-in renderer's pages have no inline script at
all. Quarto's pages have two inline scripts (`quarto-html-after-body`, its
page setup, and `quarto-search-options`) and two inline click handlers (the
sidebar and search buttons). Those are allowed by their sha256 hashes
(`'unsafe-hashes'` for the handlers: only handlers with exactly Quarto's
text): a script without a `quarto-` id, or any other handler, does not run
(an author who wants a script in a chapter puts it in a file).
Styles may be inline (Quarto, pandoc and Leaflet set style attributes); a
style cannot run code in today's browsers. `frame-ancestors` cannot be set
from a <meta> (a server's header can)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

POLICY = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
          "form-action 'self'")
BUILTIN = POLICY.format(hashes="")

# Quarto's own inline scripts: those with an id starting "quarto-".
QUARTO_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*\bid=\"quarto-[^>]*>(.*?)</script\s*>",
                           re.S | re.I)
# The inline handlers Quarto 1.9 and 1.10 write (quarto-nav and the search
# button); each is allowed by the hash of its exact text.
QUARTO_HANDLERS = ("if (window.quartoToggleHeadroom) { window.quartoToggleHeadroom(); }",
                   "window.quartoOpenSearch();")
HEAD = re.compile(r"<head\b[^>]*>", re.I)
META = '<meta http-equiv="Content-Security-Policy" content="{}">'


def meta(policy: str = BUILTIN) -> str:
    return META.format(policy)


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def add_to_quarto_pages(site: Path) -> None:
    """Put the policy first in the <head> of every HTML page Quarto wrote
    (a policy only governs what comes after it), allowing the page's own
    inline scripts by hash."""
    for page in sorted(site.rglob("*.html")):
        if page.is_symlink() or not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        if 'http-equiv="Content-Security-Policy"' in text:
            continue
        head = HEAD.search(text)
        if head is None:
            continue
        hashes = sorted({_hash(body) for body in QUARTO_SCRIPT.findall(text)})
        handlers = sorted({_hash(h) for h in QUARTO_HANDLERS
                           if f'="{h}"' in text})
        if handlers:
            hashes = ["'unsafe-hashes'"] + sorted(set(hashes) | set(handlers))
        policy = POLICY.format(hashes="".join(" " + h for h in hashes))
        page.write_text(text[:head.end()] + "\n" + meta(policy) + text[head.end():],
                        encoding="utf-8")
