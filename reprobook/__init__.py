"""reprobook: a small engine that turns raw data and Jupyter notebooks into a
Quarto-style book (HTML site + PDF), reproducibly.

Stages, each one module, data flowing one way:

    project   read _quarto.yml + reprobook.yml
    validate  check data/raw against its Frictionless descriptor
    execute   run notebooks (cached by content hash) -> figures + facts
    facts     merge the facts notebooks recorded -> _variables.yml, facts.json
    render    quarto render, or the built-in pandoc + Typst path
    publish   swap the new site in atomically

The engine knows nothing about any particular report.
"""

__version__ = "0.9.0"  # the distribution's version (pyproject.toml reads it here)
