"""One pooled HTTP/1.1 connection: a request/response exchange over a stream.

Theory of operation
-------------------
The framing is all in ``transom.http.connection.Connection`` (CLIENT role);
this class only moves bytes between it and a ``NetworkStream``. A request
with an in-memory body goes out in one write (head + body). The response
head is parsed; whatever body is already buffered is taken at once, and when
that completes the message (the common case for small responses), the
connection goes straight back to the pool and the ``Response`` carries its
content: no generator, no second trip through the loop. Otherwise the body
stays on the wire and is pulled by the response's stream.

When the body ends and both sides may keep the connection alive, it is
returned to the pool; anything else (an early close, a protocol error, a
timeout, ``Connection: close``) closes it, so a connection in an unknown
state is never reused.

A kept-alive connection that fails before the first byte of the response
(the server closed it while it sat idle) raises ``StaleConnection``; the pool
then resends an idempotent request once on a fresh connection.

``Expect: 100-continue`` (RFC 9110 §10.1.1), when the caller sets it on a
request with a body: the head goes out alone, then the client waits up to
``Timeout.expect`` for the server. ``100 Continue`` (or silence: servers
that ignore the expectation exist) sends the body; a final response first
means the server does not want it: that response is the answer, the body is
never sent, and the connection (our message cut short) is closed after it.

Each response carries a ``ConnectionInfo`` (peer address, reused or not).
The peer is asked once per connection, and the two possible answers are
built then, so a request pays one attribute store for it.

A connection's limits on response heads are fixed when it opens: its pool
key carries the caller's ``max_header_count`` (the ``MAX_HEADERS_EXTENSION``
of a request), so connections with different limits are never shared, and
a head with too many fields is refused by the core while it is parsed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from transom.client._backend import NetworkStream
from transom.client._content import BodyStream, RequestBody
from transom.client.config import Timeout
from transom.client.models import ByteStream, ConnectionInfo, Request, Response
from transom.exceptions import (
    ConfigurationError,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    WriteError,
)
from transom.http import events
from transom.http.connection import NEED_DATA, Connection, Limits, Role, State
from transom.http.headers import Headers

if TYPE_CHECKING:
    from transom.client.pool import ConnectionPool, PoolKey

__all__ = [
    "MAX_HEADERS_EXTENSION",
    "HTTP11Connection",
    "StaleConnection",
    "client_limits",
    "expects_continue",
]

# The client reads responses of any size (the caller decides what to keep);
# heads stay bounded.
CLIENT_LIMITS = Limits(max_body_size=None)
#: A request extension: the most header fields a response may have (an int).
MAX_HEADERS_EXTENSION = "max_header_count"
_TOO_MANY_FIELDS = "too many header fields"  # the core's message for that breach
_Data = events.Data
_EndOfMessage = events.EndOfMessage
_Response = events.Response
_VERSIONS = {b"1.1": "HTTP/1.1", b"1.0": "HTTP/1.0"}
_DONE = State.DONE  # a global: Enum class attributes are slow to look up on 3.11


class StaleConnection(TransportError):
    """A reused connection failed before any response byte (internal to the pool)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def client_limits(max_header_count: int | None) -> Limits:
    """The core's limits for a connection whose responses may have at most
    ``max_header_count`` header fields (None: the core's default)."""
    if max_header_count is None:
        return CLIENT_LIMITS
    return Limits(max_body_size=None, max_header_count=max_header_count)


class HTTP11Connection:
    __slots__ = (
        "_conn",
        "_fresh",
        "_pool",
        "_reused",
        "_stream",
        "closed",
        "idle_since",
        "key",
        "proxy_forward",
        "requests",
    )

    def __init__(
        self,
        stream: NetworkStream,
        key: PoolKey,
        pool: ConnectionPool,
        *,
        proxy_forward: bool = False,
    ) -> None:
        try:
            limits = client_limits(key[4])
        except ConfigurationError:
            stream.close()
            raise
        self._stream = stream
        self._conn = Connection(Role.CLIENT, limits=limits)
        peer = _peer_of(stream)
        self._fresh = ConnectionInfo(peer, False)  # what responses say of this connection
        self._reused = ConnectionInfo(peer, True)
        self._pool = pool
        self.key = key
        self.proxy_forward = proxy_forward  # absolute-form targets, to an HTTP proxy
        self.requests = 0
        self.idle_since = time.monotonic()
        self.closed = False
        pool.opened(self)

    def is_reusable(self, now: float, expiry: float) -> bool:
        return now - self.idle_since < expiry and not self._stream.is_stale()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._stream.close()

    async def wait_closed(self) -> None:
        await self._stream.wait_closed()

    async def handle(self, request: Request, timeout: Timeout) -> Response:
        reused = self.requests > 0
        self.requests += 1
        try:
            try:
                if request.body and expects_continue(request):
                    early = await self._send_expecting(request, timeout, reused)
                else:
                    early = None
                    await self._stream.write(self._encode(request), timeout.write)
                    if type(request.body) is not bytes:
                        await self._send_stream(request.body, timeout.write)
            except WriteError as exc:
                if reused:
                    raise StaleConnection(exc) from exc
                head, chunks, complete = await self._early_answer(exc, timeout.read)
            else:
                if early is None:
                    head, chunks, complete = await self._receive_head(timeout.read, reused)
                else:  # the server answered before it wanted the body
                    head, (chunks, complete) = early, self._take_buffered()
        except BaseException as exc:
            self._pool.discard(self)
            if type(exc) is RemoteProtocolError and str(exc) == _TOO_MANY_FIELDS:
                raise self._too_many_fields() from exc
            raise
        headers = Headers(raw=head.headers)
        version = _VERSIONS.get(head.http_version, "HTTP/1.1")
        reason = head.reason.decode("latin-1") if head.reason else None
        if complete:
            self._finish()
            response = Response(
                head.status_code,
                headers=headers,
                content=b"".join(chunks) if len(chunks) != 1 else chunks[0],
                http_version=version,
                reason_phrase=reason,
                request=request,
            )
        else:
            state = _BodyState()
            stream = ByteStream(
                self._body(chunks, timeout.read, state), lambda: self._release(state)
            )
            response = Response(
                head.status_code,
                headers=headers,
                stream=stream,
                http_version=version,
                reason_phrase=reason,
                request=request,
            )
        response.connection = self._reused if reused else self._fresh
        return response

    def _too_many_fields(self) -> RemoteProtocolError:
        """The core refused a head with too many fields: say what the limit was."""
        limit = self.key[4]
        if limit is None:
            limit = CLIENT_LIMITS.max_header_count
        return RemoteProtocolError(
            f"got more than {limit} headers in the response (max_header_count)",
            status_code=431,
        )

    # --- sending ----------------------------------------------------------------------
    def _target(self, request: Request) -> bytes:
        url = request.url
        if self.proxy_forward:  # RFC 9112 §3.2.2: absolute-form to a proxy
            return f"{url.scheme}://{url.netloc}{url.target}".encode("ascii")
        return url.target.encode("ascii")

    def _encode(self, request: Request) -> bytes:
        """The head, and an in-memory body with it: one write for the common case."""
        head = events.Request(
            request.method.encode("ascii"), self._target(request), request.headers.raw
        )
        body = request.body
        if type(body) is bytes:
            return self._conn.send_request(head, body)
        return self._conn.send(head)

    async def _send_expecting(
        self, request: Request, timeout: Timeout, reused: bool
    ) -> events.Response | None:
        """Send the head, wait for ``100 Continue``, then the body (RFC 9110 §10.1.1).

        Returns the final response when the server answered before the body
        went out (the body is then never sent), else None."""
        conn = self._conn
        head = events.Request(
            request.method.encode("ascii"), self._target(request), request.headers.raw
        )
        await self._stream.write(conn.send(head), timeout.write)
        early = await self._await_continue(timeout, reused)
        if early is not None:
            return early
        body = request.body
        if type(body) is bytes:
            await self._stream.write(
                conn.send(_Data(body)) + conn.send(_EndOfMessage()), timeout.write
            )
        else:
            await self._send_stream(body, timeout.write)
        return None

    async def _await_continue(self, timeout: Timeout, reused: bool) -> events.Response | None:
        """Wait for the server after a head that expects 100-continue: None when the
        body should follow (``100 Continue``, or no answer within ``timeout.expect``),
        the final response when the server answered at once."""
        conn = self._conn
        stream = self._stream
        wait = timeout.expect
        deadline = None if wait is None else time.monotonic() + wait
        got_bytes = False
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                if deadline is None:
                    read_timeout = timeout.read  # no expect limit: the read timeout holds
                else:
                    read_timeout = deadline - time.monotonic()
                    if read_timeout <= 0:
                        return None
                try:
                    data = await stream.read(read_timeout)
                except ReadTimeout:
                    if deadline is None:
                        raise
                    return None  # the server ignores the expectation: send the body
                except ReadError as exc:
                    if reused and not got_bytes:
                        raise StaleConnection(exc) from exc
                    raise
                if not data and reused and not got_bytes:
                    raise StaleConnection(
                        RemoteProtocolError("the server closed a kept-alive connection")
                    )
                got_bytes = True
                conn.receive_data(data)
            elif type(event) is _Response:
                if event.status_code == 100:
                    return None
                if event.status_code >= 200:
                    return event
                # another interim response (103 Early Hints...): keep waiting
            else:
                raise RemoteProtocolError(
                    "the server closed the connection without sending a response"
                )

    async def _send_stream(self, body: RequestBody, timeout: float | None) -> None:
        assert isinstance(body, BodyStream)
        conn = self._conn
        async for chunk in body.chunks():
            if chunk:
                await self._stream.write(conn.send(_Data(chunk)), timeout)
        if tail := conn.send(_EndOfMessage()):
            await self._stream.write(tail, timeout)

    # --- receiving --------------------------------------------------------------------
    async def _early_answer(
        self, error: WriteError, timeout: float | None
    ) -> tuple[events.Response, list[bytes], bool]:
        """The response of a server that stopped reading our body (a 413 and a close,
        RFC 9110 §15.5.14): its answer is worth more than our write error."""
        try:
            return await self._receive_head(timeout, False)
        except TransportError:
            raise error from None

    async def _receive_head(
        self, timeout: float | None, reused: bool
    ) -> tuple[events.Response, list[bytes], bool]:
        conn = self._conn
        stream = self._stream
        got_bytes = False
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                try:
                    data = await stream.read(timeout)
                except ReadError as exc:
                    if reused and not got_bytes:
                        raise StaleConnection(exc) from exc
                    raise
                if not data and reused and not got_bytes:
                    raise StaleConnection(
                        RemoteProtocolError("the server closed a kept-alive connection")
                    )
                got_bytes = got_bytes or bool(data)
                conn.receive_data(data)
                continue
            if type(event) is _Response:
                if event.status_code < 200:
                    continue  # interim response (RFC 9110 §15.2): the final one follows
                head = event
                break
            raise RemoteProtocolError("the server closed the connection without sending a response")
        chunks, complete = self._take_buffered()
        return head, chunks, complete

    def _take_buffered(self) -> tuple[list[bytes], bool]:
        """The body bytes already received after a response head, and whether they
        complete it."""
        conn = self._conn
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if type(event) is _Data:
                chunks.append(event.data)
            elif type(event) is _EndOfMessage:
                return chunks, True
            else:
                return chunks, False

    async def _body(
        self, prefix: list[bytes], timeout: float | None, state: _BodyState
    ) -> AsyncIterator[bytes]:
        for chunk in prefix:
            yield chunk
        conn = self._conn
        stream = self._stream
        while True:
            event = conn.next_event()
            if type(event) is _Data:
                yield event.data
            elif event is NEED_DATA:
                conn.receive_data(await stream.read(timeout))
            elif type(event) is _EndOfMessage:
                state.complete = True
                return
            else:
                raise RemoteProtocolError(f"unexpected {event!r} in a response body")

    # --- after the response -----------------------------------------------------------
    def _finish(self) -> None:
        conn = self._conn
        if conn.keep_alive and conn.our_state is _DONE and conn.their_state is _DONE:
            conn.start_next_cycle()
            self._pool.release(self)
        else:
            self._pool.discard(self)

    async def _release(self, state: _BodyState) -> None:
        if state.complete:
            self._finish()
        else:  # the body was not read to its end: the connection is mid-message
            self._pool.discard(self)


def _peer_of(stream: NetworkStream) -> tuple[str, int] | None:
    """The (ip, port) the stream is connected to, or None."""
    peer = stream.peername()
    if isinstance(peer, tuple) and len(peer) >= 2:  # IPv6 adds flowinfo and scope id
        return str(peer[0]), int(peer[1])
    return None


def expects_continue(request: Request) -> bool:
    """Whether ``request`` carries ``Expect: 100-continue``."""
    # RFC 9110 §10.1.1: the expectation is case-insensitive; only 100-continue
    # exists. A scan of the raw (lower-cased) names: no KeyError per request.
    for name, value in request.headers.raw:
        if name == b"expect":
            return value.strip().lower() == b"100-continue"
    return False


class _BodyState:
    __slots__ = ("complete",)

    def __init__(self) -> None:
        self.complete = False
