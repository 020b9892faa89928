"""``transom run MODULE:ATTR``: the command-line front of ``ServerConfig``.

Exit codes: 0 after a clean shutdown, 2 for unusable settings (an app that
cannot be imported, a port in use, a bad option: one line on stderr, no
traceback), 3 when the app's lifespan start-up fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from transom._build import version_line
from transom.exceptions import ConfigurationError
from transom.http.websocket import SERVER_DEFLATE, DeflateOptions
from transom.server.config import LIFESPAN_MODES, LOG_LEVELS, LOOPS, PARSERS, ServerConfig
from transom.server.lifespan import LifespanFailed
from transom.server.logs import configure_logging
from transom.server.runner import run

__all__ = ["build_parser", "run_command"]


class _Version(argparse.Action):
    """``--version``: the version line as it is (argparse's own action wraps
    it to the terminal's width), found only when asked for."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        print(version_line())
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="transom run", description="Serve an ASGI application.")
    add = p.add_argument
    add("app", metavar="MODULE:ATTR", help="the ASGI app to serve, e.g. main:app")
    add("--version", action=_Version, nargs=0,
        help="print the version and the build (compiled or pure Python)")  # fmt: skip
    add("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    add("--port", type=int, default=8000, help="port to bind (default 8000; 0 picks one)")
    add("--uds", help="listen on this Unix socket path instead of TCP")
    add("--workers", type=int, default=1, help="worker processes (default 1)")
    add("--factory", action="store_true", help="ATTR is a factory returning the app")
    add("--app-dir", help="directory put first on sys.path (default: the current one)")
    add("--root-path", default="", help="the path prefix the app is mounted at behind a proxy")
    add("--reload", action="store_true", help="restart when source files change (development)")
    add("--reload-dir", action="append", default=[], help="directory to watch (repeatable)")
    add("--loop", choices=LOOPS, default="auto", help="event loop (default auto: uvloop if any)")
    add("--http-parser", choices=PARSERS, default="auto", help="HTTP/1.1 parser backend")
    add("--lifespan", choices=LIFESPAN_MODES, default="auto", help="ASGI lifespan (default auto)")
    add("--ssl-certfile", help="TLS certificate chain (PEM)")
    add("--ssl-keyfile", help="TLS private key (PEM)")
    add("--ssl-keyfile-password", help="password of the TLS private key")
    add("--no-proxy-headers", dest="proxy_headers", action="store_false",
        help="ignore Forwarded / X-Forwarded-* headers")  # fmt: skip
    add("--forwarded-allow-ips", default="127.0.0.1",
        help="comma list of proxy IPs/CIDRs to trust, or '*' (default 127.0.0.1)")  # fmt: skip
    add("--no-access-log", dest="access_log", action="store_false", help="no access log")
    add("--server-header", action="store_true", help="send 'Server: transom'")
    add("--no-date-header", dest="date_header", action="store_false", help="no Date header")
    add("--log-level", default="info", choices=LOG_LEVELS)
    add("--max-body-size", type=int, default=100 * 1024 * 1024, help="request body bytes (413)")
    add("--max-header-bytes", type=int, default=65536, help="request head bytes (431)")
    add("--max-header-count", type=int, default=256, help="request header fields (431)")
    add("--max-request-line", type=int, default=8190, help="request line bytes (414)")
    add("--header-timeout", type=float, default=10.0, help="seconds to send a request head")
    add("--body-timeout", type=float, default=30.0, help="seconds between body chunks")
    add("--body-min-rate", type=float, default=256.0,
        help="bytes/s a request body must average after --body-timeout (0: off)")  # fmt: skip
    add("--keep-alive-timeout", type=float, default=5.0, help="idle keep-alive seconds")
    add("--write-timeout", type=float, default=60.0, help="seconds a client may not read")
    add("--shutdown-timeout", type=float, default=30.0, help="graceful shutdown seconds")
    add("--max-connections", type=int, default=10_000, help="open connections per process")
    add("--backlog", type=int, default=2048, help="listen backlog")
    add("--no-ws", dest="ws", action="store_false",
        help="serve WebSocket upgrade requests as plain HTTP")  # fmt: skip
    add("--ws-max-size", type=int, default=16 * 1024 * 1024,
        help="bytes of one WebSocket message (larger: close 1009)")  # fmt: skip
    add("--ws-max-queue", type=int, default=1024 * 1024,
        help="bytes of received messages the app has not taken before reading pauses")  # fmt: skip
    add("--ws-ping-interval", type=_seconds_or_off, default=20.0,
        help="seconds between keep-alive pings (0: none)")  # fmt: skip
    add("--ws-ping-timeout", type=_seconds_or_off, default=20.0,
        help="seconds to wait for a pong before closing with 1011 (0: wait for ever)")  # fmt: skip
    add("--ws-close-timeout", type=float, default=5.0,
        help="seconds to wait for the close handshake before dropping the connection")  # fmt: skip
    add("--no-ws-per-message-deflate", dest="ws_per_message_deflate", action="store_false",
        help="never compress WebSocket messages (permessage-deflate)")  # fmt: skip
    add("--ws-deflate-level", type=int, default=1, metavar="0-9",
        help="zlib level of the messages the server compresses")  # fmt: skip
    add("--ws-deflate-window-bits", type=int, default=12, metavar="9-15",
        help="the compression windows, both ways: 2**N bytes, and the memory each "
        "connection holds")  # fmt: skip
    return p


def _deflate(args: argparse.Namespace) -> bool | DeflateOptions:
    """``--no-ws-per-message-deflate``, or the options the deflate flags set."""
    if not args.ws_per_message_deflate:
        return False
    level, bits = args.ws_deflate_level, args.ws_deflate_window_bits
    if (level, bits) == (SERVER_DEFLATE.compress_level, SERVER_DEFLATE.server_max_window_bits):
        return True
    return dataclasses.replace(
        SERVER_DEFLATE,
        compress_level=level,
        server_max_window_bits=bits,
        client_max_window_bits=bits,
    )


def _seconds_or_off(text: str) -> float | None:
    """A number of seconds; ``0`` (or ``none``, ``off``) turns the timer off."""
    if text.lower() in ("none", "off"):
        return None
    seconds = float(text)
    return seconds if seconds else None


def run_command(argv: Sequence[str]) -> int:
    """``transom run ...``; returns the exit code."""
    args = build_parser().parse_args(list(argv))
    configure_logging(args.log_level)
    try:
        config = ServerConfig(
            app=args.app,
            host=args.host,
            port=args.port,
            uds=args.uds,
            workers=args.workers,
            factory=args.factory,
            app_dir=args.app_dir,
            root_path=args.root_path,
            reload=args.reload,
            reload_dirs=tuple(args.reload_dir),
            loop=args.loop,
            http_parser=args.http_parser,
            lifespan=args.lifespan,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            ssl_keyfile_password=args.ssl_keyfile_password,
            proxy_headers=args.proxy_headers,
            forwarded_allow_ips=args.forwarded_allow_ips,
            access_log=args.access_log,
            server_header=args.server_header,
            date_header=args.date_header,
            max_body_size=args.max_body_size,
            max_header_bytes=args.max_header_bytes,
            max_header_count=args.max_header_count,
            max_request_line=args.max_request_line,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            body_min_rate=args.body_min_rate,
            keep_alive_timeout=args.keep_alive_timeout,
            write_timeout=args.write_timeout,
            shutdown_timeout=args.shutdown_timeout,
            max_connections=args.max_connections,
            backlog=args.backlog,
            ws=args.ws,
            ws_max_size=args.ws_max_size,
            ws_max_queue=args.ws_max_queue,
            ws_ping_interval=args.ws_ping_interval,
            ws_ping_timeout=args.ws_ping_timeout,
            ws_close_timeout=args.ws_close_timeout,
            ws_per_message_deflate=_deflate(args),
            log_level=args.log_level,
        )
        return run(config)
    except ConfigurationError as exc:
        sys.stderr.write(f"transom run: error: {exc}\n")
        return 2
    except LifespanFailed as exc:
        sys.stderr.write(f"transom run: error: {exc}\n")
        return 3
