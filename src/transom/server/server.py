"""Bind, serve and shut down gracefully.

``Server(config).serve()`` runs inside a running event loop (embedding,
tests); ``Server(config).run()`` owns the loop (uvloop when available and
asked for), installs SIGTERM/SIGINT handlers and returns an exit code.

Life of a server: import the app, run lifespan start-up, listen, tick once
per ``tick_interval`` (refresh the cached ``Date`` header, enforce connection
deadlines), and on shutdown: take the connections the kernel already
completed, close the listening sockets (new connections are refused, which a
proxy retries elsewhere for any method), let every connection serve at most
one more request with ``Connection: close`` (busy ones their current one,
idle ones whatever arrives within a short grace: see ``protocol.py``; open
WebSockets get a close frame with 1001, going away), wait up
to ``shutdown_timeout`` for them, drop what is left, run lifespan shut-down.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import ssl
import stat
import threading
import time
from collections.abc import Callable, Coroutine
from email.utils import formatdate
from typing import Any, cast

from transom._build import describe
from transom._types import ASGIApp
from transom.exceptions import ConfigurationError
from transom.server.config import ServerConfig
from transom.server.importer import import_app
from transom.server.lifespan import Lifespan, LifespanFailed
from transom.server.logs import configure_logging
from transom.server.memory import tune_malloc
from transom.server.protocol import HttpProtocol
from transom.server.state import ServerState

__all__ = ["Server", "bind_socket", "load_app", "run_loop"]

logger = logging.getLogger("transom.error")


class Server:
    """One server process.

    >>> server = Server(ServerConfig(app, port=0))
    >>> task = asyncio.create_task(server.serve())
    >>> await server.started.wait(); server.port   # the port chosen by the OS
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.started = asyncio.Event()
        self.state: ServerState | None = None
        self.sockets: list[socket.socket] = []
        self._servers: list[asyncio.base_events.Server] = []
        self._ssl_context: ssl.SSLContext | None = None
        self._shutting_down = False
        self._exit: asyncio.Event | None = None
        self._force = False
        self._tick_handle: asyncio.TimerHandle | None = None
        self._second = 0
        #: The signals that start a graceful shutdown under ``run()``.
        self.signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)

    @property
    def port(self) -> int:
        """The TCP port listened on (useful with ``port=0``)."""
        return int(self.sockets[0].getsockname()[1])

    @property
    def address(self) -> str:
        """Where the server listens, as a URL (``http://127.0.0.1:8000``)."""
        if self.config.uds or not self.sockets:
            return self.config.bind_description
        scheme = "https" if self.config.is_ssl else "http"
        host = self.sockets[0].getsockname()[0]
        host = f"[{host}]" if ":" in host else host
        return f"{scheme}://{host}:{self.port}"

    def request_shutdown(self) -> None:
        """Begin graceful shutdown; asking twice drops in-flight work at once."""
        if self._exit is None:
            return
        if self._exit.is_set():
            self._force = True
        self._exit.set()

    def run(self, sockets: list[socket.socket] | None = None) -> int:
        """Run until SIGTERM/SIGINT in a loop of our own; returns the exit code."""
        if self.config.log_level is not None:
            # Here as well as in runner.run(): a spawned worker starts with none.
            configure_logging(self.config.log_level)
        tune_malloc()  # this process is ours: see memory.py
        try:
            run_loop(self.config.loop, self.serve(sockets, handle_signals=True))
        except LifespanFailed as exc:
            logger.error("%s", exc)
            return 3
        return 0

    async def serve(
        self, sockets: list[socket.socket] | None = None, *, handle_signals: bool = False
    ) -> None:
        """Serve until ``request_shutdown()``, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        self._exit = asyncio.Event()
        config = self.config
        state = self.state = ServerState(config, load_app(config), loop)
        self.sockets = sockets if sockets is not None else [bind_socket(config)]
        lifespan = Lifespan(state.app, config.lifespan, state.lifespan_state)
        try:
            await lifespan.startup()
        except BaseException:
            self._close_sockets(sockets)
            raise
        try:
            await self._listen(state)
            if handle_signals:
                self._install_signal_handlers(loop)
                # What exists now (modules, the app) lives as long as the process:
                # keep it out of every later full garbage collection.
                gc.freeze()
            self._tick()
            logger.info("serving on %s (pid %d, %s)", self.address, os.getpid(), describe())
            self.started.set()
            await self._exit.wait()
            await self._shutdown(state)
        finally:
            if self._tick_handle is not None:
                self._tick_handle.cancel()
            await self._end_apps(state.starter.close())
            await lifespan.shutdown()
            self._close_sockets(sockets)

    async def _end_apps(self, tasks: list[asyncio.Task[Any]]) -> None:
        """Wait, briefly, for the app coroutines cancelled at close: an app whose
        client left may still be at work, and must not outlive the server."""
        if tasks:
            await asyncio.wait(tasks, timeout=self.config.shutdown_timeout)

    def _close_sockets(self, given: list[socket.socket] | None) -> None:
        if given is not None:
            return  # a supervisor's sockets: it closes them
        for sock in self.sockets:
            sock.close()
        path = self.config.uds
        if path:
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.stat(path).st_mode):
                    os.unlink(path)

    async def _listen(self, state: ServerState) -> None:
        config = self.config
        ssl_context = self._ssl_context = config.ssl_context()
        loop = state.loop

        for sock in self.sockets:
            server = await loop.create_server(
                self._protocol_factory(state), sock=sock, ssl=ssl_context, backlog=config.backlog
            )
            self._servers.append(server)

    def _protocol_factory(self, state: ServerState) -> Callable[[], HttpProtocol]:
        def factory() -> HttpProtocol:
            protocol = HttpProtocol(state)
            if self._shutting_down:
                protocol.closing = True  # connection_made starts its shutdown
            return protocol

        return factory

    def _tick(self) -> None:
        """Refresh the clock and the Date header; enforce connection deadlines."""
        state = self.state
        assert state is not None  # invariant: serve() set it
        if self._tick_handle is not None:
            self._tick_handle.cancel()  # one chain of ticks, however _tick was called
        now = state.clock = state.loop.time()
        second = int(time.time())
        if second != self._second:
            self._second = second
            headers = []
            if self.config.date_header:
                headers.append((b"date", formatdate(second, usegmt=True).encode("ascii")))
            if self.config.server_header:
                headers.append((b"server", b"transom"))
            state.default_headers = headers
        _check_deadlines(state, now)
        self._tick_handle = state.loop.call_later(self.tick_interval, self._tick)

    @property
    def tick_interval(self) -> float:
        """Deadline granularity: a second, finer when a timeout is short."""
        c = self.config
        shortest = min(
            c.header_timeout,
            c.body_timeout,
            c.keep_alive_timeout,
            c.write_timeout,
            c.ws_close_timeout,
            c.ws_ping_interval or 1.0,
            c.ws_ping_timeout or 1.0,
        )
        return max(0.01, min(1.0, shortest / 4))

    async def _shutdown(self, state: ServerState) -> None:
        loop = state.loop
        state.clock = loop.time()  # the idle grace counts from now, not the last tick
        deadline = state.clock + self.config.shutdown_timeout
        self._shutting_down = True
        queued = self._take_queued()
        for server in self._servers:
            server.close()
        _shut_connections(state)
        await asyncio.sleep(0)
        # Accepted just before the listener closed, made only now (uvloop does so).
        _shut_connections(state)
        if queued:
            await self._serve_queued(state, queued, deadline)
        while state.connections and loop.time() < deadline and not self._force:
            await asyncio.sleep(0.05)
            # The grace of idle connections is short: check it more often than the tick.
            state.clock = loop.time()
            _shut_connections(state)
            _check_deadlines(state, state.clock)
        for protocol in tuple(state.connections):
            protocol.abort()
        await asyncio.sleep(0)  # let connection_lost run for what was aborted

    def _take_queued(self) -> list[socket.socket]:
        """Accept the connections the kernel has completed but the loop has not
        taken yet. Closing the listener would reset them, and a proxy that has
        already written a request into one cannot retry it when it is a POST."""
        taken: list[socket.socket] = []
        for listener in self.sockets:
            if listener.fileno() < 0 or listener.gettimeout() != 0.0:
                continue  # never block the loop on an accept
            for _ in range(self.config.backlog):
                try:
                    sock, _address = listener.accept()
                except OSError:  # BlockingIOError: the queue is empty
                    break
                sock.setblocking(False)
                taken.append(sock)
        return taken

    async def _serve_queued(
        self, state: ServerState, queued: list[socket.socket], deadline: float
    ) -> None:
        """Serve connections taken from the listen queue as the open ones: at
        most one request each, within the grace."""
        loop = state.loop
        factory = self._protocol_factory(state)
        if loop.time() >= deadline:  # shutdown_timeout 0: nothing is served
            for sock in queued:
                sock.close()
            return
        context = self._ssl_context
        tasks = [
            asyncio.ensure_future(loop.connect_accepted_socket(factory, sock, ssl=context))
            for sock in queued
        ]
        done, pending = await asyncio.wait(tasks, timeout=deadline - loop.time())
        for task in pending:
            task.cancel()  # a TLS handshake still under way: the transport closes
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.debug("a queued connection failed: %r", task.exception())

    def _install_signal_handlers(self, loop: asyncio.AbstractEventLoop) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in self.signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_shutdown)


def _shut_connections(state: ServerState) -> None:
    for protocol in tuple(state.connections):
        if not protocol.closing:
            protocol.shutdown()


def _check_deadlines(state: ServerState, now: float) -> None:
    for protocol in tuple(state.connections):
        if protocol.deadline or protocol.write_deadline:
            protocol.check_deadline(now)


def load_app(config: ServerConfig) -> ASGIApp:
    """The ASGI callable of ``config.app`` (importing it when it is a string)."""
    if isinstance(config.app, str):
        return import_app(config.app, factory=config.factory, app_dir=config.app_dir)
    if config.factory:
        factory: Any = config.app
        return cast(ASGIApp, factory())
    return config.app


def bind_socket(config: ServerConfig, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket for ``config`` (TCP or Unix); ``ConfigurationError``
    with the reason when the address cannot be used (port in use...)."""
    if config.uds:
        return _bind_uds(config.uds, config.backlog)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, config.port))
        sock.listen(config.backlog)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None
    sock.setblocking(False)
    return sock


def _bind_uds(path: str, backlog: int) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISSOCK(os.stat(path).st_mode):
            os.unlink(path)  # a stale socket from an earlier run
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {path}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def run_loop(loop_name: str, main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` to completion on a fresh loop: uvloop for ``"uvloop"``, and
    for ``"auto"`` when it imports; the stdlib loop otherwise."""
    factory = None
    if loop_name in ("auto", "uvloop"):
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            if loop_name == "uvloop":
                main.close()
                raise ConfigurationError("--loop uvloop: uvloop is not installed") from None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)
