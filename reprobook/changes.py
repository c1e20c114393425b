"""What changed between two editions, computed from their outputs (never
written by hand): claims added, removed or changed in value, figures added,
removed or redrawn, chapters added or removed."""

from __future__ import annotations

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

    @property
    def empty(self) -> bool:
        return not any((self.added, self.removed, self.changed, self.figures_added,
                        self.figures_removed, self.figures_changed, self.chapters_added,
                        self.chapters_removed))


def _figure_hashes(folder: Path) -> dict[str, str]:
    if not folder.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.suffix == ".svg"}


def compare(previous: str, current: str, old_facts: dict, new_facts: dict,
            old_figures: Path, new_figures: Path, old_chapters: list[str],
            new_chapters: list[str]) -> Changes:
    out = Changes(previous, current)
    for key in sorted(set(old_facts) | set(new_facts)):
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
    return out
