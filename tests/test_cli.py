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
