"""The claims ledger: every number the publication prints, with where it is
printed, where it comes from, and what the consistency checks found.

An entry joins three things the build already knows:
  - the fact (value, unit, printed text, notebook and cell, source inputs
    and rows) recorded by a notebook;
  - its uses: the page, anchor and sentence of each place a chapter prints it;
  - the checks (reviewer notes) that mention it.
The status of an entry is the most serious verdict among its checks:
inconsistent > unverifiable > within-qualifier > consistent; an entry no
check mentions is 'computed' (derived from data, not compared with a source
statement)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SEVERITY = ["computed", "consistent", "within-qualifier", "unverifiable", "inconsistent"]


@dataclass
class Use:
    key: str
    page: str  # site-relative HTML page
    anchor: str  # id of the printed number on that page
    chapter: str  # chapter title
    sentence: str


@dataclass
class Entry:
    key: str
    fact: dict
    uses: list[Use] = field(default_factory=list)
    checks: dict[str, dict] = field(default_factory=dict)

    @property
    def status(self) -> str:
        verdicts = [c["verdict"] for c in self.checks.values()] or ["computed"]
        return max(verdicts, key=SEVERITY.index)


def build_ledger(facts: dict[str, dict], checks: dict[str, dict], uses: list[Use]) -> list[Entry]:
    entries = {key: Entry(key, fact) for key, fact in facts.items()}
    for use in uses:
        entries[use.key].uses.append(use)
    for name, check in checks.items():
        for key in check["facts"]:
            entries[key].checks[name] = check
    return [entries[k] for k in sorted(entries)]


def write_json(entries: list[Entry], path: Path) -> None:
    data = {e.key: {**e.fact, "status": e.status,
                    "printed_at": [{"page": u.page, "anchor": u.anchor, "chapter": u.chapter,
                                    "sentence": u.sentence} for u in e.uses],
                    "checks": sorted(e.checks)} for e in entries}
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def split_sentence(paragraph: str, needle: str) -> str:
    """The sentence of `paragraph` that contains `needle` (naive splitting on
    '. ', good enough to locate a number for a reviewer)."""
    start = 0
    for part in paragraph.replace("? ", ". ").split(". "):
        end = start + len(part)
        if needle in part:
            return part.strip() + ("" if part.rstrip().endswith((".", ":", ")")) else ".")
        start = end + 2
    return paragraph.strip()
