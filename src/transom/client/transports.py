"""What the client sends requests through.

A transport turns a ``Request`` into a ``Response`` (head now, body maybe
later). The client owns its transport: it ``attach``es its I/O backend
(asyncio for ``AsyncClient``, blocking for ``Client``), ``open``s it on
``__enter__`` and ``aclose``s it on exit. Three ship with the client:

- ``HTTPTransport`` (``pool.py``): TCP/TLS over the shared HTTP/1.1 core, pooled;
- ``ASGITransport`` (``_asgi.py``): an ASGI app in-process, streaming for real;
- ``MockTransport``: a function ``Request -> Response``, for tests.

``open_websocket`` opens a WebSocket with a handshake request: the first two
implement it (a dedicated connection; the app's ``websocket`` scope), the
mock does not.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from transom.client._backend import Backend
from transom.client.models import Request, Response
from transom.exceptions import ConfigurationError, UnsupportedProtocol

if TYPE_CHECKING:
    from transom.client.websocket import Session, WebSocketOptions

__all__ = ["BaseTransport", "MockTransport"]


class BaseTransport:
    """The interface; subclasses implement ``handle_request``."""

    _backend: Backend | None = None

    def attach(self, backend: Backend) -> None:
        """Called by the owning client with its I/O backend."""
        if self._backend is not None and self._backend.is_async != backend.is_async:
            raise ConfigurationError(
                f"this {type(self).__name__} already serves a "
                f"{'n AsyncClient' if self._backend.is_async else ' Client'}; "
                "give each client its own transport"
            )
        self._backend = backend

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            from transom.client._aio import AsyncioBackend

            self._backend = AsyncioBackend()
        return self._backend

    async def handle_request(self, request: Request) -> Response:
        raise NotImplementedError

    async def open_websocket(
        self, request: Request, options: WebSocketOptions
    ) -> tuple[Response, Session | None]:
        """Send the WebSocket handshake ``request``: the answer, and the open
        session when the answer was a valid ``101``."""
        raise UnsupportedProtocol(f"{type(self).__name__} cannot open WebSockets")

    async def open(self) -> None:
        """Called when the client is entered (``with`` / ``async with``)."""

    async def aclose(self) -> None:
        """Release every resource (connections, threads)."""


Handler = Callable[[Request], "Response | Awaitable[Response]"]


class MockTransport(BaseTransport):
    """Answers every request with ``handler(request)`` (a function or a coroutine function).

    >>> transport = MockTransport(lambda request: Response(204))
    """

    def __init__(self, handler: Handler) -> None:
        self._handler = handler

    async def handle_request(self, request: Request) -> Response:
        result = self._handler(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result
