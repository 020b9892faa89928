"""The asyncio protocol of one HTTP/1.1 connection: bytes to ASGI and back.

Theory of operation
-------------------
``data_received`` feeds ``transom.http.connection.Connection`` and drains its
events in one loop (``_process``):

* ``Request``: build the scope and a ``Cycle``; the app is not started yet.
* ``Data`` / ``EndOfMessage``: buffer into the cycle. At ``EndOfMessage`` (or
  when the buffer runs dry mid-body) the app starts *eagerly* (``eager.py``):
  an app that does not wait on I/O finishes right there, its response is
  complete, ``start_next_cycle()`` runs and the loop goes on to the next
  pipelined request. ``PAUSED`` means the app is still busy.

Everything written during one ``_process`` call is collected and leaves in a
single ``transport.write``: one response is one write, and sixteen pipelined
responses ready together are one write too.

Flow control: reading pauses when a body piles up unread past
``read_high_water`` or pipelined bytes pile up behind a busy app; it resumes
as the app consumes. ``pause_writing``/``resume_writing`` make a streaming
``send()`` wait (``drain``).

Timeouts are deadlines checked by the server's tick (``check_deadline``), so
arming one on the hot path is one attribute store: IDLE (keep-alive, or a new
connection that sent nothing: closed quietly), HEAD (the request head must be
complete this long after its first byte; never extended by later bytes:
408), BODY (the app waits for a body chunk: 408 if nothing was answered yet).
The BODY deadline is the nearer of two: ``body_timeout`` from now (an idle
gap), and the moment the body falls below ``body_min_rate`` bytes a second
(after ``body_timeout`` seconds of grace), counting only the time the app
spent waiting for it, so a client that trickles a byte at a time cannot hold
a connection and its app for ever. Both are computed when the app starts to
wait, never per request or per chunk.
A client that stops reading our data gets ``write_timeout`` from the moment
the transport pauses us (``write_deadline``), then the connection is dropped
without waiting to flush.

WebSocket: a request whose Upgrade lists ``websocket`` (when ``config.ws``)
gets the ``websocket`` scope and a ``WebSocketSession`` (``websocket.py``)
instead of a cycle; the session's accept writes the 101 and takes the
transport over (``switch_to``). The usual request pays one flag test for it.

Graceful shutdown (``shutdown``) takes no request after the current one. An
idle keep-alive connection is not closed at once: a proxy may be writing a
request into it at that very moment, and a request lost that way cannot be
retried when it is a POST. It keeps an IDLE deadline of a short grace
(``SHUTDOWN_GRACE``, never past its keep-alive deadline or the shutdown
timeout); a request that arrives meanwhile is answered with ``Connection:
close``, and what is still idle when the grace ends is closed by the tick.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from typing import Any, Final, cast
from urllib.parse import unquote_to_bytes

from transom._types import Scope
from transom.exceptions import ClientDisconnected, RemoteProtocolError, WebSocketHandshakeError
from transom.http.connection import NEED_DATA, PAUSED, Connection, Role
from transom.http.events import ConnectionClosed, Data, EndOfMessage, HeaderList, Request, Response
from transom.http.websocket import check_request, is_websocket_upgrade
from transom.http.writer import error_response
from transom.server.accesslog import log_access
from transom.server.cycle import Cycle
from transom.server.proxy import PROXY_NAMES as _PROXY_NAMES
from transom.server.proxy import forwarded_client
from transom.server.state import ServerState
from transom.server.websocket import WebSocketSession, refuse

__all__ = ["SHUTDOWN_GRACE", "HttpProtocol"]

logger = logging.getLogger("transom.error")

_IDLE: Final = 1
_HEAD: Final = 2
_BODY: Final = 3
_METHODS: Final = {
    m.encode(): m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
}
_VERSIONS: Final = {b"1.1": "1.1", b"1.0": "1.0"}
_ERROR_HEADERS: Final = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"21"),
]
_ERROR_BODY: Final = b"Internal Server Error"
_BATCH_LIMIT: Final = 256 * 1024  # bytes collected for one write before it goes out anyway
#: Seconds an idle connection stays open once a graceful shutdown began: time
#: for a proxy to see the instance leave (its listener refuses connections)
#: instead of losing a request written into a connection closed under it.
SHUTDOWN_GRACE = 1.0
# Work scheduled after an async app finished starts from a clean context, so
# context variables set by one request never leak into the next.
_BASE_CONTEXT: Final = contextvars.Context()


class HttpProtocol(asyncio.Protocol):
    """One connection. Created by the server's protocol factory."""

    __slots__ = (
        "_batching",
        "_body_waited",
        "_deadline_kind",
        "_drain_waiter",
        "_out",
        "_out_size",
        "_paced",
        "_pipelined",
        "_read_paused",
        "_wait_started",
        "client",
        "closing",
        "conn",
        "cycle",
        "deadline",
        "loop",
        "scheme",
        "server",
        "state",
        "transport",
        "trusted",
        "websocket",
        "write_deadline",
        "write_paused",
    )

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.loop = state.loop
        config = state.config
        self.conn = Connection(Role.SERVER, limits=config.limits, backend=config.parser_backend)
        self.transport: asyncio.Transport = cast(asyncio.Transport, None)
        self.cycle: Cycle | None = None
        # An upgrade request whose app has not accepted (or refused) yet.
        self.websocket: WebSocketSession | None = None
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int | None] | None = None
        self.scheme = "http"
        self.trusted = False
        self.closing = False
        self.write_paused = False
        self.deadline = 0.0
        self.write_deadline = 0.0
        self._deadline_kind = 0
        self._drain_waiter: asyncio.Future[None] | None = None
        self._out: list[bytes] = []
        self._out_size = 0
        self._batching = False
        self._read_paused = False
        self._pipelined = 0
        # Body pace (see on_body_wanted): the cycle measured, and the seconds
        # its app has spent waiting for body bytes.
        self._paced: Cycle | None = None
        self._body_waited = 0.0
        self._wait_started = 0.0

    # --- asyncio.Protocol ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        state = self.state
        if len(state.connections) >= state.config.max_connections:
            self.transport.write(error_response(503))
            self.transport.close()
            return
        state.connections.add(self)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.client = (peer[0], peer[1])
        sock = transport.get_extra_info("sockname")
        self.server = (sock[0], sock[1]) if isinstance(sock, tuple) else (str(sock), None)
        if transport.get_extra_info("sslcontext") is not None:
            self.scheme = "https"
        trust = state.proxy_trust
        host = self.client[0] if self.client else None
        self.trusted = trust is not None and trust.is_trusted(host)
        self._set_deadline(_IDLE, state.header_timeout)
        if self.closing:  # accepted while the server shuts down
            self.shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections.discard(self)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.wake()
        if self.websocket is not None:
            self.websocket.on_http_lost()
        self.deadline = 0.0
        self._wake_drain()

    def data_received(self, data: bytes) -> None:
        if self._deadline_kind == _IDLE:
            self._deadline_kind = _HEAD
            self.deadline = self.state.clock + self.state.header_timeout
        self.conn.receive_data(data)
        cycle = self.cycle
        if cycle is not None and cycle.body_complete:
            # Pipelined bytes behind a busy app: bound what we buffer.
            self._pipelined += len(data)
            if self._pipelined > self.state.read_high_water:
                self._pause_reading()
        self._process()

    def eof_received(self) -> bool | None:
        # Clients close both directions at once in practice (browsers never
        # half-close), so end of input during an exchange is the client going
        # away, as nginx and uvicorn treat it: the app sees http.disconnect and
        # the transport closes once pending writes are out.
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.wake()
        if self.websocket is not None:
            self.websocket.on_http_lost()
        return None

    def pause_writing(self) -> None:
        # The client is not taking our data: it has write_timeout to catch up.
        self.write_paused = True
        self.write_deadline = self.state.clock + self.state.write_timeout

    def resume_writing(self) -> None:
        self.write_paused = False
        self.write_deadline = 0.0
        self._wake_drain()
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and not self.transport.is_closing():
            self._next_cycle()  # the one on_response_complete held back

    # --- the event loop of one connection -------------------------------------
    def _process(self) -> None:
        conn = self.conn
        self._batching = True
        try:
            while True:
                # Any: the branches below narrow by exact type; cast() would
                # cost a call per event on the hot path.
                event: Any = conn.next_event()
                kind = type(event)
                # Most frequent first: Request, EndOfMessage, NEED_DATA.
                if kind is Request:
                    self._on_request(event)
                elif kind is EndOfMessage:
                    cycle = self.cycle
                    assert cycle is not None  # invariant: a Request event came first
                    cycle.body_complete = True
                    if cycle.started:
                        cycle.wake()
                    else:
                        cycle.start(self.state.app)
                elif event is NEED_DATA:
                    pending = self.cycle
                    if pending is not None and not pending.started:
                        pending.start(self.state.app)
                    break
                elif kind is Data:
                    cycle = self.cycle
                    assert cycle is not None  # invariant: a Request event came first
                    if cycle.feed(event.data) > self.state.read_high_water:
                        self._pause_reading()
                elif event is PAUSED:
                    # The app is busy; what else came is pipelined: bound it.
                    self._pipelined = len(conn.trailing_data[0])
                    if self._pipelined > self.state.read_high_water:
                        self._pause_reading()
                    break
                elif kind is ConnectionClosed:
                    self._close()
                    break
        except RemoteProtocolError as exc:
            self._reject(exc.status_code)
        except Exception:  # a bug here must cost one connection, never the worker
            logger.exception("internal error while handling a connection")
            self.transport.abort()
        finally:
            self._batching = False
            out = self._out
            if out:
                self._out_size = 0
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))
                out.clear()

    def _on_request(self, event: Request) -> None:
        self.deadline = 0.0
        self._deadline_kind = 0
        state = self.state
        target = event.target
        headers = event.headers
        if target[:1] == b"/":
            raw_path, _, query = target.partition(b"?")
        else:
            raw_path, query, headers = _other_target_form(target, headers)
        if 37 in raw_path:  # a "%": the int test is a memchr, a bytes test costs far more
            path = unquote_to_bytes(raw_path).decode("utf-8", "replace")
        else:
            try:
                path = raw_path.decode()  # strict UTF-8 has a fast path; "replace" has none
            except UnicodeDecodeError:
                path = raw_path.decode("utf-8", "replace")
        client, scheme = self.client, self.scheme
        root_path = state.root_path
        trust = state.proxy_trust
        if self.trusted and trust is not None:
            for name, _ in headers:  # the usual answer, no proxy header, without a call
                if name in _PROXY_NAMES:
                    client, scheme = forwarded_client(headers, client, scheme, trust)
                    break
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": _http_version(event.http_version),
            "server": self.server,
            "client": client,
            "scheme": scheme,
            "method": _method(event.method),
            "root_path": root_path,
            "path": root_path + path if root_path else path,
            "raw_path": state.root_path_bytes + raw_path if root_path else raw_path,
            "query_string": query,
            "headers": headers,
            "state": state.lifespan_state.copy(),
        }
        if (
            self.conn.upgrade_requested
            and state.config.ws
            and is_websocket_upgrade(event.method, headers)
        ):
            self._on_websocket(event, scope)
            return
        self.cycle = Cycle(self, scope, self.loop.time() if state.access_log else 0.0)

    def _on_websocket(self, event: Request, scope: Scope) -> None:
        """An opening handshake (RFC 6455 §4.2.1): the websocket scope, and the
        app only if the request is valid (else 400 or 426 and close)."""
        started_at = self.loop.time() if self.state.access_log else 0.0
        scope["type"] = "websocket"
        del scope["method"]
        scheme = scope["scheme"]
        scope["scheme"] = "wss" if scheme in ("https", "wss") else "ws"
        scope["subprotocols"] = []
        scope["extensions"] = {"websocket.http.response": {}}
        if type(self.conn.next_event()) is not EndOfMessage:
            refuse(self, scope, 400, b"an opening handshake has no body", started_at=started_at)
            return
        try:
            request = check_request(event.method, event.http_version, event.headers)
        except WebSocketHandshakeError as exc:
            body = str(exc).encode()
            refuse(self, scope, exc.status_code, body, exc.headers, started_at=started_at)
            return
        scope["subprotocols"] = request.subprotocols
        session = self.websocket = WebSocketSession(self, scope, request, started_at)
        session.start(self.state.app)

    def switch_to(self, protocol: WebSocketSession, wire: bytes) -> tuple[bytes, bool]:
        """Write the 101 response ``wire`` and hand the transport over to
        ``protocol``; returns the bytes received after the request head (the
        new protocol's) and whether EOF came."""
        self._flush()
        transport = self.transport
        transport.write(wire)
        self.websocket = None
        connections = self.state.connections
        connections.discard(self)
        connections.add(protocol)
        self.deadline = self.write_deadline = 0.0
        if self._read_paused:
            transport.resume_reading()
        # Retired: what this protocol still runs (the rest of a _process call)
        # must not pause the transport it no longer owns.
        self._read_paused = True
        transport.set_protocol(protocol)
        return self.conn.trailing_data

    def close_with(self, wire: bytes) -> None:
        """Write ``wire`` (after what is batched) and close the connection."""
        self.write(wire)
        self._close()

    # --- called by the cycle ---------------------------------------------------
    def write(self, data: bytes) -> None:
        if self._batching:
            self._out.append(data)
            self._out_size += len(data)
            if self._out_size > _BATCH_LIMIT:
                self._flush()  # let the transport see it (and pause us) now
        elif data:
            self.transport.write(data)

    def write_now(self, data: bytes) -> None:
        """Write past the batch (streamed pieces): what is batched goes first."""
        self._flush()
        if data:
            self.transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport takes data again (or the client is gone)."""
        if self.transport.is_closing():
            raise ClientDisconnected("the client closed the connection")
        waiter = self._drain_waiter = self.loop.create_future()
        await waiter

    def on_body_wanted(self) -> None:
        """The app waits for body bytes that have not arrived."""
        wire = self.conn.send_continue()  # RFC 9110 §10.1.1: only once the body is wanted
        if wire:
            self.write(wire)
            self._flush()
        if self._read_paused:
            self._resume_reading()
        state = self.state
        seconds = state.body_timeout
        rate = state.config.body_min_rate
        if rate:
            seconds = min(seconds, self._pace_left(rate))
        self._set_deadline(_BODY, seconds)
        self._wait_started = state.clock

    def _pace_left(self, rate: float) -> float:
        """Seconds the app may still wait for this body before the client
        falls below ``rate`` bytes a second (after ``body_timeout`` of grace)."""
        cycle = self.cycle
        if self._paced is not cycle:
            self._paced = cycle
            self._body_waited = 0.0
        grace = self.state.body_timeout
        return grace + self.conn.body_received / rate - self._body_waited

    def on_body_wait_over(self) -> None:
        if self._deadline_kind == _BODY:
            self.deadline = 0.0
            self._deadline_kind = 0
        self._body_waited += self.state.clock - self._wait_started

    def on_body_consumed(self) -> None:
        if self._read_paused:
            self._resume_reading()

    def on_response_complete(self, cycle: Cycle) -> None:
        if self.state.access_log:  # hot path: checked before any work
            elapsed = self.loop.time() - cycle.started_at
            log_access(cycle.scope, cycle.status, cycle.body_bytes, elapsed)
        if cycle.waiter is not None:
            cycle.wake()
        if self.cycle is not cycle:
            return
        if not cycle.body_complete or self.closing or not self.conn.keep_alive:
            # An unread body would have to be drained first: closing is cheaper and safe.
            self._close()
            return
        if self.write_paused:
            # The client is not reading what we sent: take no further request
            # until it does (resume_writing finishes this cycle).
            return
        self._next_cycle()

    def _next_cycle(self) -> None:
        self.cycle = None
        self.conn.start_next_cycle()
        self._pipelined = 0
        if self._read_paused:
            self._resume_reading()
        state = self.state
        self._deadline_kind = _IDLE
        self.deadline = state.clock + state.keep_alive_timeout
        if not self._batching:
            self.loop.call_soon(self._process, context=_BASE_CONTEXT)

    def on_app_error(self, cycle: Cycle, exc: BaseException | None) -> None:
        """The app raised, or returned without completing its response."""
        if cycle.disconnected and (exc is None or isinstance(exc, ClientDisconnected)):
            return
        if isinstance(exc, asyncio.CancelledError):
            pass
        elif exc is not None:
            logger.error("Exception in ASGI application", exc_info=exc)
        elif not cycle.response_complete:
            logger.error("ASGI application returned without completing its response")
        if cycle.response_complete or cycle.disconnected:
            return
        if cycle.head_written:
            self._close()  # the response is cut short: closing tells the client so
            return
        cycle.status = 500
        cycle.body_bytes = len(_ERROR_BODY)
        cycle.head_written = cycle.response_complete = True
        headers = list(_ERROR_HEADERS)
        if self.closing:
            headers.append((b"connection", b"close"))  # shutting down: as Cycle.head does
        try:
            wire = self.conn.send_response(Response(500, headers), _ERROR_BODY)
        except Exception:  # the app broke the connection state (bad headers...)
            self.write(error_response(500))
            self._close()
            return
        self.write(wire)
        self.on_response_complete(cycle)

    # --- timeouts, shutdown ----------------------------------------------------
    def _set_deadline(self, kind: int, seconds: float) -> None:
        self._deadline_kind = kind
        self.deadline = self.state.clock + seconds

    def check_deadline(self, now: float) -> None:
        """Called by the server's tick; acts when this connection's deadline passed."""
        if self.write_deadline and self.write_deadline <= now:
            self._drop()  # closing politely would wait for the stalled client forever
            return
        if not self.deadline or self.deadline > now:
            return
        kind = self._deadline_kind
        self.deadline = 0.0
        self._deadline_kind = 0
        cycle = self.cycle
        if kind == _HEAD or (kind == _BODY and cycle is not None and not cycle.head_written):
            self.write(error_response(408))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.wake()
        self._close()

    def shutdown(self) -> None:
        """Graceful shutdown: serve at most one more request, with ``Connection:
        close``, then close.

        Busy: closed after the current response. Idle: left open for the grace
        (see the module docstring), then closed by the tick. A request head
        under way: served, then closed.
        """
        self.closing = True
        if self.transport.is_closing() or self.websocket is not None:
            return  # a WebSocket handshake under way: its session closes it (1001)
        cycle = self.cycle
        if cycle is not None:
            if cycle.response_complete:
                self._close()  # held back for a client that does not read: no more
            return
        if self._deadline_kind == _HEAD:
            return
        state = self.state
        grace = min(SHUTDOWN_GRACE, state.keep_alive_timeout, state.config.shutdown_timeout)
        if grace <= 0:
            self._close()
            return
        end = state.clock + grace
        if not self.deadline or end < self.deadline:
            self._deadline_kind = _IDLE
            self.deadline = end

    def abort(self) -> None:
        """The shutdown timeout passed: drop the connection, cancel its app."""
        cycle = self.cycle
        self._drop()
        if cycle is not None and cycle.task is not None and not cycle.task.done():
            cycle.task.cancel()
        session = self.websocket
        if session is not None and session.task is not None and not session.task.done():
            session.task.cancel()

    def _drop(self) -> None:
        """Close without flushing: the app sees ``http.disconnect``."""
        self.deadline = self.write_deadline = 0.0
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.wake()
        self._wake_drain()
        self.transport.abort()

    # --- internals -------------------------------------------------------------
    def _reject(self, status_code: int) -> None:
        """The peer broke HTTP/1.1: answer ``status_code`` unless a response is
        under way, then close (RFC 9112 §2.2 lets a server close after an error)."""
        cycle = self.cycle
        if cycle is None or not cycle.head_written:
            self.write(error_response(status_code))
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.wake()
        self._close()

    def _close(self) -> None:
        self._flush()
        self.deadline = 0.0
        self.transport.close()

    def _flush(self) -> None:
        out = self._out
        if out:
            self._out_size = 0
            self.transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()

    def _pause_reading(self) -> None:
        if not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        self._read_paused = False
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def _wake_drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)


def _other_target_form(target: bytes, headers: HeaderList) -> tuple[bytes, bytes, HeaderList]:
    """Absolute-form (``http://host/p?q``) and asterisk-form (``*``) targets.

    RFC 9112 §3.2.2: with an absolute-form target the server must ignore Host
    and use the target's authority, so the app sees that authority as Host.
    """
    if target == b"*":
        return b"*", b"", headers
    _scheme, sep, rest = target.partition(b"://")
    if not sep:
        return target, b"", headers  # authority-form (CONNECT): no path
    authority, slash, path_query = rest.partition(b"/")
    raw_path, _, query = (slash + path_query).partition(b"?")
    authority = authority.rpartition(b"@")[2]
    headers = [(n, v) for n, v in headers if n != b"host"]
    headers.append((b"host", authority))
    return raw_path or b"/", query, headers


def _method(method: bytes) -> str:
    """The method as ASGI's str. Comparisons, not a dict: the method is a new
    bytes object per request, and hashing it costs more than two compares."""
    if method == b"GET":
        return "GET"
    if method == b"POST":
        return "POST"
    return _METHODS.get(method) or method.decode("ascii")


def _http_version(version: bytes) -> str:
    if version == b"1.1":
        return "1.1"
    return _VERSIONS.get(version) or version.decode()
