"""Build-time benchmark: cold build, warm rebuild, rebuild after a chapter
edit, in a clean temporary copy of the project. Prints a markdown table to
paste into BENCHMARKS.md.

    .venv/bin/python scripts/benchmark.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reprobook.build import build  # noqa: E402
from reprobook.project import load_project  # noqa: E402
from reprobook.verify import copy_source  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mib() -> tuple[float, float]:
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return self_kib / 1024, children_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, list[float]] = {"cold build (all notebooks execute)": [],
                                    "warm rebuild (nothing changed)": [],
                                    "rebuild after editing one chapter": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            project = load_project(copy_source(load_project(ROOT), Path(tmp) / "p"))
            rows["cold build (all notebooks execute)"].append(timed(lambda: build(project)))
            rows["warm rebuild (nothing changed)"].append(timed(lambda: build(project)))
            chapter = project.root / project.chapters[-1]
            chapter.write_text(chapter.read_text() + "\nOne more sentence.\n")
            rows["rebuild after editing one chapter"].append(timed(lambda: build(project)))
    main_mib, child_mib = peak_mib()
    print(f"| step | median s | min s | max s | runs |\n|---|---:|---:|---:|---:|")
    for name, times in rows.items():
        print(f"| {name} | {statistics.median(times):.1f} | {min(times):.1f} | {max(times):.1f} | {len(times)} |")
    print(f"\npeak memory: build process {main_mib:.0f} MiB, largest child (kernel, pandoc, typst) {child_mib:.0f} MiB")


if __name__ == "__main__":
    main()
