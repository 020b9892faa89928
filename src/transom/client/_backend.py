"""The seam between the one client implementation and its two kinds of I/O.

Everything above this seam is shared by ``Client`` and ``AsyncClient``.
Below it, ``_aio.AsyncioBackend`` does asyncio I/O, and
``_blocking.BlockingBackend`` does blocking socket I/O whose coroutines never
suspend, so ``_drive.run_sync`` can run them (see ``_drive.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

__all__ = ["Backend", "Channel", "NetworkStream", "TaskHandle", "Waiter"]


class NetworkStream(Protocol):
    """A byte stream to the peer (TCP, maybe TLS)."""

    async def read(self, timeout: float | None) -> bytes:
        """The next bytes, ``b""`` at EOF; ``ReadTimeout`` / ``ReadError``."""

    async def write(self, data: bytes, timeout: float | None) -> None:
        """Send all of ``data``; ``WriteTimeout`` / ``WriteError``."""

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str, timeout: float | None
    ) -> NetworkStream:
        """Upgrade to TLS (after a proxy CONNECT); returns the new stream."""

    def is_stale(self) -> bool:
        """True when an idle connection can no longer be used: the peer closed
        it or sent bytes nobody asked for."""

    def peername(self) -> object:
        """The peer's socket address as the socket gives it (``(ip, port, ...)``
        for TCP), or None when it cannot be known."""

    def close(self) -> None: ...

    async def wait_closed(self) -> None:
        """After ``close()``: until the connection is gone (a TLS goodbye included)."""


class Waiter(Protocol):
    """A one-shot wake-up for a task waiting on the pool."""

    async def wait(self, timeout: float | None) -> bool:
        """True when woken, False on timeout."""

    def wake(self) -> None: ...


class TaskHandle(Protocol):
    """A concurrently running coroutine (an ASGI app under the ASGI transport)."""

    def cancel(self) -> None: ...

    def done(self) -> bool: ...

    async def join(self) -> None:
        """Wait for the end; re-raises what the coroutine raised."""


class Channel(Protocol):
    """A bounded queue from a running app to the caller reading its response."""

    async def put(self, item: Any) -> bool:
        """Called on the app's loop; waits while full; False once closed."""

    async def get(self) -> Any:
        """Called by the reader; waits while empty."""

    def close(self) -> None:
        """No more items are wanted: wake and refuse every ``put``."""


class Backend(Protocol):
    is_async: bool

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> NetworkStream: ...

    async def sleep(self, seconds: float) -> None: ...

    def waiter(self) -> Waiter: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> TaskHandle:
        """Run ``coro`` concurrently on an event loop (the caller's, or a private one)."""

    def channel(self, maxsize: int) -> Channel: ...

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Call ``callback(*args)`` on the loop ``spawn`` runs on, from any thread."""

    def close(self) -> None: ...
