"""Notebook execution, split in parts the executors share:

    graph   which notebook consumes which notebook's outputs; checks, order, text/Mermaid/DOT
    cache   cache keys (content hashes, chained through upstream keys), the store and lookup
    runner  run one notebook with a real kernel in a project folder (guarded)
    local   executor: a thread pool on this machine (the default)
    dask    executor: a Dask distributed cluster, project files shipped as bytes

`reprobook.execute` keeps the engine's public names (plan, execute, ...).
"""
