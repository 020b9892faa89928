"""``transom`` with the reuse of repeated heads turned off, for benchmarks.

The connection reuses the parse of a request head byte-identical to the
previous one on the connection
(``transom.http.connection.REUSE_REPEATED_HEADS``). Load generators send the
same request over and over, so that flatters them; real clients vary their
paths and heads. This runs the ``transom`` command with the reuse off, so a
benchmark can report both figures:

    python benchmarks/transom_uncached.py run apps.raw_asgi:app --port 8000
"""

from __future__ import annotations

import sys

from transom import cli
from transom.http import connection

if __name__ == "__main__":
    connection.REUSE_REPEATED_HEADS = False
    sys.exit(cli.main())
