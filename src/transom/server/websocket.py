"""One WebSocket connection, seen by the application as ASGI ``receive``/``send``.

Theory of operation
-------------------
The HTTP protocol (``protocol.py``) sees an upgrade request, checks the
opening handshake (``transom.http.websocket.check_request``: a bad one is
answered 400 or 426 and the app never runs) and starts the app with a
``WebSocketSession``. The session lives in phases::

    CONNECTING --receive()--> HANDSHAKE --websocket.accept--> OPEN --> CLOSED
         \\--------------------------+--websocket.close--> 403 ---------/
                                     +--websocket.http.response.*--> RESPONSE --/
                                     +--app error or return--> 500 ------------/

Before the accept, the HTTP protocol still owns the transport, and every
answer (403, the denial response, 500) goes through its
``transom.http.connection.Connection`` and ends with a close. On accept the
101 goes out the same way, the HTTP protocol hands over the transport
(``switch_to``: ``transport.set_protocol``) and the bytes it had already
received after the request head, and the session is the transport's
protocol from then on, feeding ``transom.http.websocket.WebSocketConnection``.

The message path is kept short, since it is the one a benchmark measures:
``data_received`` feeds the core and drains its events; a message for an
app already waiting in ``receive()`` goes to it directly (below), and only
otherwise joins a deque. ``send()`` writes the frame straight to the
transport and returns without awaiting anything, unless the transport
paused writing, when it waits for the drain.

Direct steps. The app runs in a Task driven by ``driven.Driven``. An app
waiting in ``receive()`` with nothing queued waits on a future the session
owns (``_park``, kept from one receive to the next while pending). When a
message arrives for it, ``data_received`` does not resolve that future:
it runs the app's next step right there (``Driven.step``: the Task
installed as the current task, in the app's context), so an echo is
answered and the app back in ``receive()`` without a loop iteration or a
Task wake-up. Not while our close is out or the server shuts down, nor
when the app's Task does not itself wait on that future (a receive() in a
child task), has a cancellation pending, or is running (a call from
inside a task): the future is resolved as before. An app that awaits
something else in its step is handed back to its Task (one iteration);
one that ends is reported as it would have been.

One message at a time. Once a message is handed to the app, the bytes
after it stay unparsed in the core (``_held``) until the app reacts: it
sends something, or comes back to ``receive()`` for more. A peer that
sends a message and its close in one go thus gets the app's answer to the
message before the close is read (after which nothing may be sent), as an
echo endpoint of the Autobahn suite must; the same holds for a message
followed by a protocol violation. An app that does not react within
``HOLD_GRACE`` (a push-only app that never reads, a slow one) has the rest
parsed anyway on the tick, so the peer's pings are still answered and
closes seen.

Flow control. Reading pauses while messages the app has not taken, plus
what the core holds, pass ``ws_max_queue`` bytes (only while the app has
something to take: a message still being assembled must not stop its own
completion; the core's ``max_message_size`` bounds it), and resumes when
that falls to a quarter.

Timers are deadlines on the server's tick (``check_deadline``), as for
HTTP: the next keep-alive ping (RFC 6455 §5.5.2), the pong it waits for
(none within ``ws_ping_timeout``: close 1011 and drop) and the close
handshake (our close frame unanswered within ``ws_close_timeout``: drop
the TCP connection, §7.1.1).

Endings. The peer's close is echoed by the core and the TCP connection is
closed at once (the server closes first, §7.1.1); a protocol failure
flushes the core's close frame and closes (§7.1.7), logged without a
traceback; either way the app's next ``receive()`` gives the messages it
had not taken, then ``websocket.disconnect`` with the code. An app that
raises after the accept closes with 1011 (logged); one that returns
without closing closes with 1000. Graceful shutdown sends 1001.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Awaitable, Generator, Sequence
from types import CoroutineType, coroutine
from typing import TYPE_CHECKING, Any, Final

from transom._types import ASGIApp, Message, Scope
from transom.exceptions import ClientDisconnected, LocalProtocolError
from transom.http.events import Data, EndOfMessage, Response
from transom.http.websocket import (
    BytesMessage,
    CloseReceived,
    HandshakeRequest,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
    WebSocketConnection,
    accept,
)
from transom.server.accesslog import log_access

if TYPE_CHECKING:
    from transom.server.driven import Driven
    from transom.server.protocol import HttpProtocol

__all__ = ["HOLD_GRACE", "WebSocketSession", "refuse"]

logger = logging.getLogger("transom.error")

#: Seconds an app may take to react to a message before the frames after it
#: are parsed anyway (see "One message at a time").
HOLD_GRACE = 1.0
# The session's phases, in order (compared with < and >).
_CONNECTING: Final = 0
_HANDSHAKE: Final = 1
_RESPONSE: Final = 2
_OPEN: Final = 3
_CLOSED: Final = 4
_CLOSE: Final = (b"connection", b"close")
_TEXT_PLAIN: Final = (b"content-type", b"text/plain; charset=utf-8")
_CONNECT: Message = {"type": "websocket.connect"}


def refuse(
    http: HttpProtocol,
    scope: Scope,
    status: int,
    body: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    started_at: float = 0.0,
) -> None:
    """Answer the upgrade request with a plain HTTP ``status`` and close."""
    fields = [*headers]
    if body:
        fields.append(_TEXT_PLAIN)
    fields += (*http.state.default_headers, _CLOSE)
    http.close_with(http.conn.send_response(Response(status, fields), body))
    if http.state.access_log:
        log_access(scope, status, len(body), http.loop.time() - started_at)


class WebSocketSession(asyncio.Protocol):
    """The ASGI websocket session of one upgrade request; after the accept,
    also the transport's protocol. See the module docstring."""

    __slots__ = (
        "_app_done",
        "_close_due",
        "_disconnect",
        "_drain_waiter",
        "_driven",
        "_eager",
        "_head_sent",
        "_held",
        "_high",
        "_low",
        "_next_ping",
        "_park",
        "_ping_payload",
        "_pong_due",
        "_queue",
        "_queued",
        "_read_paused",
        "_release_at",
        "_response_bytes",
        "_response_start",
        "_stepping",
        "_waiter",
        "closing",
        "conn",
        "deadline",
        "http",
        "loop",
        "phase",
        "request",
        "scope",
        "started_at",
        "state",
        "task",
        "transport",
        "write_deadline",
        "write_paused",
    )

    def __init__(
        self, http: HttpProtocol, scope: Scope, request: HandshakeRequest, started_at: float
    ) -> None:
        self.http = http
        self.state = state = http.state
        self.loop = http.loop
        self.transport = http.transport
        self.scope = scope
        self.request = request
        self.started_at = started_at
        self.phase = _CONNECTING
        self.conn: WebSocketConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self._driven: Driven | None = None
        self.closing = False
        self.deadline = 0.0
        self.write_deadline = 0.0
        self.write_paused = False
        self._app_done = False
        self._queue: deque[tuple[Message, int]] = deque()
        self._queued = 0  # bytes of the messages in _queue
        self._high = state.config.ws_max_queue
        self._low = self._high // 4
        self._read_paused = False
        self._held = False  # a message awaits the app's reaction: parse no further
        self._eager = False  # never hold (we closed, or the app is done)
        self._park: asyncio.Future[Message] | None = None  # receive()'s, kept while pending
        self._waiter: asyncio.Future[Message] | None = None  # _park, while the app waits on it
        self._stepping = False  # the app is being stepped directly (data_received)
        self._drain_waiter: asyncio.Future[None] | None = None
        self._disconnect: Message | None = None  # websocket.disconnect, once known
        self._response_start: Message | None = None
        self._head_sent = False
        self._response_bytes = 0
        self._next_ping = 0.0  # each timer: 0.0 when not armed
        self._pong_due = 0.0
        self._close_due = 0.0
        self._release_at = 0.0  # when a held message stops holding the rest back
        self._ping_payload = b""

    # --- the application ---------------------------------------------------
    def start(self, app: ASGIApp) -> None:
        """Start the app in a Task of its own (see ``EagerStarter.spawn``)."""
        try:
            coro = app(self.scope, self.receive, self.send)
            if type(coro) is not CoroutineType:
                coro = _awaiting(coro)
        except Exception as exc:  # the app is not even callable as ASGI
            self._finished(exc)
            return
        driven = self._driven = self.state.starter.spawn(coro, self._finished)
        self.task = driven.task

    async def receive(self) -> Message:
        queue = self._queue
        if not queue and self._held:
            # Back for more: the app has reacted to what it had; read on (at
            # once, unless it is stepped directly: data_received reads on).
            self._held = False
            if not self._stepping and self.conn.buffered:  # type: ignore[union-attr]  # held
                self._process()
        if queue:
            message, size = queue.popleft()
            self._queued -= size
            if self._read_paused:
                self._maybe_resume()
            return message
        if self._disconnect is not None:
            return self._disconnect
        if self.phase == _CONNECTING:
            self.phase = _HANDSHAKE
            return _CONNECT
        waiter = self._park
        if waiter is None or waiter.done():
            waiter = self._park = self.loop.create_future()
        self._waiter = waiter
        return await _parked(waiter)

    async def send(self, message: Message) -> None:
        # Apps send dicts; typed as one, the reads below are dict operations
        # in the compiled build rather than generic mapping calls.
        msg: dict[str, Any] = message if type(message) is dict else dict(message)
        kind = msg["type"]
        if kind == "websocket.send" and self.phase == _OPEN:
            conn = self.conn
            assert conn is not None  # invariant: set on accept
            # The app's values are judged here (the core's typed methods
            # would raise TypeError): a LocalProtocolError names the field.
            text = msg.get("text")
            if text is not None:
                if type(text) is not str:
                    raise LocalProtocolError(
                        f"websocket.send 'text' must be str, not {type(text).__name__}"
                    )
                frame = conn.send_text(text)
            else:
                data = msg.get("bytes")
                if data is None:
                    raise LocalProtocolError("websocket.send needs 'text' or 'bytes'")
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise LocalProtocolError(
                        f"websocket.send 'bytes' must be bytes, not {type(data).__name__}"
                    )
                frame = conn.send_bytes(data)
            self.transport.write(frame)
            if self._held and not self._queue:
                # The app answered the message it had: what came after it is next.
                self._held = False
                if not self._stepping and conn.buffered:
                    self._process()
            if self.write_paused:
                await self._drain()
        elif kind == "websocket.close":
            self._close_message(message)
        elif kind == "websocket.accept" and self.phase < _RESPONSE:
            self._accept(message)
        elif kind.startswith("websocket.http.response.") and self.phase in (_HANDSHAKE, _RESPONSE):
            await self._respond(message)
        elif self._disconnect is not None:
            raise ClientDisconnected("the client closed the WebSocket connection")
        else:
            raise LocalProtocolError(
                f"unexpected ASGI message {kind!r} here: 'websocket.accept' (or a close or "
                "a 'websocket.http.response') first, then 'websocket.send' and 'websocket.close'"
            )

    def _finished(self, exc: BaseException | None) -> None:
        """The app's coroutine ended, raising ``exc`` or not."""
        self._app_done = self._eager = True
        self._queue.clear()
        self._queued = 0
        gone = self._disconnect is not None
        quiet = exc is None or isinstance(exc, asyncio.CancelledError)
        if gone and (quiet or isinstance(exc, ClientDisconnected)):
            return
        phase = self.phase
        if exc is not None and not isinstance(exc, asyncio.CancelledError):
            logger.error("Exception in ASGI application", exc_info=exc)
        elif phase < _OPEN and not gone:
            logger.error("ASGI application returned without accepting or refusing the WebSocket")
        if phase == _OPEN:
            self._send_close(1000 if quiet else 1011)
        elif gone:
            return
        elif phase == _RESPONSE and self._head_sent:
            self._gone(1006)
            self.http.close_with(b"")  # the response is cut short: closing says so
        else:
            self._gone(1006)
            refuse(self.http, self.scope, 500, b"Internal Server Error", started_at=self.started_at)

    # --- before the accept -------------------------------------------------
    def _accept(self, message: Message) -> None:
        http = self.http
        if self._disconnect is not None or self.transport.is_closing():
            raise ClientDisconnected("the client closed the connection before the accept")
        state = self.state
        config = state.config
        extra: list[tuple[bytes, bytes]] = [*(message.get("headers") or ())]
        extra += state.default_headers
        headers, conn = accept(
            self.request,
            subprotocol=message.get("subprotocol"),
            deflate=config.ws_deflate,
            limits=config.ws_limits,
            extra_headers=extra,
        )
        wire = http.conn.send(Response(101, headers))
        self.conn = conn
        self.phase = _OPEN
        self.write_paused = http.write_paused
        self.write_deadline = http.write_deadline
        trailing, eof = http.switch_to(self, wire)
        if state.access_log:
            log_access(self.scope, 101, 0, self.loop.time() - self.started_at)
        interval = config.ws_ping_interval
        if interval is not None:
            self._next_ping = state.clock + interval
            self._arm()
        if trailing:
            conn.receive_data(trailing)
        if eof:
            conn.receive_data(b"")
        if trailing or eof:
            self._process()
            if self._held and conn.buffered:
                self._check_hold()
        if http.closing and self.phase == _OPEN:
            self.shutdown()  # the server began to shut down meanwhile

    def _close_message(self, message: Message) -> None:
        phase = self.phase
        if phase == _OPEN:
            code = message.get("code")
            reason = message.get("reason") or ""
            if code is None:
                code = 1000
            elif type(code) is not int:
                raise LocalProtocolError(f"websocket.close 'code' must be int, not {code!r}")
            if type(reason) is not str:
                raise LocalProtocolError(f"websocket.close 'reason' must be str, not {reason!r}")
            self._send_close(code, reason)
        elif phase < _RESPONSE and self._disconnect is None:
            # ASGI: a close before the accept refuses the handshake with 403.
            self._gone(1006)
            refuse(self.http, self.scope, 403, started_at=self.started_at)
        elif phase == _RESPONSE:
            raise LocalProtocolError("a denial response is under way: finish it, not close")
        # Otherwise the connection is closed already: closing again does nothing.

    async def _respond(self, message: Message) -> None:
        """The denial response (ASGI ``websocket.http.response`` extension)."""
        kind = message["type"]
        http = self.http
        if kind == "websocket.http.response.start" and self._response_start is None:
            self.phase = _RESPONSE
            self._response_start = message
            return
        start = self._response_start
        if kind != "websocket.http.response.body" or start is None:
            raise LocalProtocolError(
                f"unexpected {kind!r}: 'websocket.http.response.start' once, then "
                "'websocket.http.response.body' until more_body is false"
            )
        if self._disconnect is not None:
            raise ClientDisconnected("the client closed the connection")
        body = message.get("body", b"")
        more = message.get("more_body", False)
        self._response_bytes += len(body)
        conn = http.conn
        if not self._head_sent:
            fields = [*start.get("headers", ()), *self.state.default_headers, _CLOSE]
            head = Response(start["status"], fields)
            self._head_sent = True
            if not more:
                self._response_done(conn.send_response(head, body))
                return
            wire = conn.send(head) + (conn.send(Data(body)) if body else b"")
        else:
            wire = conn.send(Data(body)) if body else b""
            if not more:
                self._response_done(wire + conn.send(EndOfMessage()))
                return
        http.write_now(wire)
        if http.write_paused:
            await http.drain()

    def _response_done(self, wire: bytes) -> None:
        self._gone(1006)
        self.http.close_with(wire)
        if self.state.access_log:
            status = self._response_start["status"] if self._response_start else 0
            elapsed = self.loop.time() - self.started_at
            log_access(self.scope, status, self._response_bytes, elapsed)

    def on_http_lost(self) -> None:
        """The client went away before the accept (EOF or a lost connection)."""
        if self._disconnect is None:
            self._gone(1006)

    # --- asyncio.Protocol, after the accept --------------------------------
    def data_received(self, data: bytes) -> None:
        conn = self.conn
        assert conn is not None  # invariant: the transport is ours only after the accept
        conn.receive_data(data)
        if self._held:
            self._check_hold()  # the app has a message to react to first
            return
        self._process()
        if self._held and conn.buffered:
            self._check_hold()

    def eof_received(self) -> bool | None:
        conn = self.conn
        assert conn is not None  # invariant: as above
        conn.receive_data(b"")
        if not self._held:
            self._process()  # CloseReceived(1006): the connection closes
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        self.deadline = self.write_deadline = 0.0
        if self._disconnect is None:
            self._gone(1006)
        self._wake_drain()

    def pause_writing(self) -> None:
        self.write_paused = True
        self.write_deadline = self.state.clock + self.state.write_timeout

    def resume_writing(self) -> None:
        self.write_paused = False
        self.write_deadline = 0.0
        self._wake_drain()

    def _process(self) -> None:
        """Drain the core's events up to the next message, which goes to the
        app (to the whole buffer once ``_eager``)."""
        conn = self.conn
        assert conn is not None  # invariant: as above
        queue = self._queue
        while True:
            event: Any = conn.next_event()
            kind = type(event)
            if kind is TextMessage:
                data = event.data
                message: Message = {"type": "websocket.receive", "text": data}
            elif kind is BytesMessage:
                data = event.data
                message = {"type": "websocket.receive", "bytes": data}
            elif event is None:
                break
            else:
                self._on_control(event)
                continue
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
                if not waiter.done():
                    # The app waits: no queue at all, and if it can be stepped
                    # right now, no Task wake-up either.
                    if self._eager:
                        waiter.set_result(message)
                        continue
                    self._held = True
                    if self.closing:
                        waiter.set_result(message)
                        return
                    # Its next step runs now (see "Direct steps"): it reacts at once.
                    driven = self._driven
                    assert driven is not None  # invariant: it waits, so it was started
                    self._stepping = True
                    try:
                        stepped = driven.step(waiter, message)
                    finally:
                        self._stepping = False
                    if not stepped:
                        waiter.set_result(message)
                        return
                    if self._held:
                        return  # it went on to wait for something else
                    continue  # it reacted, and waits for the next message
            if self._app_done:
                continue
            queue.append((message, len(data)))
            self._queued += len(data)
            if not self._eager:
                self._held = True
                return
        if self._read_paused:
            self._maybe_resume()

    def _check_hold(self) -> None:
        """Bytes wait behind a held message: bound them, and bound the hold."""
        if not self._release_at:
            self._release_at = self.state.clock + HOLD_GRACE
            self._arm()
        if not self._read_paused and self._backlog() > self._high:
            self._read_paused = True
            self.transport.pause_reading()

    def _release(self) -> None:
        """The app took too long to react: parse what waits, all of it."""
        self._release_at = 0.0
        if not self._held:
            return  # it did react, after all
        self._held = False
        self._eager = True
        try:
            self._process()
        finally:
            self._eager = self._app_done or self._close_due != 0.0
        if self._queue and not self._eager:
            self._held = True
        if self._queue:
            self._check_hold()

    def _maybe_resume(self) -> None:
        if not (self._queue or self._held) or self._backlog() <= self._low:
            self._resume_reading()

    def _on_control(self, event: Ping | Pong | CloseReceived | ProtocolFailure) -> None:
        conn = self.conn
        assert conn is not None  # invariant: as above
        if isinstance(event, Ping):
            self.transport.write(conn.data_to_send())  # the pong the core queued
        elif isinstance(event, Pong):
            if self._pong_due and event.payload == self._ping_payload:
                self._pong_due = 0.0
                self._arm()
        else:
            # The peer's close (echoed by the core unless we closed first), its
            # EOF, or a protocol failure (the core's close frame, §7.1.7): flush
            # and close the TCP connection; the server closes first (§7.1.1).
            if isinstance(event, ProtocolFailure):
                logger.debug("WebSocket protocol error from %s: %r", self.scope["client"], event)
            wire = conn.data_to_send()
            transport = self.transport
            if wire:
                transport.write(wire)
            self.deadline = 0.0
            transport.close()
            self._gone(event.code, event.reason)

    # --- sending, closing ----------------------------------------------------
    def _send_close(self, code: int, reason: str = "") -> None:
        """Our close frame (§5.5.1); the peer has ``ws_close_timeout`` to answer."""
        conn = self.conn
        assert conn is not None  # invariant: only after the accept
        wire = conn.send_close(code, reason)  # LocalProtocolError for an invalid code
        if not wire or self.transport.is_closing():
            return
        self.transport.write(wire)
        self._close_due = self.state.clock + self.state.config.ws_close_timeout
        self._next_ping = self._pong_due = 0.0
        self._arm()
        # The peer's answer must be read, whatever the app has not taken.
        self._eager = True
        if self._held:
            self._held = False
            self._process()

    async def _drain(self) -> None:
        if self.transport.is_closing():
            raise ClientDisconnected("the client closed the WebSocket connection")
        waiter = self._drain_waiter = self.loop.create_future()
        await waiter

    def _wake_drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _gone(self, code: int, reason: str = "") -> None:
        """The connection is over: the app's next receive() after what is
        queued says so, and its send() raises ``ClientDisconnected``."""
        message = self._disconnect = {
            "type": "websocket.disconnect",
            "code": code,
            "reason": reason,
        }
        self.phase = _CLOSED if self.phase == _OPEN else self.phase
        self._next_ping = self._pong_due = self._close_due = self._release_at = 0.0
        self.deadline = 0.0
        if self._read_paused:
            self._read_paused = False  # nothing more will be read
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(message)

    def _backlog(self) -> int:
        conn = self.conn
        return self._queued + (conn.buffered if conn is not None else 0)

    def _resume_reading(self) -> None:
        self._read_paused = False
        if not self.transport.is_closing():
            self.transport.resume_reading()

    # --- timers, shutdown (called by the server) ----------------------------
    def _arm(self) -> None:
        """The deadline the tick checks: the nearest armed timer."""
        timers = (self._next_ping, self._pong_due, self._close_due, self._release_at)
        due = [t for t in timers if t]
        self.deadline = min(due) if due else 0.0

    def check_deadline(self, now: float) -> None:
        """Called by the server's tick: pings, pong and close timeouts."""
        if self.write_deadline and self.write_deadline <= now:
            self._drop()  # the client takes none of our data: do not wait on it
            return
        if not self.deadline or self.deadline > now:
            return
        if self._close_due and self._close_due <= now:
            self._drop()  # §7.1.1: our close went unanswered
            return
        conn = self.conn
        assert conn is not None  # invariant: timers are armed after the accept only
        if self._release_at and self._release_at <= now:
            self._release()
            if self._disconnect is not None:
                return
        if self._pong_due and self._pong_due <= now:
            # No pong: the peer or the path is dead. Say why, and do not wait.
            logger.info("WebSocket from %s: no pong within the ping timeout", self.scope["client"])
            self.transport.write(conn.send_close(1011, "keepalive ping timeout"))
            self.deadline = 0.0
            self.transport.close()
            self._gone(1011, "keepalive ping timeout")
            return
        if self._next_ping and self._next_ping <= now and not self._pong_due:
            # One ping at a time: the next one waits for this one's pong.
            config = self.state.config
            self._ping_payload = os.urandom(4)
            self.transport.write(conn.send_ping(self._ping_payload))
            assert config.ws_ping_interval is not None  # invariant: the ping is armed
            self._next_ping = now + config.ws_ping_interval
            if config.ws_ping_timeout is not None:
                self._pong_due = now + config.ws_ping_timeout
        self._arm()

    def shutdown(self) -> None:
        """Graceful shutdown: close with 1001 (going away) and wait for the
        peer's answer, as long as ``ws_close_timeout`` and the server allow."""
        self.closing = True
        if self.phase == _OPEN and not self.transport.is_closing():
            self._send_close(1001)

    def abort(self) -> None:
        """The shutdown timeout passed: drop the connection, cancel the app."""
        self._drop()
        task = self.task
        if task is not None and not task.done():
            task.cancel()

    def _drop(self) -> None:
        self.deadline = self.write_deadline = 0.0
        self._wake_drain()
        self.transport.abort()
        if self._disconnect is None:
            self._gone(1006)


@coroutine
def _parked(waiter: asyncio.Future[Message]) -> Generator[Any, Any, Message]:
    """Wait on ``waiter`` (as ``await waiter`` does), or take the message a
    direct step sends in (``WebSocketSession._step``)."""
    waiter._asyncio_future_blocking = True
    message: Message | None = yield waiter
    return waiter.result() if message is None else message


async def _awaiting(awaitable: Awaitable[Any]) -> None:
    await awaitable
