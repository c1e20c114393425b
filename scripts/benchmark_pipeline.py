"""Benchmark of the notebook executors (issue 14): a generated project of 24
notebooks, each about 2 s of real (CPU) work, 6 of them consuming another's
output (6 chains of two), executed from an empty cache

  - sequentially (the local pool with one job),
  - by the local pool with 2 jobs (this machine's 2 cores),
  - on a Dask cluster of 2 single-threaded workers on 127.0.0.1 (a
    scheduler and two worker processes started here, stopped by PID).

Prints a Markdown table for BENCHMARKS.md: wall time, speed-up over
sequential, and the scheduling overhead per notebook, i.e. (wall time x
slots - the notebooks' own measured work) / 24: kernel start, shipping
files, waiting for upstreams, committing to the cache.

    .venv/bin/python scripts/benchmark_pipeline.py [--work 2.0]

With --large-mb N, instead: 8 notebooks all reading the same generated
N MiB input, on the 2-worker cluster, the input sent to the cluster once
(scattered, the default for files of SCATTER_BYTES or more) against sent
with every task; the notebooks only hash the file, so the difference is the
shipping. Notebooks run through the executor directly (the generated binary
input is not a table the data validator would read).

    .venv/bin/python scripts/benchmark_pipeline.py --large-mb 64
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reprobook.build import check  # noqa: E402
from reprobook.project import load_project  # noqa: E402

from tests.conftest import make_mini_project  # noqa: E402
from tests.dask_cluster import start_cluster  # noqa: E402
from tests.test_pipeline import _notebook  # noqa: E402

COUNT = 22  # generated notebooks, plus the mini project's a and b: 24
CHAINS = 6  # g00 -> g01, g02 -> g03, ... g10 -> g11


def calibrate(seconds: float) -> int:
    n = 200_000
    while True:
        start = time.perf_counter()
        sum(i * i for i in range(n))
        took = time.perf_counter() - start
        if took > 0.2:
            return int(n * seconds / took)
        n *= 2


def make_project(root: Path, loops: int) -> Path:
    make_mini_project(root)
    lines = (root / "reprobook.yml").read_text().splitlines()
    entries = []
    for i in range(COUNT):
        name = f"g{i:02d}"
        upstream = f"g{i - 1:02d}" if i % 2 == 1 and i < 2 * CHAINS else None
        inputs = ["alpha"] + ([f"notebook:{upstream}/figures/{upstream}.csv"] if upstream else [])
        read = (f"prev = step.read_csv('notebook:{upstream}/figures/{upstream}.csv').x.sum()"
                if upstream else "prev = 0")
        _notebook(root / f"notebooks/{name}.ipynb",
                  f"from reprobook.notebook import Step\nstep = Step('{name}')\n"
                  "df = step.read_csv('alpha')\n" + read,
                  "import time\nstart = time.perf_counter()\n"
                  f"x = sum(i * i for i in range({loops})) % 1000 + int(prev)\n"
                  "work = time.perf_counter() - start",
                  "import pandas as pd\n"
                  f"pd.DataFrame({{'x': [x]}}).to_csv(step.output_path('figures/{name}.csv'), "
                  "index=False)\n"
                  f"step.fact('{name}.x', int(x), unit='n')\n"
                  f"step.fact('{name}.work', round(work, 3), unit='s')",
                  "step.finish()")
        entries += [f"  - path: notebooks/{name}.ipynb", f"    inputs: {json.dumps(inputs)}",
                    f"    outputs: [figures/{name}.csv]"]
    at = lines.index("pdf: mini.pdf")
    (root / "reprobook.yml").write_text("\n".join(lines[:at] + entries + lines[at:]) + "\n")
    return root


def timed(source: Path, dest: Path, **options) -> tuple[float, float]:
    """Wall time of executing every notebook of a fresh copy, and the sum of
    the notebooks' own measured work."""
    shutil.copytree(source, dest)
    project = load_project(dest)
    start = time.perf_counter()
    result = check(project, **options)
    wall = time.perf_counter() - start
    assert len(result.executed) == COUNT + 2, result.executed
    work = sum(f["value"] for k, f in result.facts.items() if k.endswith(".work"))
    return wall, work


LARGE_READERS = 8


def make_large_project(root: Path, megabytes: int) -> Path:
    """The mini project plus a generated binary resource `big` of
    `megabytes` MiB (deterministic bytes) and 8 notebooks hashing it."""
    import hashlib

    make_mini_project(root)
    block = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(1 << 15))  # 1 MiB
    with open(root / "data/raw/big.bin", "wb") as out:
        for _ in range(megabytes):
            out.write(block)
    descriptor = json.loads((root / "data/raw/datapackage.json").read_text())
    descriptor["resources"].append({"name": "big", "path": "big.bin", "title": "big",
                                    "description": "generated benchmark input", "format": "bin",
                                    "hash": "sha256:", "sources": [{"title": "benchmark"}]})
    (root / "data/raw/datapackage.json").write_text(json.dumps(descriptor, indent=2))
    entries = []
    for i in range(LARGE_READERS):
        name = f"r{i}"
        _notebook(root / f"notebooks/{name}.ipynb",
                  f"from reprobook.notebook import Step\nstep = Step('{name}')",
                  "import hashlib\n"
                  "digest = hashlib.sha256(step.input_path('big').read_bytes()).hexdigest()\n"
                  f"step.fact('{name}.digest', digest[:12], unit='sha256')",
                  "step.finish()")
        entries += [f"  - path: notebooks/{name}.ipynb", "    inputs: [big]"]
    lines = (root / "reprobook.yml").read_text().splitlines()
    at = lines.index("pdf: mini.pdf")
    (root / "reprobook.yml").write_text("\n".join(lines[:at] + entries + lines[at:]) + "\n")
    return root


def large_input(megabytes: int) -> None:
    from reprobook.execute import plan
    from reprobook.pipeline import dask as dask_executor

    tmp = Path(tempfile.mkdtemp(prefix="bench-large-"))
    try:
        source = make_large_project(tmp / "source", megabytes)
        cluster = start_cluster(tmp / "cluster", workers=2)
        rows = {}
        try:
            for label, threshold in (("sent with every task", 1 << 62),
                                     ("scattered once (default)", dask_executor.SCATTER_BYTES)):
                dest = tmp / label.split()[0]
                shutil.copytree(source, dest)
                project = load_project(dest)
                runs = [r for r in plan(project) if r.spec.name.startswith("r")]
                shipped = {"scattered": 0}
                real = dask_executor.Shipper

                def shipper(client, _threshold=None, threshold=threshold):
                    ship = real(client, threshold)
                    shipped["ship"] = ship
                    return ship

                dask_executor.Shipper = shipper
                try:
                    start = time.perf_counter()
                    dask_executor.execute(project, runs, cluster.address)
                    wall = time.perf_counter() - start
                finally:
                    dask_executor.Shipper = real
                scattered = shipped["ship"].scattered_bytes
                per_task = LARGE_READERS * megabytes * (1 << 20) if not scattered else 0
                rows[label] = (wall, (scattered + per_task) / (1 << 20))
        finally:
            cluster.stop()
        print(f"{LARGE_READERS} notebooks reading the same {megabytes} MiB input, Dask cluster "
              "of 2 workers x 1 thread\n")
        print("| large input | wall time | input bytes the client sends |")
        print("|---|---:|---:|")
        for label, (wall, sent) in rows.items():
            print(f"| {label} | {wall:.1f} s | {sent:.0f} MiB |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=float, default=2.0, help="seconds of work per notebook")
    parser.add_argument("--large-mb", type=int, default=0,
                        help="measure shipping one large input instead (MiB)")
    args = parser.parse_args()
    if args.large_mb:
        large_input(args.large_mb)
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        source = make_project(tmp / "source", calibrate(args.work))
        rows = {}
        rows["sequential (local pool, 1 job)"] = (*timed(source, tmp / "seq", jobs=1), 1)
        rows["local pool, 2 jobs"] = (*timed(source, tmp / "pool", jobs=2), 2)
        cluster = start_cluster(tmp / "cluster", workers=2)
        try:
            rows["Dask cluster, 2 workers x 1 thread"] = (
                *timed(source, tmp / "dask", scheduler=cluster.address), 2)
        finally:
            cluster.stop()
        sequential = rows["sequential (local pool, 1 job)"][0]
        print(f"24 notebooks (22 generated + 2), {CHAINS} chained pairs, "
              f"~{args.work:g} s of work each\n")
        print("| executor | wall time | speed-up vs sequential | notebooks' own work | "
              "overhead per notebook |")
        print("|---|---:|---:|---:|---:|")
        for label, (wall, work, slots) in rows.items():
            overhead = (wall * slots - work) / (COUNT + 2)
            print(f"| {label} | {wall:.1f} s | {sequential / wall:.2f}× | {work:.1f} s | "
                  f"{overhead:.2f} s |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
