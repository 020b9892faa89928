"""The client's WebSocket: ``AsyncWebSocket`` and its blocking face ``WebSocket``.

Theory of operation
-------------------
``client.websocket(url)`` opens the WebSocket through the client's
transport, which returns a *session*: the thing that actually moves
messages. Two exist, behind one small interface (``Session``):

- over the network (``_ws_network.NetworkSession``): a dedicated TCP/TLS
  connection, handshake with the HTTP core, then RFC 6455 frames through the
  sans-IO ``transom.http.websocket.WebSocketConnection``;
- in-process (``_asgi_ws.ASGISession``): ASGI ``websocket.*`` messages to
  an app running as a task, for the test clients.

``AsyncWebSocket`` adds the API on top (text/bytes/JSON, iteration, the
close rules), written once as coroutines. ``WebSocket``, for the blocking
``Client``, runs the very same coroutines with ``_drive.run_sync``, as the
sync client runs its requests (see ``_drive.py``): no copied twin.

Receiving raises ``WebSocketDisconnect(code, reason)`` once the peer has
closed (RFC 6455 §7.1.5), the connection was lost (1006) or failed (the
code of the close frame we sent, §7.1.7). ``async for`` ends quietly on a
normal close (1000, 1001 or no code, 1005).

>>> async with client.websocket("wss://example.org/chat") as ws:  # doctest: +SKIP
...     await ws.send_text("hello")
...     print(await ws.receive_text())
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from transom.client._drive import run_sync
from transom.client.models import Response
from transom.exceptions import ConfigurationError, WebSocketDisconnect, WebSocketError

__all__ = ["AsyncWebSocket", "Session", "WebSocket", "WebSocketOptions"]

#: Close codes after which ``async for`` simply ends (RFC 6455 §7.4.1).
_NORMAL_CLOSE = frozenset((1000, 1001, 1005))


@dataclass(frozen=True, slots=True)
class WebSocketOptions:
    """What ``client.websocket(...)`` asked for, handed to the transport."""

    subprotocols: tuple[str, ...] = ()
    compression: str | None = "deflate"
    max_message_size: int = 16 * 1024 * 1024
    max_queue: int = 1024 * 1024
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    close_timeout: float | None = 10.0

    def __post_init__(self) -> None:
        if self.compression not in ("deflate", None):
            raise ConfigurationError(f"compression={self.compression!r}: use 'deflate' or None")
        for name in ("ping_interval", "ping_timeout", "close_timeout"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value <= 0):
                raise ConfigurationError(f"{name}={value!r}: give positive seconds, or None")
        if not isinstance(self.max_message_size, int) or self.max_message_size <= 0:
            raise ConfigurationError(
                f"max_message_size={self.max_message_size!r}: give a positive number of bytes"
            )


class Session(Protocol):
    """What moves the messages of one WebSocket (network or in-process)."""

    subprotocol: str | None
    close_code: int | None
    close_reason: str

    async def send(self, data: str | bytes) -> None:
        """Send one message; ``WebSocketDisconnect`` if the peer has closed."""

    async def receive(self) -> str | bytes:
        """The next message; ``WebSocketDisconnect`` once the peer has closed."""

    async def ping(self, payload: bytes) -> None:
        """Send a ping and wait for its pong."""

    async def close(self, code: int, reason: str) -> None:
        """The closing handshake (bounded by the close timeout), then release everything."""

    async def abort(self) -> None:
        """Drop the connection at once (the caller was cancelled)."""


class AsyncWebSocket:
    """An open WebSocket; made by ``AsyncClient.websocket`` (and ``TestClient``).

    ``subprotocol``: the one the server chose (or None); ``response``: the
    handshake's ``101`` response; ``close_code`` / ``close_reason``: the
    peer's close, once it came.
    """

    __slots__ = ("_session", "response")

    def __init__(self, session: Session, response: Response) -> None:
        self._session = session
        self.response = response

    @property
    def subprotocol(self) -> str | None:
        return self._session.subprotocol

    @property
    def close_code(self) -> int | None:
        return self._session.close_code

    @property
    def close_reason(self) -> str:
        return self._session.close_reason

    async def send_text(self, text: str) -> None:
        """Send a text message."""
        if not isinstance(text, str):
            raise TypeError(f"send_text() takes a str, not {type(text).__name__}")
        await self._session.send(text)

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
        await self._session.send(bytes(data))

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as JSON, in a text message (``mode="binary"``: a binary one)."""
        text = jsonlib.dumps(data, separators=(",", ":"), ensure_ascii=False)
        await self._session.send(text if mode == "text" else text.encode("utf-8"))

    async def receive(self) -> str | bytes:
        """The next message: ``str`` (text) or ``bytes`` (binary)."""
        return await self._session.receive()

    async def receive_text(self) -> str:
        """The next message, which must be text."""
        message = await self._session.receive()
        if not isinstance(message, str):
            raise WebSocketError(f"expected a text message, got {len(message)} bytes of binary")
        return message

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        message = await self._session.receive()
        if not isinstance(message, bytes):
            raise WebSocketError("expected a binary message, got a text message")
        return message

    async def receive_json(self) -> Any:
        """The next message (text or binary), parsed as JSON."""
        return jsonlib.loads(await self._session.receive())

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[str | bytes]:
        while True:
            try:
                message = await self._session.receive()
            except WebSocketDisconnect as exc:
                if exc.code in _NORMAL_CLOSE:
                    return
                raise
            yield message

    async def ping(self, payload: bytes = b"") -> None:
        """Send a ping (RFC 6455 §5.5.2) and return when its pong arrives."""
        await self._session.ping(payload)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close: send a close frame, wait for the peer's (RFC 6455 §7.1.2)."""
        await self._session.close(code, reason)

    def __repr__(self) -> str:
        url = self.response.request.url if self.response.request is not None else "?"
        return f"<AsyncWebSocket {url}>"


class WebSocket:
    """The blocking face of ``AsyncWebSocket``, made by ``Client.websocket``.

    Every method runs the ``AsyncWebSocket`` coroutine of the same name with
    ``run_sync`` (the blocking backend's coroutines never suspend).

    >>> with client.websocket("ws://127.0.0.1:8000/echo") as ws:  # doctest: +SKIP
    ...     ws.send_text("hi")
    ...     assert ws.receive_text() == "hi"
    """

    __slots__ = ("_ws",)

    def __init__(self, ws: AsyncWebSocket) -> None:
        self._ws = ws

    @property
    def response(self) -> Response:
        return self._ws.response

    @property
    def subprotocol(self) -> str | None:
        return self._ws.subprotocol

    @property
    def close_code(self) -> int | None:
        return self._ws.close_code

    @property
    def close_reason(self) -> str:
        return self._ws.close_reason

    def send_text(self, text: str) -> None:
        """Send a text message."""
        run_sync(self._ws.send_text(text))

    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message."""
        run_sync(self._ws.send_bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        """Send ``data`` as JSON."""
        run_sync(self._ws.send_json(data, mode))

    def receive(self) -> str | bytes:
        """The next message: ``str`` or ``bytes``."""
        return run_sync(self._ws.receive())

    def receive_text(self) -> str:
        """The next message, which must be text."""
        return run_sync(self._ws.receive_text())

    def receive_bytes(self) -> bytes:
        """The next message, which must be binary."""
        return run_sync(self._ws.receive_bytes())

    def receive_json(self) -> Any:
        """The next message, parsed as JSON."""
        return run_sync(self._ws.receive_json())

    def __iter__(self) -> Iterator[str | bytes]:
        while True:
            try:
                message = self.receive()
            except WebSocketDisconnect as exc:
                if exc.code in _NORMAL_CLOSE:
                    return
                raise
            yield message

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping and return when its pong arrives."""
        run_sync(self._ws.ping(payload))

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close: send a close frame, wait for the peer's."""
        run_sync(self._ws.close(code, reason))

    def __repr__(self) -> str:
        return repr(self._ws).replace("AsyncWebSocket", "WebSocket", 1)
