"""The engine's own configuration files (reprobook.yml, editions.yml) checked
against their expected keys and types before anything is used: a typo is
an error with the key's path and a suggestion, never silently ignored.
(_quarto.yml belongs to Quarto, which validates it itself.)"""

from __future__ import annotations

from .errors import ConfigError, did_you_mean

# key -> expected type(s); a dict value is a nested mapping's schema, a
# one-item list a list of such mappings.
NOTEBOOK = {"path": str, "inputs": list, "imports": list, "outputs": list, "timeout": int}
HIGHLIGHT = {"fact": str, "label": str, "chapter": str}
# The work a publication reproduces: named on the PDF's cover and in the
# landing page's title block.
ORIGINAL = {"title": str, "author": str, "date": (str, object), "url": str, "funders": list}
ENGINE = {"datapackage": str, "notebooks": [NOTEBOOK], "assets": list, "pdf": str,
          "highlights": [HIGHLIGHT], "timeout": int, "original": ORIGINAL}
EDITION = {"number": (str, int, float), "date": (str, object), "title": str, "status": str,
           "summary": str, "profile": (str, type(None)), "pins": dict}
EDITIONS = {"editions": [EDITION]}

TYPE_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "a mapping"}


def check(data, schema: dict, where: str) -> None:
    """Raise ConfigError at the first unknown key or wrongly typed value."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    for key, value in data.items():
        if key not in schema:
            hint = did_you_mean(key, schema, n=1) or f" (known keys: {', '.join(sorted(schema))})"
            raise ConfigError(f"{where}: unknown key '{key}'{hint}")
        expected = schema[key]
        # "reprobook.yml: original.title", "editions.yml: editions[0]"
        path = f"{where}: {key}" if where.endswith(".yml") else f"{where}.{key}" if where else key
        if isinstance(expected, dict):
            check(value, expected, path)
        elif isinstance(expected, list):
            if not isinstance(value, list):
                raise ConfigError(f"{path}: expected a list, got {value!r}")
            for i, item in enumerate(value):
                check(item, expected[0], f"{path}[{i}]")
        elif value is not None and not isinstance(value, expected):
            wanted = TYPE_NAMES.get(expected, getattr(expected, "__name__", str(expected)))
            raise ConfigError(f"{path}: expected {wanted}, got {value!r}")
