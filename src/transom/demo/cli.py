"""``transom demo``: serve the demo app with Transom's server.

Exit codes as ``transom run``: 0 after a clean shutdown (Ctrl-C, SIGTERM),
2 for unusable settings (one line on stderr), 3 when start-up fails.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["build_parser", "demo_command"]

DEFAULT_DATA_DIR = ".transom-demo"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="transom demo",
        description="Serve the demo: an httpbin-compatible API and a notes site.",
    )
    add = p.add_argument
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=8000, help="port to bind (default 8000; 0 picks one)")
    add("--workers", type=int, default=1, help="worker processes (default 1)")
    add(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        help=f"users, notes, files, sessions (default ./{DEFAULT_DATA_DIR}, made on first run)",
    )
    add("--database-url", help="keep users and notes in PostgreSQL: postgresql://...")
    add("--redis-url", help="keep sessions and rate-limit counters in Redis: redis://...")
    add("--ssl-certfile", help="TLS certificate chain (PEM)")
    add("--ssl-keyfile", help="TLS private key (PEM)")
    add("--no-access-log", dest="access_log", action="store_false", help="no access log")
    return p


def _banner(scheme: str, host: str, port: int, data_dir: Path) -> str:
    """What to print before serving: where, and three things to try."""
    shown = "PORT" if port == 0 else str(port)
    url = f"{scheme}://{host}:{shown}"
    local = host in ("127.0.0.1", "localhost") and scheme == "http"
    short = f":{shown}" if local else url
    chosen = (
        "\n(PORT: the one the system chose, in the 'serving on' line below)" if port == 0 else ""
    )
    return f"""\
Transom demo on {url}{chosen}
Data in {data_dir}

Three things to try:
  transom http {short}/get
  open {url}/site/     (register; the first account is the admin)
  curl -H "Authorization: Bearer TOKEN" {url}/api/notes     (TOKEN from /site/tokens)

Ctrl-C stops it.
"""


def demo_command(argv: Sequence[str]) -> int:
    """``transom demo ...``; returns the exit code."""
    args = build_parser().parse_args(list(argv))
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        sys.stderr.write("transom demo: error: give --ssl-certfile and --ssl-keyfile together\n")
        return 2
    import transom
    from transom.demo.app import create_app
    from transom.demo.site.live import MAX_MESSAGE_SIZE

    data_dir = Path(args.data_dir).resolve()
    try:
        app = create_app(
            data_dir=data_dir, database_url=args.database_url, redis_url=args.redis_url
        )
    except (OSError, ValueError, transom.ConfigurationError) as exc:
        sys.stderr.write(f"transom demo: error: {exc}\n")
        return 2
    scheme = "https" if args.ssl_certfile else "http"
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    host = f"[{host}]" if ":" in host else host
    sys.stdout.write(_banner(scheme, host, args.port, data_dir))
    sys.stdout.flush()
    try:
        return transom.serve(
            app,
            host=args.host,
            port=args.port,
            workers=args.workers,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            access_log=args.access_log,
            log_level="info",
            # The demo's one WebSocket takes small messages: refuse big ones as they arrive.
            ws_max_size=MAX_MESSAGE_SIZE,
        )
    except transom.ConfigurationError as exc:
        sys.stderr.write(f"transom demo: error: {exc}\n")
        return 2
