#!/usr/bin/env python3
"""Page weights of a built site: what a browser downloads for each page
(HTML + CSS + JS + images + the web fonts its text needs; PDFs and files
offered for download excluded), against the budget in BENCHMARKS.md.

    .venv/bin/python scripts/page_weight.py [_site] [--budget BYTES] [--markdown]

Exits 1 if any page is over the budget."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reprobook.sitecheck import page_weights  # noqa: E402

BUDGET = 300 * 1024  # bytes per page; BENCHMARKS.md records why


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", nargs="?", default="_site", type=Path)
    parser.add_argument("--budget", type=int, default=BUDGET)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    weights = page_weights(args.site)
    over = [w for w in weights if w.total > args.budget]
    if args.markdown:
        print("| page | HTML | CSS | JS | images | fonts | total |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for w in weights:
            print(f"| {w.page} | {w.html:,} | {w.css:,} | {w.js:,} | {w.images:,} | {w.fonts:,} "
                  f"| **{w.total:,}** |")
    else:
        for w in weights:
            flag = "  OVER BUDGET" if w.total > args.budget else ""
            print(f"{w.total:>9,}  {w.page}{flag}")
    heaviest = max(weights, key=lambda w: w.total)
    print(f"\n{len(weights)} pages; heaviest {heaviest.page} {heaviest.total:,} bytes; "
          f"budget {args.budget:,} bytes per page; {len(over)} over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
