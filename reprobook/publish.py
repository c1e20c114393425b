"""Swap a freshly built site in place of the published one, so readers (and
a failed build) never see a half-written publication."""

from __future__ import annotations

import shutil
from pathlib import Path


def swap_in(new_site: Path, site: Path) -> None:
    """Replace `site` by `new_site` (both on the same filesystem). Between
    the two renames the old site exists under a side name; if the second
    rename fails, it is put back."""
    old = site.with_name(site.name + ".previous")
    if old.exists():
        shutil.rmtree(old)
    had_site = site.exists()
    if had_site:
        site.rename(old)
    try:
        new_site.rename(site)
    except OSError:
        if had_site:
            old.rename(site)
        raise
    if had_site:
        shutil.rmtree(old)
