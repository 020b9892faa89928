"""One HTTP/1.1 connection as a state machine, for either role.

CONTRACT STUB: the signatures and behaviour below are fixed (the server and
the client are written against them); the bodies are being implemented.

Theory of operation
-------------------
Bytes in, events out; events in, bytes out (RFC 9112)::

    conn = Connection(Role.SERVER)
    conn.receive_data(data)            # b"" means the peer closed its side
    while True:
        event = conn.next_event()      # Request, Data..., EndOfMessage, or a sentinel
        if event is NEED_DATA or event is PAUSED: break
        ...
    wire = conn.send_response(Response(200, headers), b"hello")   # or send(event) piecewise
    conn.start_next_cycle()            # after both sides are DONE and keep_alive is true

One exchange (request + response) at a time: once the peer's message is
complete, ``next_event()`` returns ``PAUSED`` until ``start_next_cycle()``;
pipelined bytes stay buffered meanwhile, so responses are in order by
construction. Every framing rule (Content-Length, chunked, close-delimited,
keep-alive, 100-continue, bodiless HEAD/1xx/204/304 responses, limits) lives
in this module and only here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from transom.http.events import Data, EndOfMessage, Event, Request, Response

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "Connection",
    "Limits",
    "Role",
    "State",
]


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Per side: IDLE -> SEND_BODY -> DONE -> (IDLE | MUST_CLOSE -> CLOSED); ERROR on failure."""

    IDLE = "idle"
    SEND_BODY = "send_body"
    DONE = "done"
    MUST_CLOSE = "must_close"
    CLOSED = "closed"
    ERROR = "error"


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: ``next_event()``: more bytes are needed before the next event.
NEED_DATA = _Sentinel("NEED_DATA")
#: ``next_event()``: the peer's message is complete; call ``start_next_cycle()`` first.
PAUSED = _Sentinel("PAUSED")


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a peer may send. A breach raises ``RemoteProtocolError``
    with the status a server answers it with."""

    max_request_line: int = 8190  # request-line / status-line bytes -> 414
    max_header_bytes: int = 65536  # whole head (and trailer block) bytes -> 431
    max_header_count: int = 100  # header fields -> 431
    max_body_size: int | None = 100 * 1024 * 1024  # bytes of body -> 413; None: unbounded


class Connection:
    """The state machine of one HTTP/1.1 connection.

    ``backend`` picks the parser: ``"llhttp"`` (httptools), ``"python"`` (the
    strict reference) or ``None`` (llhttp where it imports).
    """

    def __init__(
        self,
        role: Role,
        *,
        limits: Limits | None = None,
        backend: str | None = None,
    ) -> None:
        raise NotImplementedError

    # --- receiving ---------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the peer; ``b""`` records end of input (EOF)."""
        raise NotImplementedError

    def next_event(self) -> Event | _Sentinel:
        """The next complete event, ``NEED_DATA`` or ``PAUSED``.

        Raises ``RemoteProtocolError`` (with ``status_code``) for invalid
        input; the connection is then in ``State.ERROR`` and must be closed.
        After EOF returns ``ConnectionClosed`` once the buffer is drained
        (or raises, if EOF cut a message short where that is not allowed).
        """
        raise NotImplementedError

    # --- sending -----------------------------------------------------------
    def send(self, event: Event) -> bytes:
        """Serialise one event of our side's message; raises ``LocalProtocolError``
        for anything HTTP/1.1 forbids (CR/LF/NUL in a header, a body on a 204,
        more bytes than the declared Content-Length, ...)."""
        raise NotImplementedError

    def send_response(self, response: Response, body: bytes) -> bytes:
        """Server fast path: head + whole body + end of message in one buffer.
        Adds Content-Length when the response has none and may have a body;
        drops the body for HEAD / 1xx / 204 / 304."""
        raise NotImplementedError

    def send_continue(self) -> bytes:
        """``100 Continue`` if the current request expects it, is HTTP/1.1, and no
        response has started; else ``b""``. Call when the app first wants the body."""
        raise NotImplementedError

    def start_next_cycle(self) -> None:
        """Reset both sides to IDLE for the next exchange on a kept-alive
        connection; ``LocalProtocolError`` if either side is not DONE."""
        raise NotImplementedError

    # --- state -------------------------------------------------------------
    @property
    def our_state(self) -> State:
        raise NotImplementedError

    @property
    def their_state(self) -> State:
        raise NotImplementedError

    @property
    def keep_alive(self) -> bool:
        """Whether another exchange may follow this one on this connection."""
        raise NotImplementedError

    @property
    def expects_continue(self) -> bool:
        """The current request sent ``Expect: 100-continue`` and no 100/response went out."""
        raise NotImplementedError

    @property
    def their_http_version(self) -> bytes | None:
        raise NotImplementedError

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """Buffered unparsed bytes and whether EOF was seen."""
        raise NotImplementedError


# Re-exported for users of the stub's signatures.
_ = (Data, EndOfMessage, Request)
