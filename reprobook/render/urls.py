"""Links between the site's pages: paths relative to a page, and to the
site's root.
"""

from __future__ import annotations

from pathlib import PurePosixPath



def normalized(path: PurePosixPath) -> PurePosixPath:
    import posixpath

    return PurePosixPath(posixpath.normpath(str(path)))


def root_of(page: str) -> str:
    """The relative path from `page` to the site's root ("." or "../..")."""
    depth = len(PurePosixPath(page).parts) - 1
    return "/".join([".."] * depth) or "."


def from_page(page: str, target: str) -> str:
    """`target` (relative to the site's root) as seen from `page`."""
    root = root_of(page)
    return target if root == "." else f"{root}/{target}"
