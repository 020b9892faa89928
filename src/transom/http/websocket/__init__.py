"""The sans-IO WebSocket core (RFC 6455, RFC 7692 permessage-deflate).

Like the HTTP core, it never touches a socket or a clock: the handshake
functions turn header fields into header fields, and a
``WebSocketConnection`` turns received bytes into events and calls into
bytes. The server, the client and the test client all drive this one
implementation.

* ``handshake.py``  the opening handshake, both roles, and deflate negotiation
* ``connection.py`` the connection state machine: framing, fragmentation,
  close handshake, UTF-8 and size limits (its docstring is the theory of operation)
* ``deflate.py``    permessage-deflate parameters and (de)compression
* ``frames.py``     masking, frame building, close payloads
* ``events.py``     the events ``next_event()`` returns
"""

from __future__ import annotations

from transom.http.connection import Role
from transom.http.websocket.connection import (
    WebSocketConnection,
    WebSocketLimits,
    WebSocketState,
)
from transom.http.websocket.deflate import PerMessageDeflate
from transom.http.websocket.events import (
    BytesMessage,
    CloseReceived,
    Event,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
)
from transom.http.websocket.handshake import (
    HandshakeRequest,
    accept,
    accept_key,
    check_request,
    check_response,
    client_request,
    is_websocket_upgrade,
)
from transom.http.websocket.options import SERVER_DEFLATE, DeflateOptions

__all__ = [
    "SERVER_DEFLATE",
    "BytesMessage",
    "CloseReceived",
    "DeflateOptions",
    "Event",
    "HandshakeRequest",
    "PerMessageDeflate",
    "Ping",
    "Pong",
    "ProtocolFailure",
    "Role",
    "TextMessage",
    "WebSocketConnection",
    "WebSocketLimits",
    "WebSocketState",
    "accept",
    "accept_key",
    "check_request",
    "check_response",
    "client_request",
    "is_websocket_upgrade",
]
