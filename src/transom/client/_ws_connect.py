"""Opening a WebSocket over the network: a dedicated connection and the handshake.

Theory of operation
-------------------
A WebSocket owns its connection for its whole life, so it never comes from
(or goes back to) the pool; it is opened by the pool's own connect code
(``HTTPTransport.open_stream``), so TLS verification, client certificates,
timeouts and proxies are the client's. Through an HTTP proxy both ws:// and
wss:// go through a ``CONNECT`` tunnel: a proxy forwarding plain requests
would not pass the upgrade on (RFC 6455 §4.1 asks clients to tunnel).

The handshake request is the client's GET (headers, cookies and auth
already on it) plus the fields of ``transom.http.websocket.client_request``
(RFC 6455 §4.1), sent through the HTTP core's ``Connection`` in the client
role. A ``101`` switches the core to ``SWITCHED_PROTOCOL``; its head is
checked by ``check_response`` (accept key, subprotocol, extensions) and the
bytes after the head are the first WebSocket bytes. Any other answer is a
refusal: its body is read (bounded) and returned, with no session, for the
caller to raise ``WebSocketHandshakeError`` (or run the auth flow again).
Redirects are not followed: a 3xx is a refusal too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transom.client._backend import NetworkStream
from transom.client._ws_network import NetworkSession
from transom.client.config import DEFAULT_TIMEOUT, Timeout
from transom.client.models import Request, Response
from transom.client.websocket import Session, WebSocketOptions
from transom.exceptions import RemoteProtocolError, UnsupportedProtocol, WebSocketHandshakeError
from transom.http import events
from transom.http.connection import NEED_DATA, Connection, Role
from transom.http.headers import Headers
from transom.http.websocket import (
    DeflateOptions,
    WebSocketLimits,
    check_response,
    client_request,
)

if TYPE_CHECKING:
    from transom.client.pool import HTTPTransport

__all__ = ["open_websocket"]

_MAX_REFUSAL_BODY = 64 * 1024  # a refusal's body kept for the error; the rest is dropped
_SKIPPED = frozenset((b"accept-encoding", b"content-length", b"transfer-encoding"))


def limits_for(options: WebSocketOptions) -> WebSocketLimits:
    size = options.max_message_size
    return WebSocketLimits(max_frame_size=size, max_message_size=size, max_queue=options.max_queue)


def deflate_for(options: WebSocketOptions) -> DeflateOptions | None:
    return DeflateOptions() if options.compression == "deflate" else None


async def open_websocket(
    transport: HTTPTransport, request: Request, options: WebSocketOptions
) -> tuple[Response, Session | None]:
    """The handshake's response, and the session when it was a valid 101."""
    url = request.url
    if url.scheme not in ("http", "https"):
        raise UnsupportedProtocol(
            f"cannot open a WebSocket to {url!r}: the scheme must be ws, wss, http or https"
        )
    timeout: Timeout = request.extensions.get("timeout") or DEFAULT_TIMEOUT
    stream, _ = await transport.open_stream(url, transport.proxy_for(url), timeout, tunnel=True)
    try:
        response, session = await _handshake(stream, request, options, timeout, transport)
    except BaseException:
        stream.close()
        raise
    if session is None:
        stream.close()
        await stream.wait_closed()
    return response, session


async def _handshake(
    stream: NetworkStream,
    request: Request,
    options: WebSocketOptions,
    timeout: Timeout,
    transport: HTTPTransport,
) -> tuple[Response, Session | None]:
    deflate = deflate_for(options)
    key, fields = client_request(subprotocols=options.subprotocols, deflate=deflate)
    headers = [field for field in request.headers.raw if field[0] not in _SKIPPED]
    headers += fields
    http = Connection(Role.CLIENT)
    head = events.Request(b"GET", request.url.target.encode("ascii"), headers)
    await stream.write(http.send_request(head), timeout.write)
    answer = await _read_head(http, stream, timeout.read)
    response_headers = Headers(raw=answer.headers)
    if answer.status_code != 101:
        body = await _read_body(http, stream, timeout.read)
        response = Response(
            answer.status_code, headers=response_headers, content=body, request=request
        )
        return response, None
    subprotocol, conn = check_response(
        101,
        answer.headers,
        key=key,
        subprotocols=options.subprotocols,
        deflate=deflate,
        limits=limits_for(options),
    )
    trailing, _ = http.trailing_data
    response = Response(101, headers=response_headers, request=request)
    session = NetworkSession(
        stream,
        conn,
        transport.backend,
        options,
        subprotocol=subprotocol,
        write_timeout=timeout.write,
    )
    if trailing:  # the server's first frames came with its 101 head
        await session.feed(trailing)
    session.start()
    return response, session


async def _read_head(
    http: Connection, stream: NetworkStream, timeout: float | None
) -> events.Response:
    while True:
        event = http.next_event()
        if event is NEED_DATA:
            http.receive_data(await stream.read(timeout))
        elif type(event) is events.Response:
            if event.status_code == 101 or event.status_code >= 200:
                return event
            # another interim response (RFC 9110 §15.2): the final one follows
        else:
            raise WebSocketHandshakeError(
                "the server closed the connection without answering the WebSocket handshake"
            )


async def _read_body(http: Connection, stream: NetworkStream, timeout: float | None) -> bytes:
    """A refusal's body, up to ``_MAX_REFUSAL_BODY`` bytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < _MAX_REFUSAL_BODY:
            event = http.next_event()
            if event is NEED_DATA:
                http.receive_data(await stream.read(timeout))
            elif type(event) is events.Data:
                chunks.append(event.data)
                size += len(event.data)
            else:
                break
    except RemoteProtocolError:
        pass  # the status is what matters; a broken body is left unread
    return b"".join(chunks)[:_MAX_REFUSAL_BODY]
