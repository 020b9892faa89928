"""The ``transom`` command: ``transom run | http | https | demo``.

This is a composition root: it may import every layer. Each subcommand
keeps its own argument parsing beside the code it drives.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """\
usage: transom <command> [options]
       transom --version   (the version, and which build runs: compiled or pure Python)

commands:
  run MODULE:ATTR   serve an ASGI application (transom run --help)
  http              send an HTTP request, HTTPie-style (transom http --help)
  https             the same, with https as the default scheme
  demo              serve the demo: an httpbin API and a notes site (transom demo --help)
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``transom`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in ("--version", "-V"):
        from transom._build import version_line

        sys.stdout.write(version_line() + "\n")
        return 0
    if command == "run":
        from transom.server.cli import run_command

        return run_command(rest)
    if command == "http":
        from transom.client.cli import http_command

        return http_command(rest)
    if command == "https":
        from transom.client.cli import https_command

        return https_command(rest)
    if command == "demo":
        from transom.demo.cli import demo_command

        return demo_command(rest)
    sys.stderr.write(f"transom: unknown command {command!r}\n{USAGE}")
    return 2
