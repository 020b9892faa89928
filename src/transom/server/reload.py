"""``--reload``: restart the server process when a source file changes.

The reloader process binds the socket once (so the port survives restarts)
and never imports the app; each server runs in a freshly spawned process
that imports the app anew. Changes are detected with ``watchfiles`` when it
is installed, else by polling file modification times twice a second.
Development only: a restart drops in-flight requests after a short grace.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from transom.exceptions import ConfigurationError
from transom.server.config import ServerConfig
from transom.server.server import Server, bind_socket

__all__ = ["Reloader", "changes"]

logger = logging.getLogger("transom.error")

_POLL_SECONDS = 0.5
_PATTERNS = ("*.py",)


class Reloader:
    """Runs the server in a child process and restarts it on changes."""

    def __init__(self, config: ServerConfig) -> None:
        if not isinstance(config.app, str):
            raise ConfigurationError("reload needs the app as an import string 'module:attr'")
        self.config = config
        self.dirs = [Path(d).resolve() for d in (config.reload_dirs or (config.app_dir or ".",))]
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self.process: BaseProcess | None = None
        self._reported_down = False

    def run(self) -> int:
        sock = bind_socket(self.config)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        logger.info(
            "reloading on changes in %s (listening on %s)",
            ", ".join(map(str, self.dirs)),
            _describe(sock, self.config),
        )
        try:
            self._start(sock)
            for changed in changes(self.dirs, self._stop):
                if changed:
                    logger.info("change detected; restarting the server")
                    self._terminate()
                    self._start(sock)
                elif self._down():
                    _answer_unavailable(sock)
            self._terminate()
        finally:
            sock.close()
        return 0

    def _start(self, sock: socket.socket) -> None:
        self.process = self._context.Process(target=_serve, args=(self.config, sock))
        self.process.start()
        self._reported_down = False

    def _down(self) -> bool:
        """Whether the server process ended by itself (the app failed to
        import or start); says so once per start."""
        process = self.process
        if process is None or process.is_alive() or process.exitcode is None:
            return False
        if not self._reported_down:
            self._reported_down = True
            logger.error(
                "the server exited (code %s); fix the error and save a file to restart it "
                "(requests get 503 until then)",
                process.exitcode,
            )
        return True

    def _terminate(self) -> None:
        process = self.process
        if process is None or process.pid is None:
            return
        if process.is_alive():
            os.kill(process.pid, signal.SIGTERM)
        process.join(self.config.reload_delay + 5)
        if process.is_alive():
            process.kill()
            process.join()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()


def changes(dirs: list[Path], stop: threading.Event) -> Iterator[bool]:
    """Yield ``True`` after files under ``dirs`` changed, ``False`` on idle
    wake-ups, until ``stop`` is set."""
    try:
        import watchfiles
    except ImportError:  # pragma: no cover - watchfiles is a dev dependency
        yield from _poll(dirs, stop)
        return
    for found in watchfiles.watch(
        *dirs,
        watch_filter=watchfiles.PythonFilter(),
        stop_event=stop,
        rust_timeout=int(_POLL_SECONDS * 1000),
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        yield bool(found)


def _poll(dirs: list[Path], stop: threading.Event) -> Iterator[bool]:
    seen = _mtimes(dirs)
    while not stop.wait(_POLL_SECONDS):
        now = _mtimes(dirs)
        yield now != seen
        seen = now


def _mtimes(dirs: list[Path]) -> dict[Path, float]:
    found: dict[Path, float] = {}
    for directory in dirs:
        for pattern in _PATTERNS:
            for path in directory.rglob(pattern):
                try:
                    found[path] = path.stat().st_mtime
                except OSError:
                    continue
    return found


_UNAVAILABLE_BODY = (
    b"The application is not running: it failed to start. The server log says why;\n"
    b"saving a source file restarts it.\n"
)
_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nretry-after: 1\r\nconnection: close\r\n\r\n%s"
    % (len(_UNAVAILABLE_BODY), _UNAVAILABLE_BODY)
)


def _describe(sock: socket.socket, config: ServerConfig) -> str:
    if config.uds:
        return config.bind_description
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"{'https' if config.is_ssl else 'http'}://{host}:{port}"


def _answer_unavailable(sock: socket.socket) -> None:
    """No server process is running: answer the clients waiting on the
    socket with 503 rather than leave them hanging until the code is fixed.

    The socket is left non-blocking: every server process sets it so anyway.
    """
    sock.setblocking(False)
    while True:
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # the socket is closing
        with conn:
            conn.settimeout(0.2)
            try:
                conn.recv(65536)  # the request, so that closing does not reset it
                conn.sendall(_UNAVAILABLE)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                continue  # that client went away: on to the next


def _serve(config: ServerConfig, sock: socket.socket) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the reloader stops us with SIGTERM
    server = Server(config)
    server.signals = (signal.SIGTERM,)
    raise SystemExit(server.run([sock]))
