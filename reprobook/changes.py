"""What changed between two editions, computed from their outputs (never
written by hand): claims added, removed or changed in value, figures added,
removed or redrawn, chapters added or removed, and, in the chapters both
editions have, paragraphs added, removed or reworded."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Changes:
    previous: str
    current: str
    added: list[tuple[str, str]] = field(default_factory=list)  # (key, text)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (key, old, new)
    figures_added: list[str] = field(default_factory=list)
    figures_removed: list[str] = field(default_factory=list)
    figures_changed: list[str] = field(default_factory=list)
    chapters_added: list[str] = field(default_factory=list)
    chapters_removed: list[str] = field(default_factory=list)
    # (chapter page, "added" / "removed" / "reworded", old text, new text)
    prose: list[tuple[str, str, str, str]] = field(default_factory=list)
    # key -> the label its notebook gave it (the current edition's, else the
    # previous edition's for a removed number); keys without one are absent.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any((self.added, self.removed, self.changed, self.figures_added,
                        self.figures_removed, self.figures_changed, self.chapters_added,
                        self.chapters_removed, self.prose))

    def paragraphs(self, kind: str) -> int:
        return sum(1 for _, k, _, _ in self.prose if k == kind)


# The files a web page shows as figures: charts (SVG) and maps (raster).
WEB_IMAGES = (".svg", ".webp", ".png", ".jpg", ".jpeg", ".gif")


def _figure_hashes(folder: Path) -> dict[str, str]:
    """Each figure file a page shows; a chart's narrow-layout variant for
    phones is the same figure, not one of its own."""
    from .figures import is_narrow_variant

    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.suffix.lower() in WEB_IMAGES and not is_narrow_variant(p.name)}


NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'one chapter', 'two chapters', '57 numbers'."""
    word = NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else f"{n:,}"
    return f"{word} {singular if n == 1 else (plural or singular + 's')}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def summary(changes: Changes, kind_of: dict[str, str]) -> str:
    """One or two sentences saying what changed, in counts: chapters,
    figures (by kind: `kind_of` maps a figure file to 'figure', 'map'...)
    and numbers added, changed and removed."""
    def figures(names: list[str]) -> list[str]:
        kinds: dict[str, int] = {}
        for name in names:
            kind = kind_of.get(name, "figure")
            kinds[kind] = kinds.get(kind, 0) + 1
        return [count(n, kind) for kind, n in sorted(kinds.items())]

    def paragraphs(kind: str) -> list[str]:
        n = changes.paragraphs(kind)
        return [count(n, "paragraph")] if n else []

    added = ([count(len(changes.chapters_added), "chapter")] if changes.chapters_added else []) \
        + figures(changes.figures_added) \
        + ([count(len(changes.added), "number")] if changes.added else []) \
        + paragraphs("added")
    altered = ([f"changes the value of {count(len(changes.changed), 'number')}"]
               if changes.changed else []) \
        + ([f"redraws {_join(figures(changes.figures_changed))}"] if changes.figures_changed else []) \
        + ([f"rewords {_join(paragraphs('reworded'))}"] if changes.paragraphs("reworded") else [])
    removed = ([count(len(changes.chapters_removed), "chapter")] if changes.chapters_removed else []) \
        + figures(changes.figures_removed) \
        + ([count(len(changes.removed), "number")] if changes.removed else []) \
        + paragraphs("removed")
    head = f"Compared with edition {changes.previous}, edition {changes.current}"
    if changes.empty:
        return f"{head} changes nothing."
    clauses = ([f"adds {_join(added)}"] if added else []) + altered + (
        [f"removes {_join(removed)}"] if removed else [])
    text = f"{head} {_join(clauses)}."
    untouched = []
    if not changes.changed:
        untouched.append(f"no number shared with edition {changes.previous} has a different value")
    if not changes.figures_changed:
        untouched.append("no figure was redrawn")
    if not changes.prose:
        untouched.append("the text of the chapters both editions have is unchanged")
    if not (changes.removed or changes.figures_removed or changes.chapters_removed
            or changes.paragraphs("removed")):
        untouched.append("nothing was removed")
    if untouched:
        text += " " + _join(untouched)[:1].upper() + _join(untouched)[1:] + "."
    return text


def compare(previous: str, current: str, old_facts: dict, new_facts: dict,
            old_figures: Path, new_figures: Path, old_chapters: list[str],
            new_chapters: list[str], old_prose: dict | None = None,
            new_prose: dict | None = None) -> Changes:
    out = Changes(previous, current)
    for key in sorted(set(old_facts) | set(new_facts)):
        given = (new_facts.get(key) or old_facts.get(key) or {}).get("label")
        if given:
            out.labels[key] = given
        if key not in old_facts:
            out.added.append((key, new_facts[key]["text"]))
        elif key not in new_facts:
            out.removed.append((key, old_facts[key]["text"]))
        elif old_facts[key]["value"] != new_facts[key]["value"] or old_facts[key]["text"] != new_facts[key]["text"]:
            out.changed.append((key, old_facts[key]["text"], new_facts[key]["text"]))
    old_fig, new_fig = _figure_hashes(old_figures), _figure_hashes(new_figures)
    out.figures_added = sorted(set(new_fig) - set(old_fig))
    out.figures_removed = sorted(set(old_fig) - set(new_fig))
    out.figures_changed = sorted(k for k in set(old_fig) & set(new_fig) if old_fig[k] != new_fig[k])
    out.chapters_added = [c for c in new_chapters if c not in old_chapters]
    out.chapters_removed = [c for c in old_chapters if c not in new_chapters]
    old_prose, new_prose = old_prose or {}, new_prose or {}
    for page in new_chapters:
        if page in old_prose and page in new_prose:
            out.prose += _prose_changes(page, old_prose[page], new_prose[page])
    return out


def _prose_changes(page: str, old: list[tuple[str, str]], new: list[tuple[str, str]]
                   ) -> list[tuple[str, str, str, str]]:
    """The paragraphs of one chapter that differ between two editions, by
    difflib's longest matching runs: a changed run pairs old and new
    paragraphs in order as reworded; what is left over was added or removed."""
    out = []
    matcher = difflib.SequenceMatcher(None, [c for c, _ in old], [c for c, _ in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        olds, news = old[i1:i2], new[j1:j2]
        # Paired in order; a pair with little text in common is a paragraph
        # removed and another added, not a rewording.
        pairs = [(o, n) for o, n in zip(olds, news) if _similar(o[0], n[0])]
        paired_old, paired_new = {id(o) for o, _ in pairs}, {id(n) for _, n in pairs}
        out += [(page, "reworded", o[1], n[1]) for o, n in pairs]
        out += [(page, "removed", o[1], "") for o in olds if id(o) not in paired_old]
        out += [(page, "added", "", n[1]) for n in news if id(n) not in paired_new]
    return out


def _similar(a: str, b: str) -> bool:
    """At least half the words in common (difflib's ratio over words)."""
    return difflib.SequenceMatcher(None, a.split(), b.split(), autojunk=False).ratio() >= 0.5
