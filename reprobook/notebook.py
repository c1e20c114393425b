"""What a notebook imports from the engine: its declared inputs, and a place
to record the facts and figures it produces.

    from reprobook.notebook import Step
    step = Step("mining-sites")                 # the notebook's name in reprobook.yml
    df = step.read_csv("mining-sites-per-year")  # only declared inputs can be read
    step.fact("sites.total", df.new_sites.sum(), unit="sites", fmt="{:,}")
    step.save_figure(fig, "mining-sites-per-year", data=df)
    step.finish()

Run by the engine, outputs go to a staging directory the engine names in
REPROBOOK_OUTPUT_DIR; run by hand in JupyterLab, they go to
.reprobook/interactive/<notebook>/ so a manual run never touches a publication.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Number
from pathlib import Path

from .errors import did_you_mean
from .layout import CHECKS_FILE, FACTS_FILE, OUTPUT_ENV, upstream_file
from .markdown import escape_cell
from .project import load_project
from .validate import resource_paths

VERDICTS = ("consistent", "inconsistent", "within-qualifier", "unverifiable")


class StepKeyError(KeyError):
    """A KeyError (what notebooks caught before) that prints its message as
    written, not quoted as a key."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _execution_count() -> int | None:
    """The IPython execution count of the running cell, used to point a fact
    back at the cell that computed it."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - notebooks always have IPython
        return None
    import IPython

    shell = get_ipython()
    count = getattr(shell, "execution_count", None) if shell else None
    if count is None:
        return None
    # IPython 9 increments the counter before it runs a cell (checked: the
    # second cell of a notebook reads 3 while its reply says 2); earlier
    # versions increment it afterwards.
    return count - 1 if IPython.version_info >= (9,) else count


class Step:
    def __init__(self, name: str):
        self.project = load_project()
        specs = {nb.name: nb for nb in self.project.notebooks}
        if name not in specs:
            raise StepKeyError(f"notebook '{name}' is not declared in reprobook.yml"
                                  f"{did_you_mean(name, specs) or f' (declared: {sorted(specs)})'}")
        self.spec = specs[name]
        default = self.project.work_dir / "interactive" / name
        self.output_dir = Path(os.environ.get(OUTPUT_ENV) or default)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._facts: dict[str, dict] = {}
        self._checks: dict[str, dict] = {}
        self._written: list[str] = []

    # -- inputs ---------------------------------------------------------
    def input_path(self, resource: str) -> Path:
        if resource not in self.spec.inputs:
            raise StepKeyError(
                f"{self.spec.path} reads '{resource}' but does not declare it under inputs "
                "in reprobook.yml (undeclared inputs would escape the cache)"
                f"{did_you_mean(resource, self.spec.inputs)}")
        return resource_paths(self.project)[resource]

    def upstream_path(self, notebook: str, relative: str) -> Path:
        """Another notebook's output this notebook declares among its inputs
        as `notebook:<notebook>/<relative>`: the file that notebook's last
        successful run wrote (the engine runs it first)."""

        if (notebook, relative) not in self.spec.upstream:
            raise KeyError(
                f"{self.spec.path} reads notebook:{notebook}/{relative} but does not declare it "
                "under inputs in reprobook.yml (undeclared inputs would escape the cache)")
        path = upstream_file(self.project, notebook, relative)
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} does not exist yet: notebook '{notebook}' has not run (run "
                "`reprobook check` or `reprobook build` once, then re-run this notebook)")
        return path

    def read_csv(self, resource: str, **kwargs):
        """The resource as a DataFrame, read with the delimiter, quote and
        encoding its descriptor declares: exactly what the validator checked
        (validate.csv_options). `notebook:<name>/<output>` reads another
        notebook's declared CSV output (as that notebook wrote it: comma,
        UTF-8)."""
        import pandas as pd

        from .validate import csv_options, load_descriptor

        if resource.startswith("notebook:"):
            from .pipeline.graph import parse_upstream

            name, relative = parse_upstream(resource, self.spec.path)
            return pd.read_csv(self.upstream_path(name, relative), **kwargs)
        path = self.input_path(resource)
        described = next((r for r in load_descriptor(self.project).get("resources", [])
                          if r.get("name") == resource), {})
        options = csv_options(described)
        kwargs.setdefault("sep", options["delimiter"])
        kwargs.setdefault("quotechar", options["quotechar"])
        kwargs.setdefault("encoding", options["encoding"])
        return pd.read_csv(path, **kwargs)

    # -- outputs --------------------------------------------------------
    def output_path(self, relative: str) -> Path:
        if relative not in self.spec.outputs:
            raise StepKeyError(
                f"{self.spec.path} writes {relative}, which is not among its declared outputs"
                f"{did_you_mean(relative, self.spec.outputs)}: declare it under `outputs:` of "
                f"{self.spec.path} in reprobook.yml (step.save_figure(fig, \"<stem>\") writes "
                "figures/<stem>.svg and figures/<stem>.pdf, and figures/<stem>.csv with data=)")
        path = self.output_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._written.append(relative)
        return path

    def fact(self, key: str, value, *, unit: str, fmt: str = "{}", text: str | None = None,
             inputs: list[str] | None = None, rows: dict[str, list] | None = None,
             note: str = "", label: str | None = None) -> str:
        """Record one number the prose may print; returns its formatted text.

        `fmt` is a str.format pattern applied to `value` ("{:,}" -> 2,795);
        `text` overrides it for wording that is not a plain format.
        `inputs` narrows the declared inputs to those this value comes from;
        `rows` names the source rows per input (primary-key values), for the
        claims ledger; `note` says anything a reviewer should know;
        `label` is what readers see the number called in the ledger and on
        the "What changed" page (short, sentence case; without it the engine
        derives a label from the key)."""
        if key in self._facts:
            raise KeyError(f"fact '{key}' recorded twice")
        if hasattr(value, "item"):  # numpy scalar -> Python number
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"fact '{key}' is not a finite number: {value}")
        if not isinstance(value, (Number, str)):
            raise TypeError(f"fact '{key}' must be a number or string, got {type(value).__name__}")
        formatted = text if text is not None else fmt.format(value)
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise ValueError(f"fact '{key}': label must be non-empty text, got {label!r}")
        self._facts[key] = {
            "value": value,
            "unit": unit,
            "text": formatted,
            "notebook": self.spec.path,
            "execution_count": _execution_count(),
            "inputs": sorted(inputs if inputs is not None else self.spec.inputs),
            "rows": {k: [str(v) for v in vs] for k, vs in (rows or {}).items()},
            "note": note,
            **({"label": " ".join(label.split())} if label is not None else {}),
        }
        return formatted

    def _recorded(self, key: str) -> dict:
        if key not in self._facts:
            raise StepKeyError(f"fact '{key}' is not recorded (yet) by {self.spec.path}"
                                  f"{did_you_mean(key, self._facts)}")
        return self._facts[key]

    def value(self, key: str):
        """The raw value of a fact this notebook already recorded."""
        return self._recorded(key)["value"]

    def label(self, key: str) -> str:
        """The label of a fact this notebook already recorded: the one it
        was given, else the one the ledger makes from its key."""
        from .ledger import label_of

        return label_of(key, self._recorded(key))

    def check(self, key: str, *, verdict: str, claim: str, finding: str,
              facts: list[str] = (), label: str | None = None) -> dict:
        """Record a consistency check for reviewers: what the source claims,
        what the data gives, and the verdict. Checks are published on the
        claims page as reviewer notes; an inconsistency is shown, not fixed.

        verdict: 'consistent', 'inconsistent', 'within-qualifier' (agrees
        once the source's 'over'/'about' is honoured) or 'unverifiable'.
        `label` names the check for readers, as for facts."""
        if verdict not in VERDICTS:
            raise ValueError(f"check '{key}': verdict must be one of {VERDICTS}")
        if key in self._checks:
            raise KeyError(f"check '{key}' recorded twice")
        self._checks[key] = {"verdict": verdict, "claim": claim, "finding": finding,
                             "facts": list(facts), "notebook": self.spec.path,
                             "execution_count": _execution_count()}
        if label is not None:
            if not isinstance(label, str) or not label.strip():
                raise ValueError(f"check '{key}': label must be non-empty text, got {label!r}")
            self._checks[key]["label"] = " ".join(label.split())
        return self._checks[key]

    def save_figure(self, fig, stem: str, *, data=None, web: str = "svg", narrow=None) -> list[Path]:
        """Save a matplotlib figure for the web and as PDF (print), plus the
        data it plots as CSV, all byte-for-byte reproducible.

        `web` is "svg" (charts: sharp, small) or "webp" (maps over a raster
        basemap, where an SVG would embed a large PNG: a lossy WebP is about a
        tenth of the size and still crisp).

        An SVG chart also gets a narrow-layout variant, `<stem>.narrow.svg`,
        which the website shows on phones: the same figure laid out again for
        a 360 px column (figures.narrow_layout). The engine derives it from
        the declared `<stem>.svg`; it need not be declared. `narrow`, if
        given, is called with that copy before its layout, to change what
        does not fit a phone's column (shorter labels, a label moved out of
        a thin bar): the copy has the same axes, in the same order."""
        from .figures import narrow_layout, narrow_name, save_reproducibly

        if web not in ("svg", "webp"):
            raise ValueError(f"web format must be 'svg' or 'webp', not {web!r}")
        if narrow is not None and web != "svg":
            raise ValueError("only SVG charts have a narrow layout")
        paths = []
        for ext in (web, "pdf"):
            path = self.output_path(f"figures/{stem}.{ext}")
            save_reproducibly(fig, path)
            paths.append(path)
        if web == "svg":
            path = self.output_path(narrow_name(f"figures/{stem}.svg"))
            save_reproducibly(narrow_layout(fig, narrow), path)
            paths.append(path)
        if data is not None:
            path = self.output_path(f"figures/{stem}.csv")
            data.to_csv(path, index=False, lineterminator="\n")
            paths.append(path)
        return paths

    def save_table(self, df, stem: str, *, formats: dict[str, str] | None = None) -> list[Path]:
        """Write `df` as a markdown pipe table (for `{{< include >}}` in a
        chapter) and as CSV (the download). `formats` maps a column to a
        str.format pattern; numbers are right-aligned. Cells are printed
        literally: Markdown, HTML and shortcodes in the data are escaped."""

        formats = formats or {}
        # Every cell and header is data, never markup: escaped so pandoc
        # prints it literally (no raw HTML, links, emphasis or shortcodes).
        header = "| " + " | ".join(escape_cell(c) for c in df.columns) + " |"
        align = "|" + "|".join("---:" if df[c].dtype.kind in "iuf" else ":---" for c in df.columns) + "|"
        rows = ["| " + " | ".join(escape_cell(formats.get(c, "{}").format(v))
                                  for c, v in zip(df.columns, row))
                + " |" for row in df.itertuples(index=False)]
        md = self.output_path(f"figures/{stem}.md")
        md.write_text("\n".join([header, align, *rows]) + "\n", encoding="utf-8")
        csv = self.output_path(f"figures/{stem}.csv")
        df.to_csv(csv, index=False, lineterminator="\n")
        return [md, csv]

    def finish(self) -> dict[str, dict]:
        """Write the recorded facts; the engine reads them after the run."""
        missing = [o for o in self.spec.outputs if o not in self._written]
        if missing:
            raise RuntimeError(f"{self.spec.path} declared outputs it did not write: {missing} "
                               "(write them through Step: step.save_figure, step.save_table or "
                               "step.output_path)")
        unknown = [f"'{k}'{did_you_mean(k, self._facts)}" for c in self._checks.values()
                   for k in c["facts"] if k not in self._facts]
        if unknown:
            raise StepKeyError("checks refer to facts this notebook did not record: "
                                  + ", ".join(unknown))
        for name, content in ((FACTS_FILE, self._facts), (CHECKS_FILE, self._checks)):
            (self.output_dir / name).write_text(
                json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                encoding="utf-8")
        return self._facts
