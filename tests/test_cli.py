"""The command line: every command has --help; build and dry-run talk."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from reprobook.cli import main

COMMANDS = ["build", "check", "clean", "preview", "facts", "dag", "data", "data validate", "data rehash"]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [*command.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_dry_run_says_what_would_run_and_why(mini):
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--dry-run", "--root", str(mini.root)])
    assert result.exit_code == 0, result.output
    assert "notebooks/a.ipynb" in result.output and "never executed" in result.output
    assert not mini.site_dir.exists()


def test_build_prints_progress_and_check_reports_facts(mini):
    runner = CliRunner()
    result = runner.invoke(main, ["build", "--root", str(mini.root)])
    assert result.exit_code == 0, result.output
    assert "executed" in result.output and "published" in result.output
    result = runner.invoke(main, ["check", "--root", str(mini.root)])
    assert "up to date (cached)" in result.output


def test_bad_data_exits_nonzero_with_message(mini):
    (mini.root / "data/raw/beta.csv").write_text("id,amount\n1,x\n")
    result = CliRunner().invoke(main, ["data", "validate", "--root", str(mini.root)])
    assert result.exit_code == 1


@pytest.mark.parametrize("has_pytest", [True, False])
def test_new_says_how_to_get_pytest_when_it_is_missing(tmp_path, has_pytest):
    # A fresh venv has no pytest; `reprobook new` ends with `pytest`, which
    # would find another environment's and fail on a missing pandas. A real
    # process in which `import pytest` fails (sys.modules entry None).
    import os
    import subprocess
    import sys

    hide = "" if has_pytest else "sys.modules['pytest'] = None; "
    code = f"import sys; {hide}from reprobook.cli import main; main(['new', sys.argv[1]])"
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "r")], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200"}, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "next: cd" in proc.stdout and "reprobook build && pytest" in proc.stdout
    assert ("pip install pytest" in proc.stdout) is not has_pytest
