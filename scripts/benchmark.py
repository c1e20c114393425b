"""Build-time benchmark, every measurement in one run, side by side, in
clean temporary copies of the project (both editions). Prints markdown
tables to paste into BENCHMARKS.md.

    .venv/bin/python scripts/benchmark.py [--repeat 3] [--stage-repeat 1] [--quarto PATH/TO/quarto]
    .venv/bin/python scripts/benchmark.py --preview [--real] --quarto PATH/TO/quarto
    .venv/bin/python scripts/benchmark.py --scaling 40,640

Measured (wall seconds of the `reprobook` command, as an author waits):
  - cold build: empty cache, every notebook executes;
  - no-op rebuild: nothing changed since the last publish;
  - prose edit: one sentence of one chapter changed (a new sentence each run);
  - render stage: the built-in renderer vs real `quarto render` of the same
    staged book (both editions, cached notebooks, empty render cache; the
    render time is the build's time minus `reprobook check`'s);
  - notebook stage: the engine (independent notebooks in parallel, 2 cores)
    vs `jupyter nbconvert --to notebook --execute` of the same notebooks one
    after another (what a user would do by hand) vs the same code run as
    plain Python scripts (the floor);
  - peak memory of the build (the build process and its largest child).

With --preview: save-to-reload, the seconds from saving a prose edit to the
open page (Chromium) showing it, reloaded by the preview server, for
`reprobook preview` and `quarto preview` on the same generated book and
the same edits. With --scaling: cold build and one-chapter edit of
generated books of plain chapters, preview (HTML) and full builds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reprobook.project import load_project  # noqa: E402
from reprobook.verify import copy_source  # noqa: E402

BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def fresh_copy(tmp: Path, name: str) -> Path:
    return copy_source(load_project(ROOT), tmp / name)


def build(root: Path, renderer: str = "builtin", env: dict | None = None) -> float:
    return run([str(BIN / "reprobook"), "build", "--renderer", renderer], root, env)


def notebook_sources(root: Path) -> list[tuple[str, str]]:
    """(path, profile) of every notebook of the newest edition."""
    project = load_project(root, profile="1.1")
    return [(spec.path, "1.1") for spec in project.notebooks]


def as_script(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return "\n\n".join(line for line in code if not line.lstrip().startswith(("%", "!")))


def measure(args, rows: dict[str, list[float]], tmp: Path, index: int) -> None:
    no_quarto = {"PATH": os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                                         if not (Path(d) / "quarto").exists())}
    root = fresh_copy(tmp, f"build-{index}")
    rows["cold build (empty cache; all notebooks execute)"].append(build(root, env=no_quarto))
    rows["no-op rebuild (nothing changed)"].append(build(root, env=no_quarto))
    chapter = root / "chapters/mining-expansion.qmd"
    chapter.write_text(chapter.read_text().replace(
        "Growth came in bursts", f"Growth came (run {index}) in bursts", 1))
    rows["rebuild after a prose edit in one chapter"].append(build(root, env=no_quarto))
    if index >= args.stage_repeat:
        return

    # Render stage: same sources, notebooks cached, render cache emptied.
    check = run([str(BIN / "reprobook"), "check"], root, no_quarto)
    shutil.rmtree(root / ".reprobook/cache/memo", ignore_errors=True)
    (root / ".reprobook/published.json").unlink(missing_ok=True)
    rows["render stage: built-in renderer"].append(build(root, env=no_quarto) - check)
    if args.quarto:
        env = {"PATH": f"{Path(args.quarto).parent}{os.pathsep}{no_quarto['PATH']}"}
        rows["render stage: real quarto render"].append(build(root, "quarto", env) - check)

    # Notebook stage: the engine, then by hand one after another, then scripts.
    nb_root = fresh_copy(tmp, f"notebooks-{index}")
    rows["notebook stage: engine (parallel, cached results off)"].append(
        run([str(BIN / "reprobook"), "check"], nb_root, no_quarto) - check)
    notebooks = notebook_sources(nb_root)
    start = time.perf_counter()
    for path, profile in notebooks:
        run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", path,
             "--output-dir", str(tmp / f"nbconvert-{index}")], nb_root, {"QUARTO_PROFILE": profile})
    rows["notebook stage: jupyter nbconvert --execute, one after another"].append(time.perf_counter() - start)
    start = time.perf_counter()
    for path, profile in notebooks:
        script = nb_root / (path + ".py")
        script.write_text(as_script(nb_root / path))
        run([sys.executable, script.name], script.parent, {"QUARTO_PROFILE": profile,
                                                           "MPLBACKEND": "Agg"})
    rows["notebook stage: plain Python scripts (floor)"].append(time.perf_counter() - start)


# ------------------------------------------------------------ book scaling
def plain_book(root: Path, chapters: int) -> Path:
    """A generated book of `chapters` plain chapters (prose, sections and
    cross-references to other chapters; no notebooks, no data): a
    synthetic benchmark fixture, never published."""
    (root / "chapters").mkdir(parents=True)
    (root / "data/raw").mkdir(parents=True)
    (root / "data/raw/datapackage.json").write_text(json.dumps(
        {"name": "plain", "licenses": [{"name": "CC0-1.0"}], "resources": []}))
    names = [f"chapters/c{i:04d}.qmd" for i in range(1, chapters + 1)]
    (root / "_quarto.yml").write_text(
        "project:\n  type: book\n  output-dir: _site\nbook:\n  title: Plain\n"
        "  date: '2024-01-02'\n  chapters:\n    - index.qmd\n"
        + "".join(f"    - {n}\n" for n in names) + "format:\n  html: {}\n  typst: {}\n")
    (root / "reprobook.yml").write_text("datapackage: data/raw/datapackage.json\npdf: plain.pdf\n")
    (root / "index.qmd").write_text("---\ntitle: Plain\n---\n\nA generated book.\n")
    for i, name in enumerate(names, 1):
        other = [j for j in (i - 1, i + 1, (i * 7) % chapters + 1) if 1 <= j <= chapters and j != i]
        refs = ", ".join(f"@sec-c{j}" for j in other)
        prose = " ".join(f"Sentence {k} of chapter {i} says something plain." for k in range(12))
        (root / name).write_text(
            f"# Chapter {i} {{#sec-c{i}}}\n\n{prose}\n\nSee {refs}.\n\n"
            f"## Part one {{#sec-c{i}-a}}\n\n{prose}\n\n## Part two {{#sec-c{i}-b}}\n\n"
            f"{prose} As @sec-c{i}-a said.\n")
    return root


def scaling(sizes: list[int], tmp: Path, pdf: bool, repeat: int = 3) -> list[tuple[int, float, float]]:
    """(chapters, cold build s, one-chapter edit s) for each size; `pdf`:
    the full build, else the preview's HTML-only build (in process)."""
    from reprobook.build import build as build_book

    out = []
    for n in sizes:
        root = plain_book(tmp / f"plain-{n}-{'pdf' if pdf else 'html'}", n)
        start = time.perf_counter()
        build_book(load_project(root), renderer="builtin", pdf=pdf)
        cold = time.perf_counter() - start
        edits = []
        for run in range(repeat):  # the fastest of `repeat` edits: the machine may be busy
            chapter = root / "chapters/c0002.qmd"
            chapter.write_text(chapter.read_text().replace("Sentence 3 ", f"Sentence 3 (edit {run}) ", 1))
            start = time.perf_counter()
            build_book(load_project(root), renderer="builtin", pdf=pdf)
            edits.append(time.perf_counter() - start)
        out.append((n, cold, min(edits)))
    return out


# ------------------------------------------------------- save to reload
def _serve(cmd: list[str], cwd: Path, ready: str, env: dict) -> tuple[subprocess.Popen, str]:
    """Start a preview server; return it and the URL it prints once `ready`
    appears in its output."""
    import re
    import threading

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "COLUMNS": "400", **env})
    found = threading.Event()
    lines: list[str] = []
    url: list[str] = []

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            match = re.search(r"http://(?:127\.0\.0\.1|localhost):\d+/", line)
            if match and not url:
                url.append(match.group(0))
            if url and any(ready in seen for seen in lines):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(900):
        proc.kill()
        raise SystemExit(f"{' '.join(cmd)} did not start:\n{''.join(lines[-40:])}")
    return proc, url[0]


def save_to_reload(page, url: str, chapter: Path, old: str, new: str) -> float:
    """Seconds from saving `chapter` (with `old` replaced by `new`) until the
    open page shows `new`, reloaded by the preview server alone."""
    page.goto(url)
    page.wait_for_function(f"document.body.innerText.includes({json.dumps(old)})", timeout=60000)
    time.sleep(1.0)  # let the watcher settle on the current files
    chapter.write_text(chapter.read_text().replace(old, new, 1))
    start = time.perf_counter()
    page.wait_for_function(f"document.body.innerText.includes({json.dumps(new)})",
                           timeout=120000)
    return time.perf_counter() - start


def preview_comparison(tmp: Path, quarto: str | None, real: bool) -> dict[str, list[float]]:
    """Save-to-reload of `reprobook preview` (built-in renderer) and `quarto
    preview` on the same generated 40-chapter book, same prose edits (and of
    `reprobook preview` on this report with --real)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests/browser"))
    from browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

    no_quarto = {"PATH": os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                                         if not (Path(d) / "quarto").exists())}
    rows: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = chromium.new_page()

        def measure(name, cmd, root, ready, env, path, chapter, edits):
            proc, url = _serve(cmd, root, ready, env)
            print(f"{name}: serving at {url}", file=sys.stderr, flush=True)
            try:
                rows[name] = [save_to_reload(page, url + path, root / chapter, old, new)
                              for old, new in edits]
            finally:
                proc.terminate()
                proc.wait(30)

        edits = [(f"Sentence {k} of chapter 2 says", f"Sentence {k} (edited) of chapter 2 says")
                 for k in (3, 5, 7)]
        book = plain_book(tmp / "preview-builtin", 40)
        measure("reprobook preview (built-in renderer), 40-chapter book", [
            str(BIN / "reprobook"), "preview", "--port", "0"], book, "Serving", no_quarto,
            "chapters/c0002.html", "chapters/c0002.qmd", edits)
        if quarto:
            book = plain_book(tmp / "preview-quarto", 40)
            measure(f"quarto preview ({quarto_version(quarto)}), same book", [
                quarto, "preview", "--no-browser", "--render", "html", "--to", "html",
                "--port", "4798"], book, "Watching files for changes",
                {"PATH": f"{Path(quarto).parent}{os.pathsep}{no_quarto['PATH']}"},
                "chapters/c0002.html", "chapters/c0002.qmd", edits)
        if real:
            root = fresh_copy(tmp, "preview-real")
            old = "Growth came in bursts"
            measure("reprobook preview (built-in renderer), this report", [
                str(BIN / "reprobook"), "preview", "--port", "0"], root, "Serving", no_quarto,
                "1.1/chapters/mining-expansion.html", "chapters/mining-expansion.qmd",
                [(old, "Growth came (edited once) in bursts"),
                 ("Growth came (edited once) in bursts", "Growth came (edited twice) in bursts")])
        chromium.close()
    return rows


def quarto_version(quarto: str) -> str:
    out = subprocess.run([quarto, "--version"], capture_output=True, text=True).stdout.strip()
    return f"Quarto {out}" if out else "Quarto"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stage-repeat", type=int, default=None,
                        help="runs of the render- and notebook-stage comparisons (default: "
                             "--repeat; they take minutes, the build measurements seconds)")
    parser.add_argument("--quarto", default=shutil.which("quarto"),
                        help="a real quarto to compare the render stage with")
    parser.add_argument("--preview", action="store_true",
                        help="measure save-to-reload only: `reprobook preview` and `quarto "
                             "preview` side by side (with --real also on this report)")
    parser.add_argument("--real", action="store_true", help="with --preview: also this report")
    parser.add_argument("--scaling", default=None, metavar="N,M",
                        help="measure only cold build and one-chapter edit of generated books "
                             "of N and M plain chapters (e.g. 40,640)")
    args = parser.parse_args()
    if args.preview or args.scaling:
        with tempfile.TemporaryDirectory(prefix="reprobook-bench-") as tmp:
            if args.preview:
                print("| save to reload | runs (s) | median s |\n|---|---|---:|")
                for name, times in preview_comparison(Path(tmp), args.quarto, args.real).items():
                    print(f"| {name} | {', '.join(f'{t:.2f}' for t in times)} | "
                          f"{statistics.median(times):.2f} |")
            if args.scaling:
                sizes = [int(n) for n in args.scaling.split(",")]
                print("\n| build | chapters | cold s | one-chapter edit s (fastest of 3) |\n"
                      "|---|---:|---:|---:|")
                for pdf in (False, True):
                    for n, cold, edit in scaling(sizes, Path(tmp), pdf):
                        print(f"| {'full (HTML + PDF)' if pdf else 'preview (HTML only)'} | {n} | "
                              f"{cold:.2f} | {edit:.2f} |", flush=True)
        return
    if args.stage_repeat is None:
        args.stage_repeat = args.repeat
    rows: dict[str, list[float]] = {k: [] for k in (
        "cold build (empty cache; all notebooks execute)", "no-op rebuild (nothing changed)",
        "rebuild after a prose edit in one chapter", "render stage: built-in renderer",
        "render stage: real quarto render",
        "notebook stage: engine (parallel, cached results off)",
        "notebook stage: jupyter nbconvert --execute, one after another",
        "notebook stage: plain Python scripts (floor)")}
    with tempfile.TemporaryDirectory(prefix="reprobook-bench-") as tmp:
        for index in range(args.repeat):
            measure(args, rows, Path(tmp), index)
    med = {k: statistics.median(v) for k, v in rows.items() if v}
    print("| measurement | median s | min s | max s | runs |\n|---|---:|---:|---:|---:|")
    for name, times in rows.items():
        if times:
            print(f"| {name} | {med[name]:.2f} | {min(times):.2f} | {max(times):.2f} | {len(times)} |")
    cold = med["cold build (empty cache; all notebooks execute)"]
    print("\n| ratio | value | target |\n|---|---:|---|")
    print(f"| no-op / cold | {med['no-op rebuild (nothing changed)'] / cold:.1%} | ≤ 2 % |")
    print(f"| prose edit / cold | {med['rebuild after a prose edit in one chapter'] / cold:.1%} | ≤ 10 % |")
    if "render stage: real quarto render" in med:
        print(f"| quarto render / built-in render | "
              f"{med['render stage: real quarto render'] / med['render stage: built-in renderer']:.2f}× | |")
    engine = med.get("notebook stage: engine (parallel, cached results off)")
    if engine:
        print(f"| jupyter nbconvert --execute (sequential) / engine | "
              f"{med['notebook stage: jupyter nbconvert --execute, one after another'] / engine:.2f}× | ≥ 1.5× |")
        print(f"| engine / plain scripts | "
              f"{engine / med['notebook stage: plain Python scripts (floor)']:.2f}× | ≤ 1.3× |")
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"\npeak memory: largest process of any build (reprobook, kernel, pandoc, typst, "
          f"quarto) {child_kib / 1024:.0f} MiB; this script {self_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
