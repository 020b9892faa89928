"""Every benchmark script still starts: ``python benchmarks/NAME.py --help`` prints its usage.

The benchmarks are run by hand, never by the suite, so a broken import (a helper
moved to ``benchmarks/_harness.py``, a renamed module of the package) would go
unnoticed until the next measurement. ``--help`` imports the whole script and
builds its command line, and measures nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"

#: Files of benchmarks/ that have no command line, so no ``--help``, and why.
NOT_SCRIPTS = {
    # The helpers the scripts import (``from _harness import ...``), not a script.
    "_harness.py",
    # Client functions that ../shared/bench/client_compare.py imports, not a script.
    "clients.py",
}
SCRIPTS = sorted(path for path in BENCHMARKS.glob("*.py") if path.name not in NOT_SCRIPTS)


def test_benchmarks_left_out_files_have_no_command_line() -> None:
    for name in NOT_SCRIPTS:
        text = (BENCHMARKS / name).read_text()
        assert "argparse" not in text, f"{name} has a command line now: test its --help"


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_benchmarks_script_help_runs(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "usage" in done.stdout, done.stdout + done.stderr
