"""Blocking I/O for ``Client``: coroutines that never suspend (see ``_drive.py``).

Sockets are plain blocking sockets with a timeout; the pool's waiters are
``threading.Event``s, so one ``Client`` may be shared by threads. Running an
ASGI app needs an event loop: ``Portal`` runs one in a daemon thread,
started on first use, and the app's response crosses back through a bounded
``_ThreadChannel`` so a streaming body is read while the app still runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import select
import socket
import ssl
import struct
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from transom.exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

__all__ = ["BlockingBackend", "Portal", "SocketStream"]

_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT


class SocketStream:
    """A blocking socket (maybe TLS-wrapped) behind the NetworkStream interface.

    Timeouts on a plain TCP socket are the kernel's (``SO_RCVTIMEO`` /
    ``SO_SNDTIMEO`` on a blocking socket): Python's own socket timeout would
    ``poll()`` before every ``recv`` and ``send``, two extra system calls per
    request. A TLS socket keeps Python's timeout, which ``ssl`` understands.
    """

    __slots__ = ("_kernel_timeouts", "_sock", "_timeouts")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._kernel_timeouts = not isinstance(sock, ssl.SSLSocket)
        if self._kernel_timeouts:
            sock.settimeout(None)
        # Per direction (read, write): the timeout currently set on the socket.
        self._timeouts: list[float | None] = [-1.0, -1.0]

    def _set_timeout(self, direction: int, timeout: float | None) -> None:
        if self._timeouts[direction] == timeout:
            return
        self._timeouts[direction] = timeout
        if not self._kernel_timeouts:
            self._timeouts[1 - direction] = timeout
            self._sock.settimeout(timeout)
            return
        seconds = 0.0 if timeout is None else timeout  # a zero timeval means "forever"
        option = socket.SO_RCVTIMEO if direction == 0 else socket.SO_SNDTIMEO
        whole = int(seconds)
        micros = max(int((seconds - whole) * 1e6), 1 if whole == 0 and seconds else 0)
        self._sock.setsockopt(socket.SOL_SOCKET, option, struct.pack("ll", whole, micros))

    async def read(self, timeout: float | None) -> bytes:
        if self._timeouts[0] != timeout:
            self._set_timeout(0, timeout)
        try:
            return self._sock.recv(65536)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            raise ReadTimeout(f"no data from the server for {timeout} s") from None
        except OSError as exc:
            raise ReadError(f"reading from the server failed: {exc}") from exc

    async def write(self, data: bytes, timeout: float | None) -> None:
        if self._timeouts[1] != timeout:
            self._set_timeout(1, timeout)
        try:
            self._sock.sendall(data)
        except (TimeoutError, BlockingIOError, ssl.SSLWantWriteError):
            raise WriteTimeout(f"the server took no data for {timeout} s") from None
        except OSError as exc:
            raise WriteError(f"writing to the server failed: {exc}") from exc

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str, timeout: float | None
    ) -> SocketStream:
        self._sock.settimeout(timeout)
        try:
            return SocketStream(context.wrap_socket(self._sock, server_hostname=server_hostname))
        except TimeoutError:
            self.close()
            raise ConnectTimeout(f"TLS handshake took longer than {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectError(f"TLS handshake failed: {exc}") from exc

    def peername(self) -> object:
        try:
            return self._sock.getpeername()
        except OSError:  # closed, or never connected
            return None

    def is_stale(self) -> bool:
        # An idle connection with something to read has either been closed by
        # the server (EOF) or carries bytes nobody asked for: unusable either way.
        if self._kernel_timeouts:
            try:
                self._sock.recv(1, _PEEK)  # EOF (b"") or stray bytes: either way stale
            except BlockingIOError:
                return False  # nothing to read: the connection is still good
            except OSError:
                pass
            return True
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def interrupt(self) -> None:
        """Wake a read blocked in another thread (a WebSocket's keeper): it sees EOF."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    async def wait_closed(self) -> None:
        pass  # a blocking close is done when it returns


class _EventWaiter:
    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = threading.Event()

    async def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)

    def wake(self) -> None:
        self._event.set()


class Portal:
    """An event loop in a daemon thread, for running ASGI apps under ``Client``.

    The thread owns its loop: when the loop stops, the thread cancels what
    still runs on it, waits for that to unwind, and closes the loop. ``stop``
    may be called from any thread, and more than once.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=_serve, args=(self._loop,), name="transom-client-portal", daemon=True
        )
        self._thread.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def submit(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def stop(self) -> None:
        """Ask the loop to stop (its thread then cleans up); does not wait."""
        with contextlib.suppress(RuntimeError):  # already closed
            self._loop.call_soon_threadsafe(self._loop.stop)

    def close(self) -> None:
        """Stop the loop and wait until its thread has closed it."""
        self.stop()
        if threading.current_thread() is not self._thread:
            self._thread.join()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_forever()
        loop.run_until_complete(_cancel_all())
    finally:
        loop.close()


async def _cancel_all() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


class _PortalTask:
    """A task on the portal's loop, driven from a caller's thread.

    Starting and cancelling both go through ``call_soon_threadsafe``, so they
    run on the loop in the order they were asked for. ``join`` waits for the
    task's real end: a cancelled app has finished unwinding (its ``finally``
    blocks have run) when ``join`` returns, not merely been asked to stop.
    """

    __slots__ = ("_finished", "_loop", "_task")

    def __init__(self, portal: Portal, coro: Coroutine[Any, Any, None]) -> None:
        self._loop = portal.loop
        self._task: asyncio.Task[None] | None = None
        # Set on the loop when the task ends: its outcome, read by ``join``.
        self._finished: concurrent.futures.Future[None] = concurrent.futures.Future()
        try:
            self._loop.call_soon_threadsafe(self._start, coro)
        except RuntimeError:  # the portal's loop is closed
            coro.close()
            raise

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        self._task = self._loop.create_task(coro)
        self._task.add_done_callback(self._finish)

    def _finish(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            self._finished.cancel()
        elif (exc := task.exception()) is not None:
            self._finished.set_exception(exc)
        else:
            self._finished.set_result(None)

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def cancel(self) -> None:
        self._loop.call_soon_threadsafe(self._cancel)

    def done(self) -> bool:
        return self._finished.done()

    async def join(self) -> None:
        with contextlib.suppress(concurrent.futures.CancelledError):
            self._finished.result()


class _ThreadChannel:
    """Producer on the portal's loop, consumer in a caller's thread."""

    __slots__ = ("_closed", "_cond", "_items", "_loop", "_maxsize", "_space")

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self._loop = loop
        self._maxsize = maxsize
        self._items: deque[Any] = deque()
        self._cond = threading.Condition()
        self._space: asyncio.Event | None = None
        self._closed = False

    async def put(self, item: Any) -> bool:
        while True:
            with self._cond:
                if self._closed:
                    return False
                if len(self._items) < self._maxsize:
                    self._items.append(item)
                    self._cond.notify()
                    return True
                space = self._space = asyncio.Event()
            await space.wait()

    async def get(self) -> Any:
        with self._cond:
            while not self._items:
                self._cond.wait()
            item = self._items.popleft()
            self._release_space()
        return item

    def _release_space(self) -> None:
        space, self._space = self._space, None
        if space is not None:
            self._loop.call_soon_threadsafe(space.set)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._items.clear()
            self._release_space()


class BlockingBackend:
    """Blocking sockets; an ASGI app runs on a private loop thread."""

    is_async = False

    def __init__(self) -> None:
        self._portal: Portal | None = None
        self._lock = threading.Lock()

    @property
    def portal(self) -> Portal:
        with self._lock:
            if self._portal is None:
                self._portal = portal = Portal()
                # A Client dropped without close() must not leave its thread
                # (and the loop's file descriptors) behind for good.
                weakref.finalize(self, portal.stop).atexit = False
            return self._portal

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> SocketStream:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise ConnectTimeout(
                f"connecting to {host}:{port} took longer than {timeout} s"
            ) from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stream = SocketStream(sock)
        if ssl_context is not None:
            return await stream.start_tls(ssl_context, server_hostname or host, timeout)
        return stream

    async def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def waiter(self) -> _EventWaiter:
        return _EventWaiter()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> _PortalTask:
        return _PortalTask(self.portal, coro)

    def channel(self, maxsize: int) -> _ThreadChannel:
        return _ThreadChannel(self.portal.loop, maxsize)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        self.portal.loop.call_soon_threadsafe(callback, *args)

    def close(self) -> None:
        with self._lock:
            portal, self._portal = self._portal, None
        if portal is not None:
            portal.close()
