"""The notebook graph: which notebook consumes which other notebook's
outputs, checked and ordered.

A notebook declares an upstream output among its `inputs` as
`notebook:<name>/<output path>`, e.g. `notebook:clean/figures/sites.csv`,
where <name> is the other notebook's file name without `.ipynb` and the
path one of its declared `outputs`. The graph must be acyclic; every
consumed output must be declared by its notebook; two notebooks may not
share a name or an output. Each problem is a ConfigError naming the
notebooks, raised when the project is loaded, before anything runs.
"""

from __future__ import annotations

from typing import Iterable, Protocol

from ..errors import ConfigError


class NotebookSpec(Protocol):
    """What the graph reads of a notebook's declaration (project.NotebookSpec);
    a protocol, so this module sits below the project loader that uses it."""
    name: str
    path: str
    outputs: tuple[str, ...]
    upstream: tuple[tuple[str, str], ...]

UPSTREAM_PREFIX = "notebook:"


def parse_upstream(entry: str, where: str) -> tuple[str, str]:
    """`notebook:<name>/<path>` -> (name, path)."""
    body = entry[len(UPSTREAM_PREFIX):]
    name, _, path = body.partition("/")
    if not name or not path or path.startswith("/") or ".." in path.split("/"):
        raise ConfigError(f"{where}: '{entry}' must read notebook:<notebook name>/<one of its "
                          "declared outputs>, e.g. notebook:clean/figures/sites.csv")
    return name, path


def check(notebooks: Iterable[NotebookSpec], label: str) -> None:
    """Raise a ConfigError for a name clash, an output declared twice, an
    unknown upstream notebook or output, or a cycle."""
    notebooks = list(notebooks)
    by_name: dict[str, NotebookSpec] = {}
    for spec in notebooks:
        if spec.name in by_name:
            raise ConfigError(f"{label}: notebooks {by_name[spec.name].path} and {spec.path} are "
                              f"both named '{spec.name}' (a notebook's name is its file name "
                              "without .ipynb; rename one)")
        by_name[spec.name] = spec
    writers: dict[str, str] = {}
    for spec in notebooks:
        for output in spec.outputs:
            if output in writers:
                raise ConfigError(f"{label}: {output} is declared as an output of both "
                                  f"{writers[output]} and {spec.path}; one file, one notebook")
            writers[output] = spec.path
    for spec in notebooks:
        for name, path in spec.upstream:
            if name not in by_name:
                raise ConfigError(f"{label}: {spec.path} reads notebook:{name}/{path}, but no "
                                  f"notebook is named '{name}' (known: {', '.join(sorted(by_name))})")
            if path not in by_name[name].outputs:
                raise ConfigError(f"{label}: {spec.path} reads notebook:{name}/{path}, which "
                                  f"{by_name[name].path} does not declare among its outputs")
    cycle = find_cycle(notebooks)
    if cycle:
        paths = ", ".join(by_name[n].path for n in cycle[:-1])
        raise ConfigError(f"{label}: notebooks depend on each other in a cycle: "
                          f"{' -> '.join(cycle)} ({paths}); a notebook cannot consume, even "
                          "indirectly, its own outputs")


def upstreams(spec: NotebookSpec) -> list[str]:
    """Names of the notebooks `spec` consumes, each once, in declaration order."""
    return list(dict.fromkeys(name for name, _ in spec.upstream))


def find_cycle(notebooks: Iterable[NotebookSpec]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None."""
    deps = {spec.name: upstreams(spec) for spec in notebooks}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for up in deps.get(name, []):
            if state.get(up) == 1:
                return stack[stack.index(up):] + [up]
            if up in deps and state.get(up) is None:
                found = visit(up)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return None

    for name in deps:
        if state.get(name) is None:
            found = visit(name)
            if found:
                return found
    return None


def topological(notebooks: Iterable[NotebookSpec]) -> list[NotebookSpec]:
    """Upstreams before their consumers; otherwise the order of reprobook.yml
    (stable, so plans and logs read the same every time)."""
    notebooks = list(notebooks)
    order, done = [], set()
    remaining = list(notebooks)
    while remaining:
        progressed = False
        for spec in list(remaining):
            if all(up in done for up in upstreams(spec)):
                order.append(spec)
                done.add(spec.name)
                remaining.remove(spec)
                progressed = True
        if not progressed:  # load_project refuses cycles; this is a safeguard
            raise ConfigError("notebooks depend on each other in a cycle: "
                              + ", ".join(s.path for s in remaining))
    return order


def levels(notebooks: Iterable[NotebookSpec]) -> dict[str, int]:
    """Each notebook's depth: 0 without upstreams, else 1 + its deepest upstream."""
    depth: dict[str, int] = {}
    for spec in topological(notebooks):
        depth[spec.name] = 1 + max((depth[u] for u in upstreams(spec)), default=-1)
    return depth


def _mermaid_id(name: str) -> str:
    return "nb_" + "".join(c if c.isalnum() else "_" for c in name)


def render_text(notebooks, runs: dict | None = None) -> str:
    """The graph as indented text: each notebook with what it reads and, with
    `runs` (name -> PlannedRun), whether it would execute and why."""
    notebooks = topological(notebooks)
    depth = levels(notebooks)
    lines = []
    for spec in notebooks:
        head = f"{'  ' * depth[spec.name]}{spec.name} ({spec.path})"
        run = (runs or {}).get(spec.name)
        if run is not None:
            head += (f"  -> execute: {'; '.join(run.reasons)}" if run.needed
                     else "  -> reuse cache")
        lines.append(head)
        pad = "  " * depth[spec.name] + "    "
        for resource in spec.inputs:
            lines.append(f"{pad}<- data {resource}")
        for name, path in spec.upstream:
            lines.append(f"{pad}<- {name}: {path}")
    return "\n".join(lines) + "\n"


def render_mermaid(notebooks, runs: dict | None = None) -> str:
    """Mermaid flowchart source (```mermaid in Markdown): data resources as
    rounded boxes, notebooks as boxes, edges labelled with the file read;
    with `runs`, notebooks that would execute are marked."""
    notebooks = topological(notebooks)
    lines = ["flowchart LR"]
    resources = sorted({r for spec in notebooks for r in spec.inputs})
    for resource in resources:
        lines.append(f'  data_{_mermaid_id(resource)[3:]}(["{resource}"])')
    for spec in notebooks:
        lines.append(f'  {_mermaid_id(spec.name)}["{spec.name}"]')
    for spec in notebooks:
        for resource in spec.inputs:
            lines.append(f"  data_{_mermaid_id(resource)[3:]} --> {_mermaid_id(spec.name)}")
        for name, path in spec.upstream:
            lines.append(f'  {_mermaid_id(name)} -- "{path}" --> {_mermaid_id(spec.name)}')
    if runs:
        lines.append("  classDef execute fill:#fde2c8,stroke:#b45309")
        todo = [_mermaid_id(n) for n, r in runs.items() if r.needed]
        if todo:
            lines.append(f"  class {','.join(todo)} execute")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    """A DOT double-quoted string (IDs and labels): backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(notebooks, runs: dict | None = None) -> str:
    """Graphviz DOT source (`dot -Tsvg`): data resources as cylinders,
    notebooks as boxes, an edge for each file read (upstream edges labelled
    with the output path); with `runs`, notebooks that would execute are
    filled. Node IDs are `data:<resource>` and `notebook:<name>`."""
    notebooks = topological(notebooks)
    todo = {n for n, r in (runs or {}).items() if r.needed}
    lines = ["digraph notebooks {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for resource in sorted({r for spec in notebooks for r in spec.inputs}):
        lines.append(f"  {_dot_quote('data:' + resource)} [label={_dot_quote(resource)}, "
                     "shape=cylinder];")
    for spec in notebooks:
        style = ', style=filled, fillcolor="#fde2c8", color="#b45309"' if spec.name in todo else ""
        lines.append(f"  {_dot_quote('notebook:' + spec.name)} [label={_dot_quote(spec.name)}, "
                     f"tooltip={_dot_quote(spec.path)}, shape=box{style}];")
    for spec in notebooks:
        target = _dot_quote("notebook:" + spec.name)
        for resource in spec.inputs:
            lines.append(f"  {_dot_quote('data:' + resource)} -> {target};")
        for name, path in spec.upstream:
            lines.append(f"  {_dot_quote('notebook:' + name)} -> {target} "
                         f"[label={_dot_quote(path)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
