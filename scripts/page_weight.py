#!/usr/bin/env python3
"""Page weights of a built site: what a browser downloads for each page
(HTML + CSS + JS + images + the web fonts its text needs; PDFs and files
offered for download excluded), against the budget in BENCHMARKS.md.

    .venv/bin/python scripts/page_weight.py [_site] [--budget BYTES] [--markdown]

Exits 1 if any page is over the budget (uncompressed, nothing cached). Two
more columns say what a reader's connection carries: "gzip" is the page's
files as a server that compresses text sends them (the same files, nothing
cached), "next page" is what opening it costs after another page of the same
edition, whose shared stylesheets, scripts and fonts are then cached."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reprobook.sitecheck import page_weights, shared_files, transfer_size  # noqa: E402

BUDGET = 300 * 1024  # bytes per page; BENCHMARKS.md records why


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default="_site", type=Path)
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    weights = page_weights(args.site)
    over = [w for w in weights if w.total > args.budget]
    shared = shared_files(args.site, weights)
    gzipped = {w.page: transfer_size(args.site, w.files) for w in weights}
    next_page = {w.page: sum((args.site / f).stat().st_size for f in w.files if f not in shared)
                 for w in weights}
    if args.markdown:
        print("| page | HTML | CSS | JS | images | fonts | total | gzip | next page |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for w in weights:
            print(f"| {w.page} | {w.html:,} | {w.css:,} | {w.js:,} | {w.images:,} | {w.fonts:,} "
                  f"| **{w.total:,}** | {gzipped[w.page]:,} | {next_page[w.page]:,} |")
    else:
        print(f"{'total':>9}  {'gzip':>9}  {'next page':>9}  page")
        for w in weights:
            flag = "  OVER BUDGET" if w.total > args.budget else ""
            print(f"{w.total:>9,}  {gzipped[w.page]:>9,}  {next_page[w.page]:>9,}  {w.page}{flag}")
    heaviest = max(weights, key=lambda w: w.total)
    shared_bytes = sum((args.site / f).stat().st_size for f in shared)
    print(f"\n{len(weights)} pages; heaviest {heaviest.page} {heaviest.total:,} bytes "
          f"({gzipped[heaviest.page]:,} gzipped); budget {args.budget:,} bytes per page; {len(over)} over")
    print(f"shared by every page of an edition, cached after the first: {len(shared)} files, "
          f"{shared_bytes:,} bytes; heaviest next page {max(next_page.values()):,} bytes")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
