"""The book as the stages see it (`Book`): its chapters parsed, their
numbered targets and where each fact is printed, read once per edition from
the staged sources and passed on to the engine's pages and the renderer.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from pathlib import PurePosixPath

from .. import ledger
from ..project import Project
from .chapters import Chapter, Target, derived, number_targets, parse_chapters, targets_digest
from .pages import CLAIMS_PAGE, REVIEWER_NOTES_PAGE
from .transform import transform


def page_names(project: Project) -> set[str]:
    """The chapter and engine pages every build of `project` publishes
    (without rendering): what the edition switcher may link to."""
    return ({str(PurePosixPath(c).with_suffix(".html")) for c in project.chapters}
            | {CLAIMS_PAGE, REVIEWER_NOTES_PAGE, "data.html"})


@dataclass
class Book:
    chapters: list[Chapter]  # parsed (pandoc ASTs), numbered, titled
    targets: dict[str, Target]  # cross-reference id -> its label and place
    # where each fact is printed (page, anchor, sentence), for the claims ledger
    uses: list[ledger.Use]


def read_book(project: Project, facts: dict[str, dict]) -> Book:
    """The chapters (parsed), their numbered targets, and where each fact is
    printed in them. Computed from the sources before rendering, so the
    ledger is one of the book's pages for either renderer."""
    chapters = parse_chapters(project, facts)
    targets = number_targets(chapters)
    uses: list[ledger.Use] = []
    every_target = targets_digest(targets)

    def chapter_uses(chapter: Chapter) -> list:
        transform(chapter, targets, "html")
        return [astuple(use) for use in chapter.uses]

    for chapter in chapters:
        chapter.uses = [ledger.Use(*use) for use in derived(
            chapter, "uses", lambda: chapter_uses(chapter), chapter.page, chapter.title,
            str(chapter.number), every_target)]
        uses.extend(chapter.uses)
    return Book(chapters, targets, uses)
