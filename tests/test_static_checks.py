"""The code stays typed and linted: ``mypy --strict`` and ruff run as part of the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.timeout(600)
def test_static_checks_mypy_strict_is_clean() -> None:
    done = _run("mypy")  # configuration (strict, the package) in pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "args", [("ruff", "check", "."), ("ruff", "format", "--check", ".")], ids=["lint", "format"]
)
def test_static_checks_ruff_is_clean(args: tuple[str, ...]) -> None:
    done = _run(*args)
    assert done.returncode == 0, done.stdout + done.stderr
