"""The public API (reprobook.__all__): every name resolves to what
docs/api.md says it is, whatever was imported first, and the page lists
every one of them."""

from __future__ import annotations

import json
import subprocess
import sys

import reprobook

from .conftest import ROOT


def test_public_names_are_the_functions_whatever_was_imported_first():
    # A fresh interpreter that loads the submodules build and verify (as the
    # command line does) before asking the package for the functions.
    probe = """
import json, reprobook.verify, reprobook.build
from reprobook.build import clean
import reprobook
from reprobook import build, verify
print(json.dumps({"build": [build.__module__, build.__name__, callable(reprobook.build)],
                  "verify": [verify.__module__, verify.__name__, callable(reprobook.verify)],
                  "clean": clean.__name__}))
"""
    out = json.loads(subprocess.run([sys.executable, "-c", probe], check=True, cwd=ROOT,
                                    capture_output=True, text=True).stdout)
    assert out == {"build": ["reprobook.build", "build", True],
                   "verify": ["reprobook.verify", "verify", True], "clean": "clean"}


def test_every_public_name_resolves_and_is_documented():
    from reprobook.errors import BuildError
    from reprobook.notebook import Step

    assert reprobook.Step is Step and issubclass(reprobook.ConfigError, BuildError)
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for name in reprobook.__all__:
        assert getattr(reprobook, name) is not None
        if name != "__version__":
            assert f"`{name}" in api, f"docs/api.md does not list {name}"
    assert "not_public" not in dir(reprobook)
    try:
        reprobook.not_public
    except AttributeError as exc:
        assert "has no attribute 'not_public'" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")
