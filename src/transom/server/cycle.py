"""One request/response exchange, seen by the application as ASGI ``receive``/``send``.

The connection protocol (``protocol.py``) builds a ``Cycle`` per request head,
pushes body bytes into it (``feed``, then ``body_complete``) and starts ``run()``. The
cycle turns ASGI messages into ``transom.http.connection`` events:

* ``receive()`` hands over whatever body is buffered; when nothing is, it asks
  the protocol for more (which sends ``100 Continue`` the first time, resumes
  reading and arms the body timeout) and waits. After the whole body was
  delivered it waits for the client to go away (``http.disconnect``), which is
  what streaming responses listen for.
* ``send()`` holds ``http.response.start`` back until the first body message, so
  a response sent as start + one final body leaves in one buffer
  (``Connection.send_response``). A streaming body waits while the transport
  is paused (write flow control). After the client has gone, ``send()``
  raises ``ClientDisconnected`` (an ``OSError``), as ASGI spec 2.4 asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from types import CoroutineType
from typing import TYPE_CHECKING, Any, Final

from transom._types import ASGIApp, Message, Scope
from transom.exceptions import ClientDisconnected, LocalProtocolError
from transom.http.events import Data, EndOfMessage, Response

if TYPE_CHECKING:
    from transom.server.eager import Started
    from transom.server.protocol import HttpProtocol

__all__ = ["Cycle"]

_CLOSE: Final = (b"connection", b"close")


class Cycle:
    """The state of one exchange; every field is touched on the hot path."""

    __slots__ = (
        "body",
        "body_bytes",
        "body_complete",
        "body_delivered",
        "buffered",
        "disconnected",
        "head_written",
        "protocol",
        "response_complete",
        "response_start",
        "scope",
        "started",
        "started_at",
        "status",
        "task",
        "waiter",
    )

    def __init__(self, protocol: HttpProtocol, scope: Scope, started_at: float) -> None:
        self.protocol = protocol
        self.scope = scope
        self.started_at = started_at
        self.started = False
        # Body chunks not yet handed to the app: one chunk as it came (handed
        # over without a copy), or a list of them, joined once when taken.
        self.body: bytes | list[bytes] = b""
        self.buffered = 0
        self.body_complete = False
        self.body_delivered = False
        self.disconnected = False
        self.response_start: Message | None = None
        self.head_written = False
        self.response_complete = False
        self.status = 0
        self.body_bytes = 0
        self.task: Started | None = None
        self.waiter: asyncio.Future[None] | None = None

    # --- fed by the protocol ---------------------------------------------------
    def feed(self, data: bytes) -> int:
        """Buffer a body chunk; returns how many bytes are now buffered."""
        body = self.body
        if not body:
            self.body = data
            self.buffered = len(data)
        else:
            if isinstance(body, list):
                body.append(data)
            else:
                self.body = [body, data]
            self.buffered += len(data)
        self.wake()
        return self.buffered

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- the application ---------------------------------------------------
    def start(self, app: ASGIApp) -> None:
        """Start the app on this exchange (eagerly: see ``eager.py``); its
        errors become a 500 or a close, never the worker's end."""
        self.started = True
        try:
            coro = app(self.scope, self.receive, self.send)
            if type(coro) is not CoroutineType:
                coro = _awaiting(coro)  # any other awaitable, or a TypeError to report
        except Exception as exc:  # the app is not even callable as ASGI
            self.finished(exc)
            return
        self.task = self.protocol.state.starter.start(coro, self.finished)

    def finished(self, exc: BaseException | None) -> None:
        """The app's coroutine ended, raising ``exc`` or not."""
        if exc is not None or not self.response_complete:
            self.protocol.on_app_error(self, exc)

    async def receive(self) -> Message:
        if not (self.disconnected or self.response_complete):
            if self.body_delivered:
                # The whole body was handed over: what is left to report is the
                # client going away (streaming responses wait for exactly that).
                await self._wait(for_body=False)
            else:
                if not self.body and not self.body_complete:
                    await self._wait(for_body=True)
                if not self.disconnected:
                    return self._take_body()
        return {"type": "http.disconnect"}

    def _take_body(self) -> Message:
        body, self.body = self.body, b""
        self.buffered = 0
        if self.body_complete:
            self.body_delivered = True
        else:
            self.protocol.on_body_consumed()
        if isinstance(body, list):
            body = b"".join(body)
        return {"type": "http.request", "body": body, "more_body": not self.body_complete}

    async def _wait(self, *, for_body: bool) -> None:
        protocol = self.protocol
        if for_body:
            protocol.on_body_wanted()
        waiter = self.waiter
        if waiter is None or waiter.done():
            waiter = self.waiter = protocol.loop.create_future()
        try:
            await waiter
        finally:
            self.waiter = None
            if for_body:
                protocol.on_body_wait_over()

    async def send(self, message: Message) -> None:
        if self.disconnected:
            raise ClientDisconnected("the client closed the connection")
        # Apps send dicts; typed as one, the reads below are dict operations
        # in the compiled build rather than generic mapping calls.
        msg: dict[str, Any] = message if type(message) is dict else dict(message)
        kind = msg["type"]
        if kind == "http.response.body" and self.response_start is not None:
            if self.response_complete:
                raise LocalProtocolError("the response is complete: send nothing after it")
            body = msg.get("body", b"")
            self.body_bytes += len(body)
            protocol = self.protocol
            conn = protocol.conn
            if msg.get("more_body", False):
                await self._send_part(body)
                return
            if self.head_written:
                wire = conn.send(Data(body)) if body else b""
                wire += conn.send(EndOfMessage())
            else:
                # The common case: the whole response in one buffer, one write.
                wire = conn.send_response(self.head(), body)
                self.head_written = True
            self.response_complete = True
            protocol.write(wire)
            protocol.on_response_complete(self)
        elif kind == "http.response.start" and self.response_start is None:
            self.status = msg["status"]
            self.response_start = msg
        else:
            raise LocalProtocolError(
                f"unexpected ASGI message {kind!r}: send 'http.response.start' once, "
                "then 'http.response.body' messages until one has more_body=False"
            )

    async def _send_part(self, body: bytes) -> None:
        """A streamed piece: chunked (or raw, per the core's framing), then wait
        while the transport is paused (write flow control)."""
        protocol = self.protocol
        conn = protocol.conn
        if self.head_written:
            wire = conn.send(Data(body)) if body else b""
        else:
            wire = conn.send(self.head())
            self.head_written = True  # only after the core accepted the head
            if body:
                wire += conn.send(Data(body))
        # Straight to the transport, not the batch: a stream that never waits
        # must still meet write flow control (pause_writing) at once.
        protocol.write_now(wire)
        if protocol.write_paused:
            await protocol.drain()

    def head(self) -> Response:
        """The response head: the app's headers plus Date/Server (and a close
        when the server is shutting down)."""
        start = self.response_start
        assert start is not None  # invariant: only called after http.response.start
        protocol = self.protocol
        headers = [*start.get("headers", ()), *protocol.state.default_headers]
        if protocol.closing:
            headers.append(_CLOSE)
        return Response(self.status, headers)


async def _awaiting(awaitable: Awaitable[Any]) -> None:
    await awaitable
