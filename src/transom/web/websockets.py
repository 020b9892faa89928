"""WebSocket connections as handlers see them: ``WebSocket``, and the origin check.

>>> @app.websocket("/ws/{room}", name="room")
... async def room(ws: WebSocket, room: str) -> None:
...     await ws.accept()
...     async for message in ws:            # str or bytes; ends when the peer closes
...         await ws.send_text(f"{room}: {message}")

Theory of operation
-------------------
A ``WebSocket`` is an ``HTTPConnection`` (``transom.web.requests``) over an
ASGI ``websocket`` scope, so ``url``, ``headers``, ``cookies``,
``query_params``, ``path_params``, ``session``, ``user``, ``state`` and
``url_for`` are the very properties a ``Request`` has, read from the
opening handshake. On top it speaks the ASGI WebSocket messages, and keeps
one phase::

    CONNECTING --accept()--> ACCEPTED --close()--> CLOSED
        |  \\--close()/deny()--> DENIED
        \\ (the peer may leave in any phase: receive() raises WebSocketDisconnect)

- Every answer to the handshake (``accept()``, ``deny()``, ``close()``
  before ``accept()``) first takes the server's ``websocket.connect``
  message, the scope's first (ASGI); if the client left instead, a refusal
  sends nothing and ``accept()`` raises ``WebSocketDisconnect``.
- ``accept()`` sends ``websocket.accept``. Only in CONNECTING; a second
  call is an error.
- ``close(code, reason)`` in CONNECTING refuses the handshake (servers
  answer 403); in ACCEPTED it starts the closing handshake (RFC 6455 §7.1.2).
  Once the connection is closed or denied, or the peer has gone, it does
  nothing, so ``finally: await ws.close()`` is always safe.
- ``deny(response)`` refuses the handshake with an HTTP response, sent
  through the ASGI ``websocket.http.response`` extension when the server
  offers it, else as ``websocket.close`` (which servers answer with 403).
- ``receive()`` returns the next message, ``str`` or ``bytes``; when the
  peer has closed (or the connection is lost, code 1006) it raises
  ``WebSocketDisconnect`` with the close code and reason, every time it is
  called from then on. ``async for message in ws`` ends there instead.
- ``send_*`` need ACCEPTED. A send that finds the peer gone (the server's
  ``send()`` raises ``OSError``, ASGI 2.4) raises ``WebSocketDisconnect``
  (1006), so a handler catches one exception for "the peer left".

Misuse raises ``LocalProtocolError`` saying what to do instead: sending or
receiving before ``accept()``, accepting twice, a subprotocol the client
did not offer (RFC 6455 §4.2.2), a close code that may not be sent
(RFC 6455 §7.4), ``receive_text()`` when a bytes message arrived (the
error says what arrived; the message is consumed).

The app (``transom.web.application``) hands the WebSocket the headers its
handshake answer must carry: the ``Set-Cookie`` of a session changed
before ``accept()``, and the headers guards asked for (``RateLimit``); they
go out with the ``101`` or with a denial response alike.

Origin check (cross-site WebSocket hijacking): browsers send cookies with
a WebSocket handshake to any site, whatever page opened it, and the
same-origin policy does not apply to WebSockets; the ``Origin`` header
(RFC 6455 §4.1 item 8, §10.2) is the only sign of who opened it.
``OriginCheck`` allows a handshake without ``Origin`` (not a browser), one
whose ``Origin`` has the host and port of the ``Host`` header (same
origin), and one from a listed origin; anything else is refused with 403
before the handler runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from transom._types import Message, Receive, Scope, Send
from transom.exceptions import (
    ConfigurationError,
    InvalidURL,
    LocalProtocolError,
    WebSocketDisconnect,
)
from transom.http.headers import Headers
from transom.http.url import DEFAULT_PORTS, URL
from transom.web.guards import EXTRA_HEADERS
from transom.web.requests import HTTPConnection
from transom.web.responses import Response

__all__ = ["HTTP_RESPONSE_EXTENSION", "OriginCheck", "WebSocket", "WebSocketDisconnect"]

#: The ASGI extension that lets an app refuse a handshake with any HTTP response.
HTTP_RESPONSE_EXTENSION = "websocket.http.response"

HeadersInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
HandshakeHeaders = Callable[[Scope], Awaitable[list[tuple[bytes, bytes]]]]

_Phase = Literal["connecting", "accepted", "denied", "closed"]
_CONNECTING: _Phase = "connecting"
_ACCEPTED: _Phase = "accepted"
_DENIED: _Phase = "denied"
_CLOSED: _Phase = "closed"

# RFC 6455 §7.4.1-§7.4.2 and the IANA registry: the codes an endpoint may send.
# 1005, 1006 and 1015 only report what happened; they never go on the wire.
_SENDABLE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


def _check_close(code: int, reason: str) -> None:
    if isinstance(code, bool) or not isinstance(code, int):
        raise LocalProtocolError(f"close code must be an int, not {code!r}")
    if code not in _SENDABLE and not 3000 <= code <= 4999:
        raise LocalProtocolError(
            f"close code {code} may not be sent (RFC 6455 §7.4): use 1000 (normal), 1001 "
            "(going away), 1008 (policy violation), 1011 (server error) or 3000-4999"
        )
    if not isinstance(reason, str) or len(reason.encode("utf-8")) > 123:
        # A control frame's payload is at most 125 bytes, 2 of them the code (RFC 6455 §5.5).
        raise LocalProtocolError("close reason must be a str of at most 123 UTF-8 bytes")


class WebSocket(HTTPConnection):
    """One WebSocket connection; see the module docstring.

    >>> @app.websocket("/echo")
    ... async def echo(ws: WebSocket) -> None:
    ...     await ws.accept(subprotocol="chat" if "chat" in ws.subprotocols else None)
    ...     while True:
    ...         data = await ws.receive_json()      # raises WebSocketDisconnect at the end
    ...         await ws.send_json({"echo": data})
    """

    __slots__ = (
        "_close_code",
        "_close_reason",
        "_connected",
        "_handshake",
        "_phase",
        "_receive",
        "_send",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        handshake_headers: HandshakeHeaders | None = None,
    ) -> None:
        if scope.get("type") != "websocket":
            raise ConfigurationError(
                f"WebSocket needs a 'websocket' ASGI scope, not {scope.get('type')!r}"
            )
        HTTPConnection.__init__(self, scope)
        self._receive = receive
        self._send = send
        self._handshake = handshake_headers
        self._phase: _Phase = _CONNECTING
        self._connected = False  # websocket.connect received
        self._close_code: int | None = None  # set when the peer closed or left
        self._close_reason = ""

    # -- what the handshake said ---------------------------------------------

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered (``Sec-WebSocket-Protocol``), in its order."""
        offered: list[str] = self.scope.get("subprotocols") or []
        return list(offered)

    @property
    def application_state(self) -> _Phase:
        """Where our side is: ``"connecting"`` (the handshake awaits ``accept()`` or a
        refusal), ``"accepted"``, ``"denied"`` (refused before ``accept()``) or ``"closed"``."""
        return self._phase

    @property
    def accepted(self) -> bool:
        """Whether ``accept()`` was called (the connection may have closed since)."""
        return self._phase in (_ACCEPTED, _CLOSED)

    @property
    def close_code(self) -> int | None:
        """The peer's close code (1005 without one, 1006 when lost), once it closed or left."""
        return self._close_code

    @property
    def close_reason(self) -> str:
        """The reason the peer gave with its close, ``""`` until then or without one."""
        return self._close_reason

    # -- the handshake -------------------------------------------------------

    async def accept(
        self, subprotocol: str | None = None, headers: HeadersInput | None = None
    ) -> None:
        """Complete the handshake: the client gets ``101 Switching Protocols``.

        ``subprotocol`` must be one the client offered (RFC 6455 §4.2.2);
        ``headers`` are added to the 101 response.
        """
        if self._phase != _CONNECTING:
            raise LocalProtocolError(self._not_connecting("accept()"))
        if subprotocol is not None and subprotocol not in self.subprotocols:
            offered = ", ".join(self.subprotocols) or "none"
            raise LocalProtocolError(
                f"accept(subprotocol={subprotocol!r}): the client offered {offered}; a server "
                "may only pick one of those (RFC 6455 §4.2.2), or None"
            )
        raw = [] if headers is None else Headers(headers).raw
        raw += await self._handshake_headers()
        await self._await_connect()
        self._phase = _ACCEPTED
        await self._send_or_disconnect(
            {"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw}
        )

    async def deny(self, response: Response) -> None:
        """Refuse the handshake with ``response`` (its status, headers and body).

        >>> if not ws.user.is_authenticated:
        ...     return await ws.deny(PlainTextResponse("log in first", status_code=403))

        A server without the ``websocket.http.response`` extension cannot
        send a response: it refuses with 403 instead.
        """
        if self._phase != _CONNECTING:
            raise LocalProtocolError(self._not_connecting("deny()"))
        response.raw_headers.extend(await self._handshake_headers())
        await self._deny(response)

    async def _deny(self, response: Response) -> None:
        """Send ``response`` as the handshake's refusal, as it is."""
        self._phase = _DENIED
        if not await self._take_connect():
            return  # the client has gone: nobody to refuse
        scope = self.scope
        if HTTP_RESPONSE_EXTENSION not in (scope.get("extensions") or {}):
            await self._send({"type": "websocket.close", "code": 1000})
            return
        send = self._send

        async def send_denial(message: Message) -> None:
            # A Response speaks http.response.*; the extension's messages carry the
            # same fields under websocket.http.response.*.
            await send({**message, "type": "websocket." + message["type"]})

        await response(scope, self._receive, send_denial)

    async def _handshake_headers(self) -> list[tuple[bytes, bytes]]:
        extra: list[tuple[bytes, bytes]] = list(self.scope.get(EXTRA_HEADERS) or ())
        if self._handshake is not None:
            extra += await self._handshake(self.scope)
        return extra

    async def _await_connect(self) -> None:
        """Take the server's ``websocket.connect``; ``WebSocketDisconnect`` if the client left."""
        if not await self._take_connect():
            raise WebSocketDisconnect(self._close_code or 1006, self._close_reason)

    async def _take_connect(self) -> bool:
        """Take ``websocket.connect``, the scope's first message (ASGI), before answering
        the handshake; ``False`` when the client left instead."""
        if not self._connected:
            self._connected = True
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self._gone(message)
        return self._close_code is None

    def _not_connecting(self, what: str) -> str:
        if self._phase == _ACCEPTED:
            return f"{what} after accept(): the handshake is over"
        if self._phase == _DENIED:
            return f"{what} after the handshake was refused (deny() or close() before accept())"
        return f"{what} after close(): the connection is closed"

    # -- receiving -----------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for a text message, ``bytes`` for a binary one.

        Raises ``WebSocketDisconnect`` (``code``, ``reason``) once the peer
        has closed or gone, and again on every later call.
        """
        if self._close_code is not None:
            raise WebSocketDisconnect(self._close_code, self._close_reason)
        if self._phase in (_CONNECTING, _DENIED):
            raise LocalProtocolError(
                "receive() before accept(): accept the connection first (await ws.accept())"
                if self._phase == _CONNECTING
                else "receive() after the handshake was refused: there is no connection"
            )
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text: str | None = message.get("text")
            if text is not None:
                return text
            data: bytes = message.get("bytes") or b""
            return data
        if kind == "websocket.disconnect":
            self._gone(message)
            raise WebSocketDisconnect(self._close_code or 1005, self._close_reason)
        raise LocalProtocolError(f"unexpected ASGI message {kind!r} on a WebSocket")

    async def receive_text(self) -> str:
        """The next message, which must be text (else ``LocalProtocolError``)."""
        message = await self.receive()
        if not isinstance(message, str):
            raise LocalProtocolError(
                f"receive_text() got a binary message ({len(message)} bytes); use "
                "receive_bytes() for those, or receive() for either"
            )
        return message

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary (else ``LocalProtocolError``)."""
        message = await self.receive()
        if not isinstance(message, bytes):
            raise LocalProtocolError(
                f"receive_bytes() got a text message ({len(message)} characters); use "
                "receive_text() for those, or receive() for either"
            )
        return message

    async def receive_json(self) -> Any:
        """The next message, text or binary (UTF-8), parsed as JSON (``ValueError`` if not)."""
        return json.loads(await self.receive())

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        """Every message until the peer closes: ``async for message in ws``."""
        while True:
            try:
                message = await self.receive()
            except WebSocketDisconnect:
                return
            yield message

    def _gone(self, message: Message) -> None:
        self._close_code = int(message.get("code") or 1005)
        self._close_reason = str(message.get("reason") or "")

    # -- sending -------------------------------------------------------------

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        if not isinstance(data, str):
            raise LocalProtocolError(
                f"send_text() takes a str, not {type(data).__name__}; use send_bytes() for bytes"
            )
        await self._send_data({"type": "websocket.send", "text": data}, "send_text()")

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Send a binary message."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise LocalProtocolError(
                f"send_bytes() takes bytes, not {type(data).__name__}; use send_text() for str"
            )
        await self._send_data({"type": "websocket.send", "bytes": bytes(data)}, "send_bytes()")

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as compact JSON, in a text message (or binary, UTF-8)."""
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if mode == "binary":
            await self.send_bytes(text.encode("utf-8"))
        elif mode == "text":
            await self.send_text(text)
        else:
            raise LocalProtocolError(f"send_json(mode={mode!r}): mode is 'text' or 'binary'")

    async def _send_data(self, message: Message, what: str) -> None:
        if self._close_code is not None:
            raise WebSocketDisconnect(self._close_code, self._close_reason)
        if self._phase != _ACCEPTED:
            if self._phase == _CONNECTING:
                raise LocalProtocolError(
                    f"{what} before accept(): accept the connection first (await ws.accept())"
                )
            raise LocalProtocolError(self._not_connecting(what))
        await self._send_or_disconnect(message)

    async def _send_or_disconnect(self, message: Message) -> None:
        try:
            await self._send(message)
        except OSError as exc:  # ASGI 2.4: send() on a connection the peer has left
            self._close_code, self._close_reason = 1006, ""
            raise WebSocketDisconnect(1006) from exc

    # -- closing -------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (RFC 6455 §7.1.2), or refuse the handshake before ``accept()``.

        Does nothing once the connection is closed or refused, or the peer has gone.
        """
        _check_close(code, reason)
        if self._phase in (_DENIED, _CLOSED) or self._close_code is not None:
            return
        if self._phase == _CONNECTING:
            self._phase = _DENIED
            if not await self._take_connect():
                return
        else:
            self._phase = _CLOSED
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:  # the peer has gone already: the connection is closed either way
            self._close_code, self._close_reason = 1006, ""

    def __repr__(self) -> str:
        return f"<WebSocket {self.scope.get('path')!r} {self._phase}>"


class OriginCheck:
    """Which ``Origin`` may open a WebSocket: ``App(websocket_origins=...)``.

    ``None``: the same origin only (``Origin``'s host and port are the
    ``Host`` header's). A list of origins (``"https://app.example"``,
    ``"https://*.example.com"`` for every subdomain) allows those as well;
    ``["*"]`` allows any. A handshake without ``Origin`` (not from a
    browser) is always allowed: the check guards browsers' cookies.
    """

    __slots__ = ("any", "origins")

    def __init__(self, origins: Sequence[str] | None = None) -> None:
        from transom.web.csrf import normalise_trusted_origin

        if isinstance(origins, str):
            raise ConfigurationError(
                f"websocket_origins takes a list of origins, not one string: write [{origins!r}]"
            )
        listed = () if origins is None else tuple(origins)
        self.any = "*" in listed
        self.origins = tuple(
            normalise_trusted_origin(origin, "websocket_origins")
            for origin in listed
            if origin != "*"
        )

    def refusal(self, connection: HTTPConnection) -> str | None:
        """Why the handshake's ``Origin`` is refused, or ``None`` when it is allowed."""
        origin = connection.headers.get("origin")
        if origin is None or self.any:
            return None
        from transom.web.csrf import origin_of, origin_trusted

        normal = origin_of(origin.strip())
        if normal is not None and (
            _same_origin(normal, connection.headers.get("host"))
            or origin_trusted(self.origins, normal)
        ):
            return None
        return (
            f"cross-origin WebSocket refused: Origin {origin} is not this site; allow it "
            "with App(websocket_origins=[...])"
        )


def _same_origin(origin: str, host: str | None) -> bool:
    """Whether ``origin`` (normalised) names the host and port of the ``Host`` header.

    A ``Host`` without a port means the default port of the origin's scheme:
    behind a TLS proxy the handshake may arrive as ``ws`` for an ``https``
    page, and the browser then sent ``Host`` without ``:443``.
    """
    if not host:
        return False
    try:
        url = URL(origin)
        own = URL(f"{url.scheme}://{host.strip()}")
    except InvalidURL:
        return False
    default = DEFAULT_PORTS.get(url.scheme)
    return url.host == own.host and (url.port or default) == (own.port or default)
