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


# What each status means, in words, for readers of the ledger (the status
# names stay as ids and CSS classes).
SHORT_STATUS = {"computed": "computed", "consistent": "agrees", "within-qualifier": "agrees as worded",
                "unverifiable": "cannot be checked", "inconsistent": "disagrees"}
STATUS_WORDS = {
    "computed": "derived from the data; no statement of the source to compare it with",
    "consistent": "the data gives the value the source states",
    "within-qualifier": "the data fits the source once its own wording is allowed for "
                        "(\u201cover\u201d, \u201cabout\u201d, \u201cnearly\u201d, a rounded figure)",
    "unverifiable": "the published data cannot confirm or refute what the source states",
    "inconsistent": "the data and the source disagree; both are shown",
}
# Abbreviations common in fact keys, spelled out in labels.
_WORDS = {"pct": "%", "usd": "USD", "cny": "CNY", "mmk": "MMK", "q": "(as worded)",
          "min": "minimum", "max": "maximum", "avg": "average", "num": "number",
          "n": "number", "km": "km", "sq": "square", "yr": "year", "ratio": "ratio"}


def label(key: str) -> str:
    """A readable label made from a fact key ("sites.increase_pct" ->
    "Sites: increase %"): the key's first part names its group, the rest
    are words joined by underscores. The key itself stays the entry's id."""
    group, _, rest = key.partition(".")
    parts = [p for p in rest.replace(".", "_").split("_") if p] if rest else []
    if len(parts) > 1 and parts[-1] in ("text", "q"):  # the printed form of another fact
        parts = parts[:-1] + (["(as worded)"] if parts[-1] == "q" else [])
    words = " ".join(_WORDS.get(w.lower(), w) for w in parts)
    group = group.replace("_", " ")
    return f"{group[:1].upper()}{group[1:]}: {words}" if words else group[:1].upper() + group[1:]


def label_of(key: str, recorded: dict | None) -> str:
    """The label a notebook gave a fact or check when it recorded it
    (`Step.fact(..., label=...)`), else the one derived from its key."""
    given = (recorded or {}).get("label")
    return given if isinstance(given, str) and given.strip() else label(key)


def labeller(*tables: dict[str, dict]):
    """A function key -> label that looks the key up in each table in turn
    (facts, then older facts, checks...), falling back to label(key)."""
    def find(key: str) -> str:
        for table in tables:
            if key in table:
                return label_of(key, table[key])
        return label(key)
    return find


def key_html(key: str):
    """The key as code that line-breaks after a dot rather than inside a
    word (<wbr> is not copied with the text)."""
    from markupsafe import Markup, escape

    return Markup("<code>{}</code>").format(Markup(".<wbr>").join(escape(p) for p in key.split(".")))


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

    @property
    def label(self) -> str:
        return label_of(self.key, self.fact)



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
