"""The opening handshake (RFC 6455 §4), both roles, with deflate negotiation.

Theory of operation
-------------------
Server::

    if is_websocket_upgrade(request.method, request.headers):    # cheap: picks the scope
        offer = check_request(request.method, request.http_version, request.headers)
        headers, ws = accept(offer, subprotocol="chat", deflate=DeflateOptions())
        # send Response(101, headers); from now on bytes go to ``ws``

Client::

    key, headers = client_request(subprotocols=["chat"], deflate=DeflateOptions())
    # send GET with ``headers`` added; read the response head
    subprotocol, ws = check_response(status, response_headers, key=key, ...)

``check_request`` applies §4.2.1 and raises ``WebSocketHandshakeError``
with the status to answer: 426 with ``Sec-WebSocket-Version: 13`` for a
missing or other version (§4.2.2), else 400. ``check_response`` applies
§4.1 (its list of "MUST _Fail the WebSocket Connection_" checks) and raises
``WebSocketHandshakeError`` carrying the response's status and headers.

List fields (Upgrade, Connection, Sec-WebSocket-Protocol,
Sec-WebSocket-Extensions) are read across all their field lines, skipping
empty elements, and tokens compare case-insensitively (RFC 9110 §5.6.1,
§7.8). Sec-WebSocket-Accept is base64(SHA-1(key + the §1.3 GUID)).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from transom.exceptions import LocalProtocolError, WebSocketHandshakeError
from transom.http.connection import Role
from transom.http.events import HeaderList
from transom.http.websocket._fields import is_token, list_elements
from transom.http.websocket.connection import WebSocketConnection, WebSocketLimits
from transom.http.websocket.deflate import (
    DeflateOptions,
    client_accept,
    client_offer,
    server_negotiate,
)

__all__ = [
    "GUID",
    "HandshakeRequest",
    "accept",
    "accept_key",
    "check_request",
    "check_response",
    "client_request",
    "is_websocket_upgrade",
]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_VERSION_HEADERS = [(b"sec-websocket-version", b"13")]
# Fields accept() writes itself; extra_headers may not repeat them.
_OWN_FIELDS = frozenset(
    (
        b"upgrade",
        b"connection",
        b"sec-websocket-accept",
        b"sec-websocket-protocol",
        b"sec-websocket-extensions",
        b"sec-websocket-version",
        b"sec-websocket-key",
    )
)
_FORBIDDEN_BYTES = (b"\r", b"\n", b"\x00")


@dataclass(frozen=True, slots=True)
class HandshakeRequest:
    """What a server learned from a valid upgrade request."""

    key: bytes  # Sec-WebSocket-Key as sent
    subprotocols: list[str]  # offered, in order
    extensions: list[bytes]  # raw Sec-WebSocket-Extensions field values, in order
    origin: str | None  # the Origin header, if any


def accept_key(key: bytes) -> bytes:
    """The Sec-WebSocket-Accept value for ``key`` (§4.2.2 step 5.4).

    >>> accept_key(b"dGhlIHNhbXBsZSBub25jZQ==")
    b's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
    """
    return base64.b64encode(hashlib.sha1(key + GUID).digest())  # noqa: S324  # RFC-mandated


def _has_token(headers: HeaderList, name: bytes, token: bytes) -> bool:
    return any(element.lower() == token for element in list_elements(headers, name))


def _valid_key(key: bytes) -> bool:
    """§4.1: base64 of 16 bytes (24 characters, strictly encoded)."""
    if len(key) != 24:
        return False
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


def is_websocket_upgrade(method: bytes, headers: HeaderList) -> bool:
    """Cheap test: a GET whose Upgrade header lists "websocket"."""
    return method == b"GET" and _has_token(headers, b"upgrade", b"websocket")


def check_request(method: bytes, http_version: bytes, headers: HeaderList) -> HandshakeRequest:
    """Validate an opening handshake request (§4.2.1).

    Raises ``WebSocketHandshakeError`` with ``status_code`` 400, or 426 and
    a ``Sec-WebSocket-Version: 13`` header for another version.
    """
    if method != b"GET":
        _refuse(f"the opening handshake is a GET, not {method.decode('latin-1')}")
    if http_version not in (b"1.1", b"2", b"2.0", b"3", b"3.0"):
        _refuse(f"the opening handshake needs HTTP/1.1, not {http_version.decode('latin-1')}")
    if not _has_token(headers, b"upgrade", b"websocket"):
        _refuse("Upgrade does not list websocket")
    if not _has_token(headers, b"connection", b"upgrade"):
        _refuse("Connection does not list upgrade")
    versions = [value.strip(b" \t") for name, value in headers if name == b"sec-websocket-version"]
    if versions != [b"13"]:
        raise WebSocketHandshakeError(
            "Sec-WebSocket-Version must be 13", status_code=426, headers=list(_VERSION_HEADERS)
        )
    keys = [value.strip(b" \t") for name, value in headers if name == b"sec-websocket-key"]
    if len(keys) != 1 or not _valid_key(keys[0]):
        _refuse("Sec-WebSocket-Key must be one base64-encoded 16-byte value")
    subprotocols = list_elements(headers, b"sec-websocket-protocol")
    if not all(is_token(protocol) for protocol in subprotocols):
        _refuse("Sec-WebSocket-Protocol lists a value that is not a token")
    origins = [value for name, value in headers if name == b"origin"]
    if len(origins) > 1:
        _refuse("more than one Origin header")
    return HandshakeRequest(
        key=keys[0],
        subprotocols=[protocol.decode("ascii") for protocol in subprotocols],
        extensions=[value for name, value in headers if name == b"sec-websocket-extensions"],
        origin=origins[0].decode("latin-1") if origins else None,
    )


def _refuse(message: str) -> None:
    raise WebSocketHandshakeError(message, status_code=400)


def accept(
    request: HandshakeRequest,
    *,
    subprotocol: str | None = None,
    deflate: DeflateOptions | None = None,
    limits: WebSocketLimits | None = None,
    extra_headers: HeaderList | Sequence[tuple[bytes, bytes]] = (),
) -> tuple[HeaderList, WebSocketConnection]:
    """The 101 response's header fields and the server-role connection.

    ``subprotocol`` must be one the client offered; ``deflate`` enables
    permessage-deflate when the client offered it acceptably (a malformed
    extensions field then means no compression, not a refusal).
    ``extra_headers`` are appended after checks (``LocalProtocolError``).
    """
    headers: HeaderList = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-accept", accept_key(request.key)),
    ]
    if subprotocol is not None:
        if subprotocol not in request.subprotocols:
            raise LocalProtocolError(f"subprotocol {subprotocol!r} was not offered by the client")
        headers.append((b"sec-websocket-protocol", subprotocol.encode("ascii")))
    extension = None
    if deflate is not None and request.extensions:
        try:
            negotiated = server_negotiate(request.extensions, deflate)
        except ValueError:
            negotiated = None  # a field we cannot parse: accept without extensions
        if negotiated is not None:
            value, extension = negotiated
            headers.append((b"sec-websocket-extensions", value))
    for name, value in extra_headers:
        name = name.lower()
        if not is_token(name):
            raise LocalProtocolError(f"invalid header name {name!r}")
        if any(byte in value for byte in _FORBIDDEN_BYTES):
            raise LocalProtocolError(f"header {name!r} has CR, LF or NUL in its value")
        if name in _OWN_FIELDS:
            raise LocalProtocolError(f"header {name!r} is set by the handshake itself")
        headers.append((name, value))
    return headers, WebSocketConnection(Role.SERVER, limits=limits, deflate=extension)


def client_request(
    *,
    subprotocols: Sequence[str] = (),
    deflate: DeflateOptions | None = None,
    key: bytes | None = None,
) -> tuple[bytes, HeaderList]:
    """A fresh key and the header fields to add to the GET (§4.1)."""
    if key is None:
        key = base64.b64encode(os.urandom(16))
    elif not _valid_key(key):
        raise LocalProtocolError("Sec-WebSocket-Key must be base64 of 16 bytes")
    headers: HeaderList = [
        (b"upgrade", b"websocket"),
        (b"connection", b"Upgrade"),
        (b"sec-websocket-key", key),
        (b"sec-websocket-version", b"13"),
    ]
    if subprotocols:
        if isinstance(subprotocols, str):
            raise LocalProtocolError("subprotocols is a sequence of str, not one str")
        encoded = [protocol.encode("ascii", "replace") for protocol in subprotocols]
        if not all(is_token(protocol) for protocol in encoded):
            raise LocalProtocolError(f"subprotocols must be tokens: {list(subprotocols)!r}")
        headers.append((b"sec-websocket-protocol", b", ".join(encoded)))
    if deflate is not None:
        headers.append((b"sec-websocket-extensions", client_offer(deflate)))
    return key, headers


def check_response(
    status: int,
    headers: HeaderList,
    *,
    key: bytes,
    subprotocols: Sequence[str] = (),
    deflate: DeflateOptions | None = None,
    limits: WebSocketLimits | None = None,
) -> tuple[str | None, WebSocketConnection]:
    """Validate the server's answer (§4.1); the chosen subprotocol and the
    client-role connection, or ``WebSocketHandshakeError``."""

    def fail(message: str) -> WebSocketHandshakeError:
        return WebSocketHandshakeError(message, status_code=status, headers=headers)

    if status != 101:
        raise fail(f"the server answered {status}, not 101 Switching Protocols")
    if not _has_token(headers, b"upgrade", b"websocket"):
        raise fail("Upgrade does not list websocket")
    if not _has_token(headers, b"connection", b"upgrade"):
        raise fail("Connection does not list upgrade")
    accepts = [value.strip(b" \t") for name, value in headers if name == b"sec-websocket-accept"]
    if accepts != [accept_key(key)]:
        raise fail("Sec-WebSocket-Accept does not match the key")
    chosen = list_elements(headers, b"sec-websocket-protocol")
    subprotocol = None
    if chosen:
        subprotocol = chosen[0].decode("latin-1")
        if len(chosen) > 1 or subprotocol not in subprotocols:
            raise fail(f"the server chose a subprotocol we did not offer: {subprotocol!r}")
    values = [value for name, value in headers if name == b"sec-websocket-extensions"]
    try:
        extension = client_accept(values, deflate)
    except ValueError as exc:
        raise fail(f"invalid Sec-WebSocket-Extensions: {exc}") from None
    return subprotocol, WebSocketConnection(Role.CLIENT, limits=limits, deflate=extension)
