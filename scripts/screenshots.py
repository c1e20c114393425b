"""Pictures of a built site for people to look at: pages at desktop
(1280 px) and phone (375 px) width, and PDF pages, as PNG files.

    .venv/bin/python scripts/screenshots.py _site/1.1 shots/after
    .venv/bin/python scripts/screenshots.py _site/1.1 shots/after --page claims.html --pdf-page 5

Serves the folder on 127.0.0.1 (nothing is fetched from elsewhere) and
drives Debian's Chromium through Playwright, as the browser tests do. The
page height is capped (--max-height) so a long ledger stays a viewable
image. Reviewers compare a build before and after a change with two runs."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SiteServer  # noqa: E402

PAGES = ["index.html", "chapters/mining-expansion.html", "chapters/china-imports.html",
         "chapters/maps.html", "claims.html", "notebooks/trade.html", "search.html?q=Pangwa"]
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


def shoot(site: Path, out: Path, pages: list[str], max_height: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    server = SiteServer(site)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for kind, viewport in WIDTHS.items():
                context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                              is_mobile=kind == "phone")
                page = context.new_page()
                for name in pages:
                    page.goto(server.url + name, wait_until="networkidle")
                    height = min(max_height, page.evaluate("document.documentElement.scrollHeight"))
                    target = out / f"{kind}-{name.split('?')[0].replace('/', '_')}.png"
                    page.screenshot(path=str(target), full_page=True,
                                    clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
                    written.append(target)
                context.close()
            browser.close()
    finally:
        server.close()
    return written


def pdf_pages(pdf: Path, out: Path, numbers: list[int], dpi: int) -> list[Path]:
    written = []
    for n in numbers:
        prefix = out / f"pdf-page-{n}"  # (the PDF's name has dots: "…-1.1.pdf")
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-f", str(n), "-l", str(n),
                        "-singlefile", str(pdf), str(prefix)], check=True)
        written.append(out / f"pdf-page-{n}.png")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="an edition's folder of the built site")
    parser.add_argument("out", type=Path)
    parser.add_argument("--page", action="append", help="page path (default: a set of pages)")
    parser.add_argument("--pdf-page", action="append", type=int, default=[],
                        help="PDF page numbers to render (the edition's PDF)")
    parser.add_argument("--max-height", type=int, default=3000)
    parser.add_argument("--dpi", type=int, default=70)
    args = parser.parse_args()
    written = shoot(args.site, args.out, args.page or PAGES, args.max_height)
    pdfs = sorted(args.site.glob("*.pdf"))
    if args.pdf_page and pdfs:
        written += pdf_pages(pdfs[0], args.out, args.pdf_page, args.dpi)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
