"""The ``transom`` command's dispatch: help, unknown commands, and each subcommand reached."""

from __future__ import annotations

import subprocess
import sys

import pytest

from transom.cli import main


def test_cli_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "run MODULE:ATTR" in out
    assert "http" in out


def test_cli_without_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: transom" in capsys.readouterr().out


def test_cli_unknown_command_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve-it"]) == 2
    assert "unknown command 'serve-it'" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "http"])
def test_cli_subcommand_help_runs_as_module(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "transom", command, "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower()
    assert "Traceback" not in done.stderr


def test_cli_https_command_is_dispatched(capsys: pytest.CaptureFixture[str]) -> None:
    from transom import __version__
    from transom.cli import main

    assert main(["https", "--version"]) == 0
    assert __version__ in capsys.readouterr().out
