"""Render the book: with Quarto when it is installed, otherwise with the
built-in pandoc + Typst path that supports the Quarto subset our chapters use
(docs/quarto-subset.md)."""

from __future__ import annotations

import shutil


def quarto_available() -> bool:
    return shutil.which("quarto") is not None
