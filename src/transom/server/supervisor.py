"""``--workers N``: worker processes sharing one port, kept alive.

Where the OS has ``SO_REUSEPORT`` (Linux, the BSDs, macOS) the supervisor
binds the address without listening, which fixes the port (``port=0``
included) and keeps it reserved, and each worker binds its own listening
socket to it: the kernel spreads new connections over the workers. Elsewhere,
and for Unix sockets, the supervisor listens once and the workers inherit
that socket.

Workers are forked where ``fork`` exists (the app is imported once, in the
supervisor, so an import error is reported before any worker starts), else
spawned (the app must then be an import string). A worker that dies is
replaced. SIGTERM/SIGINT are passed on to every worker; the supervisor waits
for them to finish their graceful shutdown and exits 0.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from transom.exceptions import ConfigurationError
from transom.server.config import ServerConfig
from transom.server.server import Server, bind_socket, load_app

__all__ = ["Supervisor"]

logger = logging.getLogger("transom.error")

_REUSE_PORT = hasattr(socket, "SO_REUSEPORT")
_STARTUP_FAILED = 3  # Server.run()'s exit code when lifespan start-up fails


class Supervisor:
    """Runs ``config.workers`` servers; ``run()`` returns the exit code."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.workers: list[BaseProcess] = []
        self._stopping = False
        self._per_worker_socket = _REUSE_PORT and not config.uds
        methods = multiprocessing.get_all_start_methods()
        # Any: typeshed's BaseContext lacks Process, which every concrete context has.
        self._context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._socket: socket.socket | None = None

    def run(self) -> int:
        if self._context.get_start_method() == "fork":
            load_app(self.config)  # fail early, and once; workers inherit the module
        elif not isinstance(self.config.app, str):
            raise ConfigurationError("workers > 1 needs the app as an import string 'module:attr'")
        self._socket = self._bind()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        where = self.config.bind_description
        if not self.config.uds:
            where = where.rsplit(":", 1)[0] + f":{self._socket.getsockname()[1]}"
        logger.info("supervisor pid %d: %d workers on %s", os.getpid(), self.config.workers, where)
        try:
            for _ in range(self.config.workers):
                self._start_worker()
            code = self._watch()
            self._stop_workers()
        finally:
            self._socket.close()
        return code

    def _bind(self) -> socket.socket:
        if not self._per_worker_socket:
            return bind_socket(self.config)
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((self.config.host, self.config.port))  # reserved, never listening
        except OSError as exc:
            sock.close()
            raise ConfigurationError(
                f"cannot listen on {self.config.host}:{self.config.port}: {exc.strerror or exc}"
            ) from None
        return sock

    def _start_worker(self) -> None:
        assert self._socket is not None  # invariant: run() bound it
        if self._per_worker_socket:
            port = self._socket.getsockname()[1]
            args: tuple[object, ...] = (dataclasses.replace(self.config, port=port), None)
        else:
            args = (self.config, self._socket)
        process = self._context.Process(target=_worker_main, args=args, daemon=False)
        process.start()
        self.workers.append(process)
        logger.info("started worker pid %s", process.pid)

    def _watch(self) -> int:
        """Replace dead workers until a signal asks us to stop; the exit code.

        A worker whose app failed its lifespan start-up (exit 3) would fail
        again: that stops everything with the same code instead of a loop.
        """
        recent_deaths: list[float] = []
        while not self._stopping:
            wait([p.sentinel for p in self.workers], timeout=0.5)
            for process in [p for p in self.workers if not p.is_alive()]:
                if self._stopping:
                    break
                self.workers.remove(process)
                process.join()
                logger.warning("worker %s died (exit %s)", process.pid, process.exitcode)
                if process.exitcode == _STARTUP_FAILED:
                    return _STARTUP_FAILED
                now = time.monotonic()
                recent_deaths = [t for t in recent_deaths if now - t < 10] + [now]
                if len(recent_deaths) > 5 * self.config.workers:
                    time.sleep(1)  # a crash loop: do not spin
                self._start_worker()
        return 0

    def _stop_workers(self) -> None:
        for process in self.workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.shutdown_timeout + 5
        for process in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("worker pid %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True


def _worker_main(config: ServerConfig, inherited: socket.socket | None) -> None:
    # Ctrl-C reaches the whole process group; the supervisor turns it into one
    # SIGTERM per worker, so a worker ignores SIGINT (a second signal would
    # cut its graceful shutdown short).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sock = inherited if inherited is not None else bind_socket(config, reuse_port=True)
    server = Server(config)
    server.signals = (signal.SIGTERM,)
    raise SystemExit(server.run([sock]))
