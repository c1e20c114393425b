"""Loaded by the kernel of every notebook the engine executes (the engine puts
this folder first on PYTHONPATH): a Python audit hook that enforces what the
notebook declares in reprobook.yml.

  - Inside the project, a notebook may read only its declared inputs, the
    code of its declared `imports`, the project's configuration, its own
    source, and the engine's and environment's files; reading anything else
    (another notebook's outputs, a raw file it did not declare, a chapter)
    raises PermissionError naming the file.
  - It may write only into its outputs folder, the engine's caches under
    .reprobook/, and its private temporary folder (TMPDIR); outside the
    project, only into the usual per-user cache and configuration folders.

The policy comes from REPROBOOK_GUARD (JSON), written by
reprobook/pipeline/runner.py (guard_policy); a notebook may also read exactly
the upstream outputs it declares (notebook:<name>/<output>).
Python's `open` (and io.open_code, os.open) is audited; files opened by C
libraries directly (GDAL through rasterio or pyogrio) are not: see
docs/reliability.md.
"""

import json
import os
import sys


FIGURE_EXTENSIONS = (".svg", ".pdf", ".png", ".webp", ".jpg", ".jpeg", ".gif", ".tif", ".tiff", ".eps")


def _install() -> None:
    raw = os.environ.get("REPROBOOK_GUARD")
    if not raw:
        return
    policy = json.loads(raw)
    root = policy["root"]
    notebook = policy["notebook"]
    read_files = set(policy["read_files"])
    read_dirs = tuple(policy["read_dirs"])
    write_dirs = tuple(policy["write_dirs"])
    outside_write_dirs = tuple(policy["outside_write_dirs"])
    outputs = tuple(policy.get("outputs", ()))
    realpath = os.path.realpath
    sep = os.sep

    def under(path: str, folders: tuple) -> bool:
        return any(path == f or path.startswith(f + sep) for f in folders)

    def write_refused(full: str, inside: bool) -> str:
        """Why the write is refused and what to write instead: outputs
        reach the engine only through Step, which writes them into the
        run's own folder (a declared path written directly is refused too)."""
        where = os.path.relpath(full, root) if inside else full
        name = os.path.basename(full)
        stem, ext = os.path.splitext(name)
        declared = next((o for o in outputs if o == where), None) or \
            next((o for o in outputs if os.path.basename(o) == name), None)
        declare = f"under `outputs:` of {notebook} in reprobook.yml"
        if ext.lower() in FIGURE_EXTENSIONS:
            how = f'step.save_figure(fig, "{stem}")'
            files = f"figures/{stem}.svg and figures/{stem}.pdf"
        elif ext.lower() == ".md":
            how = f'step.save_table(df, "{stem}")'
            files = f"figures/{stem}.md and figures/{stem}.csv"
        else:
            how = f'step.output_path("{declared or "figures/" + name}") as the path'
            files = declared or f"figures/{name}"
        if declared:
            return (f"reprobook: {notebook} writes {where} directly; a declared output is "
                    f"collected only when written through Step: use {how}")
        if not inside and ext.lower() not in FIGURE_EXTENSIONS:
            return (f"reprobook: {notebook} writes {where}, which is not among its declared "
                    "outputs: write scratch files in a temporary folder "
                    "(tempfile.TemporaryDirectory()), outputs through step.output_path(...), "
                    f"each declared {declare}")
        return (f"reprobook: {notebook} writes {where}, which is not among its declared "
                f"outputs: use {how} and declare what it writes ({files}) {declare}")

    def check(path, writing: bool) -> None:
        if isinstance(path, int):
            return  # an already open file descriptor
        try:
            full = realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        inside = full == root or full.startswith(root + sep)
        if writing:
            if under(full, write_dirs) or (not inside and under(full, outside_write_dirs)):
                return
            raise PermissionError(write_refused(full, inside))
        if not inside or full in read_files or under(full, read_dirs) or under(full, write_dirs):
            return
        raise PermissionError(
            f"reprobook: {notebook} reads {os.path.relpath(full, root)}, which it does not "
            "declare (add the resource to its `inputs` in reprobook.yml)")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if path is None:
                return
            writing = False
            if isinstance(mode, str):
                writing = any(c in mode for c in "wax+")
            elif isinstance(flags, int):
                writing = bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
            check(path, writing)
        elif event in ("os.remove", "os.rename", "os.mkdir", "shutil.rmtree"):
            for target in args[:2] if event == "os.rename" else args[:1]:
                if isinstance(target, (str, bytes, os.PathLike)):
                    check(target, True)
        elif event == "shutil.copyfile" and len(args) >= 2:
            check(args[0], False)
            check(args[1], True)

    sys.addaudithook(hook)


_install()
