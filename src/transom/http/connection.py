"""One HTTP/1.1 connection as a state machine, for either role.

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

A server parses requests and writes responses; a client writes requests
(``send_request`` or ``send``) and parses responses. Each side of the
exchange has a ``State``::

    IDLE --head--> SEND_BODY --EndOfMessage--> DONE --start_next_cycle--> IDLE
                                                 \\-- (not keep_alive) --> MUST_CLOSE
    any --invalid input or misuse--> ERROR;  peer EOF at a message boundary --> CLOSED
    101 Switching Protocols --> SWITCHED_PROTOCOL (both sides; the bytes are no longer HTTP)

One exchange (request + response) at a time: once the peer's message is
complete, ``next_event()`` returns ``PAUSED`` until ``start_next_cycle()``;
pipelined bytes stay buffered meanwhile, so responses are in order by
construction. (With ``MUST_CLOSE`` there is no next cycle: ``next_event()``
returns ``ConnectionClosed`` once the peer's EOF arrives, else ``PAUSED``.)

Every framing rule lives in this module and only here:

* Receiving (RFC 9112 §6.3): HEAD responses, 1xx, 204 and 304 have no body;
  ``Transfer-Encoding: chunked`` (the only coding accepted) is decoded here,
  trailers land in ``EndOfMessage.trailers``; else ``Content-Length``; else
  a request has no body and a response runs until EOF (close-delimited).
  Ambiguity is refused (400): Content-Length with Transfer-Encoding, any
  Transfer-Encoding in HTTP/1.0, duplicate or non-digit Content-Length, a
  Transfer-Encoding whose last coding is not chunked (empty list elements
  are skipped, RFC 9110 §5.6.1). Requests must carry exactly one valid Host
  on HTTP/1.1, and no fragment in their target (RFC 9112 §3.2). A higher
  minor version of HTTP/1 is processed as 1.1 (RFC 9112 §2.3); another
  major version is refused with 505.
* Sending: a response with a known length gets Content-Length
  (``send_response``); an unknown one is chunked for an HTTP/1.1 peer and
  close-delimited for an HTTP/1.0 one. No more and no fewer bytes than the
  declared Content-Length go out (``LocalProtocolError``). Bodies of HEAD,
  1xx, 204 and 304 responses are dropped; Content-Length and
  Transfer-Encoding are dropped from 1xx and 204 heads (RFC 9110 §8.6).
* Keep-alive (RFC 9112 §9.3): HTTP/1.1 by default, HTTP/1.0 only with
  ``Connection: keep-alive`` (which the response then repeats); any
  ``Connection: close``, a close-delimited response, a final response sent
  before the request body was read, or an error ends it. A server response
  that ends the connection carries ``Connection: close``.
* ``Expect: 100-continue`` (RFC 9110 §10.1.1): ``send_continue()`` returns
  the interim response once, only to an HTTP/1.1 request that asked.
* Protocol switching (RFC 9110 §7.8, §15.2.2): a server may answer
  ``101`` (``send`` or ``send_response``, no body) to an HTTP/1.1 GET that
  carried an ``Upgrade`` field and has no body; a client takes a ``101`` as
  the answer to a request whose ``Connection`` field lists ``upgrade`` (RFC
  9110 §7.8 requires that option of every request with ``Upgrade``; the
  option is read on every request, unlike cached plain fields). Both sides
  are then ``SWITCHED_PROTOCOL``: ``next_event()`` returns ``PAUSED`` for
  ever, and ``trailing_data`` holds the bytes after the head, which belong
  to the new protocol. A 101 to any other request is a protocol error.
* Limits (``Limits``): request/status line -> 414, head size or field count
  -> 431, body size -> 413, chunk-extension bytes of one message past
  ``max_header_bytes`` -> 413 (a single chunk-size line past 4096 bytes is
  malformed: 400), each a ``RemoteProtocolError`` whose ``status_code`` is
  the answer; ``writer.error_response`` builds it.

The parser backend (``parser.py``, ``_llhttp.py``) only tokenises heads that
this module cut out of the buffer; see ``parser.py``. Every head is parsed
and checked, however often a client repeats it. Events are fresh objects,
except the ``EndOfMessage`` of a bodiless message, one shared instance that
must not be mutated.

Additions to the original contract (all documented on the members):
``send_request(request, body)`` (client fast path), ``their_method`` (the
method of the current request), ``backend`` (the parser name), ``buffered``
(unparsed bytes, counted without a copy), and the ``split_target``
re-export (``transom.http.parser.split_target``), ``body_received`` (body
bytes of the peer's message so far, for a server's body-rate check),
``upgrade_requested`` (a 101 may answer the current request).
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final

from transom.exceptions import LocalProtocolError, RemoteProtocolError
from transom.http import writer
from transom.http.events import (
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    HeaderList,
    Request,
    Response,
)
from transom.http.limits import Limits
from transom.http.parser import HeadParser, PythonParser, parse_fields, split_target

__all__ = [
    "NEED_DATA",
    "PAUSED",
    "Connection",
    "Limits",
    "Role",
    "State",
    "split_target",
]


class Role(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class State(enum.Enum):
    """Per side: IDLE -> SEND_BODY -> DONE -> (IDLE | MUST_CLOSE -> CLOSED); ERROR on failure;
    SWITCHED_PROTOCOL after a 101 (RFC 9110 §15.2.2)."""

    IDLE = "idle"
    SEND_BODY = "send_body"
    DONE = "done"
    MUST_CLOSE = "must_close"
    CLOSED = "closed"
    ERROR = "error"
    SWITCHED_PROTOCOL = "switched_protocol"


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: ``next_event()``: more bytes are needed before the next event.
NEED_DATA: Final = _Sentinel("NEED_DATA")
#: ``next_event()``: the peer's message is complete; call ``start_next_cycle()`` first.
PAUSED: Final = _Sentinel("PAUSED")


_IDLE: Final = State.IDLE
_SEND_BODY: Final = State.SEND_BODY
_DONE: Final = State.DONE
_MUST_CLOSE: Final = State.MUST_CLOSE
_CLOSED: Final = State.CLOSED
_ERROR: Final = State.ERROR
_SWITCHED: Final = State.SWITCHED_PROTOCOL
# Module constants: an attribute of an Enum class goes through the
# metaclass's __getattr__ on CPython 3.11, far slower than a global.
_SERVER: Final = Role.SERVER
_CLIENT: Final = Role.CLIENT

# How a body is framed, on either side.
_NO_BODY: Final = 0
_LENGTH: Final = 1
_CHUNKED: Final = 2
_UNTIL_CLOSE: Final = 3

# Received header names whose values this module reads.
_FRAMING_NAMES: Final = frozenset(
    (b"host", b"content-length", b"transfer-encoding", b"connection", b"expect", b"upgrade")
)
# RFC 9110 §7.2 and RFC 3986 §3.2.2: uri-host [ ":" port ].
_HOST: Final = re.compile(
    rb"(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[!$&'()*+,;=:A-Za-z0-9\-._~]+\]"
    rb"|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?"
)
# RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; extensions are read and ignored.
_CHUNK_LINE: Final = re.compile(
    rb"([0-9A-Fa-f]{1,16})((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
    rb"(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|\"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]"
    rb"|\\[\t \x21-\x7e\x80-\xff])*\"))?)*)"
)
_SCHEME: Final = re.compile(rb"[A-Za-z][A-Za-z0-9+\-.]*")  # RFC 3986 §3.1
_MAX_CHUNK_LINE: Final = 4096  # chunk size + extensions, bytes
_MAX_LEADING_EMPTY_LINES: Final = (
    8  # RFC 9112 §2.2: ignore at least one empty line before a request
)
# RFC 9112 §2.3: a higher minor version of HTTP/1 is processed as the highest
# one we support; any other major version is refused (505).
_VERSIONS: Final = {b"1.1": b"1.1", b"1.0": b"1.0"}
_VERSIONS.update({b"1.%d" % minor: b"1.1" for minor in range(2, 10)})
_REFERENCE: Final = PythonParser()  # judges request lines before their head is complete

# The fast path of send_response: statuses whose responses have a body.
_PLAIN_STATUS_LINES: Final = {
    code: writer.status_line(code, b"")
    for code in range(200, 600)
    if code not in (204, 304) and writer.status_line(code, b"").count(b" ") >= 2
}
_ALL_BUT_CR_LF_NUL: Final = writer.ALL_BUT_CR_LF_NUL

# Bodiless messages all end with this one event: it must never be mutated
# (documented for users of next_event).
_EMPTY_END: Final = EndOfMessage()


def _default_parser(backend: str | None) -> HeadParser:
    if backend == "python":
        return PythonParser()
    if backend not in ("llhttp", None):
        raise ValueError(f"unknown parser backend {backend!r}: use 'llhttp', 'python' or None")
    try:
        from transom.http._llhttp import LlhttpParser
    except ImportError:
        if backend == "llhttp":
            raise
        return PythonParser()
    return LlhttpParser()


class Connection:
    """The state machine of one HTTP/1.1 connection.

    ``backend`` picks the parser: ``"llhttp"`` (httptools), ``"python"`` (the
    strict reference) or ``None`` (llhttp where it imports).
    """

    __slots__ = (
        "_buffer",
        "_chunk_left",
        "_eof",
        "_expect_continue",
        "_ext_left",
        "_fast_response",
        "_keep_alive",
        "_leading_lines",
        "_lf_checked",
        "_limits",
        "_max_fields",
        "_our_state",
        "_parse_request_head",
        "_parser",
        "_pos",
        "_recv_left",
        "_recv_mode",
        "_recv_total",
        "_role",
        "_scanned",
        "_send_left",
        "_send_mode",
        "_short_head",
        "_their_method",
        "_their_state",
        "_their_version",
        "_upgrade",
        "_valid_host",
    )

    def __init__(
        self,
        role: Role,
        *,
        limits: Limits | None = None,
        backend: str | None = None,
    ) -> None:
        self._role = role
        self._limits = limits = limits if limits is not None else Limits()
        # A head shorter than both limits needs no size checks.
        self._short_head = min(limits.max_request_line, limits.max_header_bytes)
        self._valid_host = b"\x00"  # the last Host value found valid
        self._parser = _default_parser(backend)
        self._parse_request_head = self._parser.parse_request_head
        self._max_fields = limits.max_header_count
        self._fast_response = False  # see send_response
        self._buffer = b""
        self._pos = 0
        self._eof = False
        self._our_state = _IDLE
        self._their_state = _IDLE
        self._keep_alive = True
        self._leading_lines = 0
        self._scanned = 0  # bytes after _pos already searched for the end of a head
        self._lf_checked = 0  # bytes after _pos already checked for bare LF
        # The current exchange; each head overwrites what it needs.
        self._recv_mode = _NO_BODY
        self._recv_left = 0
        self._recv_total = 0
        self._chunk_left = -1  # -1: a chunk-size line comes next
        self._ext_left = 0  # chunk-extension bytes the current message may still send
        self._send_mode = _NO_BODY
        self._send_left = 0
        self._their_method: bytes | None = None
        self._their_version: bytes | None = None
        self._expect_continue = False
        # The current request asked to switch protocols (server: it carried
        # Upgrade; client: its Connection listed "upgrade"). Reset by
        # start_next_cycle, so the usual request costs nothing here.
        self._upgrade = False

    @property
    def backend(self) -> str:
        """The parser backend in use: ``"llhttp"`` or ``"python"``."""
        return self._parser.name

    # --- receiving ---------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Buffer bytes from the peer; ``b""`` records end of input (EOF)."""
        if data:
            if self._eof:
                raise LocalProtocolError("receive_data() after EOF was recorded")
            if self._pos == len(self._buffer):
                self._buffer = bytes(data)
                self._pos = 0
            else:
                self._buffer = self._buffer[self._pos :] + data
                self._pos = 0
        else:
            self._eof = True

    def next_event(self) -> Event | _Sentinel:
        """The next complete event, ``NEED_DATA`` or ``PAUSED``.

        Raises ``RemoteProtocolError`` (with ``status_code``) for invalid
        input; the connection is then in ``State.ERROR`` and must be closed.
        After EOF returns ``ConnectionClosed`` once the buffer is drained
        (or raises, if EOF cut a message short where that is not allowed).
        """
        state = self._their_state
        if state is _SEND_BODY and self._recv_mode == _NO_BODY:
            # Fast path: the end of a bodiless message.
            self._their_state = _DONE if self._keep_alive else _MUST_CLOSE
            return _EMPTY_END
        if state is _DONE:
            return PAUSED
        try:
            if state is _SEND_BODY:
                return self._next_body_event()
            if state is _IDLE:
                if self._role is _SERVER:
                    return self._next_request()
                return self._next_response()
            if state is _MUST_CLOSE:
                if self._eof:
                    self._their_state = _CLOSED
                    return ConnectionClosed()
                return PAUSED
            if state is _CLOSED:
                return ConnectionClosed()
            if state is _SWITCHED:
                return PAUSED  # the bytes are not HTTP any more: see trailing_data
        except RemoteProtocolError:
            self._their_state = _ERROR
            self._keep_alive = self._fast_response = False
            raise
        raise RemoteProtocolError("cannot read from a connection in ERROR state; close it")

    def _next_request(self) -> Event | _Sentinel:
        buffer = self._buffer
        if not buffer and not self._eof:
            return NEED_DATA  # the usual state between keep-alive requests
        pos = self._pos
        end = buffer.find(b"\r\n\r\n", pos + self._scanned)
        if end <= pos:
            return self._incomplete_head()
        if end - pos > self._short_head:
            self._check_head_size(buffer, pos, end)
        try:
            method, target, version, headers = self._parse_request_head(buffer, pos, end)
        except RemoteProtocolError:
            if buffer.startswith(b"\r\n", pos):
                return self._incomplete_head()  # empty lines first: skip them, try again
            raise
        pos = end + 4
        if pos == len(buffer):
            self._buffer = b""
            self._pos = 0
        else:
            self._pos = pos
        version = self._check_request(method, target, version, headers)
        if self._recv_mode != _NO_BODY:
            self._parser.body_follows()
        self._their_method = method
        self._their_version = version
        self._their_state = _SEND_BODY
        # send_response's fast path needs a keep-alive HTTP/1.1 non-HEAD exchange.
        self._fast_response = self._keep_alive and version == b"1.1" and method != b"HEAD"
        return Request(method, target, headers, version)

    def _check_request(
        self, method: bytes, target: bytes, version: bytes, headers: HeaderList
    ) -> bytes:
        """Validate a request head (RFC 9112 §3, §6; RFC 9110 §7.2), set up
        the framing of its body, and return the version it is processed as."""
        if len(headers) > self._max_fields:
            raise RemoteProtocolError("too many header fields", status_code=431)
        if version != b"1.1":
            if version != b"1.0":
                version = _version(version)
            if version == b"1.0" and b"connection" not in (name for name, _ in headers):
                self._keep_alive = False  # HTTP/1.0: only with Connection: keep-alive
        if target[0] != 47 and not _valid_other_target(method, target):  # 47 = "/"
            raise RemoteProtocolError(f"invalid request target {target[:80]!r}")
        if 35 in target:  # "#" (an int test is a memchr)
            # RFC 9112 §3.2: a fragment is never sent; one that is would reach
            # the app as some other path.
            raise RemoteProtocolError(f"request target with a fragment {target[:80]!r}")
        hosts = 0
        length: int | None = None
        chunked = False
        for name, value in headers:
            if name in _FRAMING_NAMES:
                if name == b"host":
                    hosts += 1
                    if value != self._valid_host:
                        if _HOST.fullmatch(value) is None:
                            raise RemoteProtocolError(f"invalid Host {value[:80]!r}")
                        self._valid_host = value  # a client repeats its Host: check once
                elif name == b"content-length":
                    if length is not None:
                        raise RemoteProtocolError("more than one Content-Length")
                    length = _content_length(value)
                elif name == b"transfer-encoding":
                    chunked = True  # checked in full below
                elif name == b"connection":
                    self._read_connection_tokens(value, version)
                elif name == b"upgrade":
                    self._upgrade = True
                elif value.lower() == b"100-continue" and version == b"1.1":
                    self._expect_continue = True
        if hosts != 1 and (hosts or version == b"1.1"):
            raise RemoteProtocolError("an HTTP/1.1 request needs exactly one Host header")
        if chunked:
            self._check_transfer_encoding(headers, version, length)
            self._start_chunked()
        elif length:
            max_body = self._limits.max_body_size
            if max_body is not None and length > max_body:
                raise RemoteProtocolError("request body too large", status_code=413)
            self._recv_mode = _LENGTH
            self._recv_left = self._recv_total = length
        return version

    def _start_chunked(self) -> None:
        self._recv_mode = _CHUNKED
        self._chunk_left = -1
        self._recv_total = 0
        # Chunk extensions are read and ignored, so their bytes are bounded
        # like a head's: max_header_bytes per message, whatever the chunking.
        self._ext_left = self._limits.max_header_bytes

    def _check_head_size(self, buffer: bytes, pos: int, end: int) -> None:
        limits = self._limits
        if buffer.find(b"\r\n", pos, end + 2) - pos > limits.max_request_line:
            raise RemoteProtocolError(f"{self._start_line} too long", status_code=414)
        if end - pos > limits.max_header_bytes:
            raise RemoteProtocolError("head too large", status_code=431)

    @property
    def _start_line(self) -> str:
        return "request line" if self._role is _SERVER else "status line"

    def _next_response(self) -> Event | _Sentinel:
        buffer = self._buffer
        pos = self._pos
        if self._our_state is _IDLE:
            # No request went out: anything but EOF is a protocol violation.
            if pos < len(buffer):
                raise RemoteProtocolError("the server sent data before any request")
            if self._eof:
                self._their_state = _CLOSED
                return ConnectionClosed()
            return NEED_DATA
        if pos == len(buffer) and not self._eof:
            return NEED_DATA  # the usual state right after a request went out
        end = buffer.find(b"\r\n\r\n", pos + self._scanned)
        if end < pos:
            return self._incomplete_head()
        if end - pos > self._short_head:
            self._check_head_size(buffer, pos, end)
        version, status, reason, headers = self._parser.parse_response_head(buffer, pos, end)
        self._pos = end + 4
        self._scanned = self._lf_checked = 0
        if len(headers) > self._limits.max_header_count:
            raise RemoteProtocolError("too many header fields", status_code=431)
        version = _version(version)
        if status < 200:
            if status < 100:
                raise RemoteProtocolError(f"invalid status code {status}")
            if status == 101:
                return self._switched_by_response(headers, version, reason)
            # Interim response: the final one follows (RFC 9110 §15.2).
            return Response(status, headers, version, reason)
        self._frame_response(status, version, headers)
        self._their_version = version
        self._their_state = _SEND_BODY
        return Response(status, headers, version, reason)

    def _switched_by_response(self, headers: HeaderList, version: bytes, reason: bytes) -> Response:
        """A 101 (RFC 9110 §15.2.2): only the answer to a request that asked
        for an upgrade; what follows its head is the new protocol's."""
        if not self._upgrade:
            raise RemoteProtocolError("101 Switching Protocols to a request that asked no upgrade")
        self._their_version = version
        self._their_state = self._our_state = _SWITCHED
        self._keep_alive = False
        return Response(101, headers, version, reason)

    def _frame_response(self, status: int, version: bytes, headers: HeaderList) -> None:
        # RFC 9112 §6.3, in its order.
        length: int | None = None
        chunked = False
        connection = False
        for name, value in headers:
            if name == b"content-length":
                if length is not None:
                    raise RemoteProtocolError("more than one Content-Length")
                length = _content_length(value)
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"connection":
                connection = True
                self._read_connection_tokens(value, version)
        if version == b"1.0" and not connection:
            self._keep_alive = False
        if self._their_method == b"HEAD" or status in (204, 304):
            return  # no body, whatever the head says
        if self._their_method == b"CONNECT" and status < 300:
            # A tunnel (RFC 9112 §6.3): what follows the head is no longer
            # HTTP; it stays in trailing_data for the caller.
            self._keep_alive = False
            return
        if chunked:
            self._check_transfer_encoding(headers, version, length)
            self._start_chunked()
        elif length is not None:
            max_body = self._limits.max_body_size
            if max_body is not None and length > max_body:
                raise RemoteProtocolError("response body too large", status_code=413)
            if length:
                self._recv_mode = _LENGTH
                self._recv_left = self._recv_total = length
        else:
            self._recv_mode = _UNTIL_CLOSE
            self._recv_total = 0
            self._keep_alive = False

    def _read_connection_tokens(self, value: bytes, version: bytes) -> None:
        # RFC 9110 §7.6.1: a comma-separated list of case-insensitive tokens.
        # ``close`` ends the connection; HTTP/1.0 keeps it only with
        # ``keep-alive`` (RFC 9112 §9.3). Never revives a closed connection.
        value = value.lower()
        if value == b"keep-alive":  # the usual single tokens, without a split
            return
        if value == b"close":
            self._keep_alive = False
            return
        tokens = [token.strip(b" \t") for token in value.split(b",")]
        if b"close" in tokens or (version == b"1.0" and b"keep-alive" not in tokens):
            self._keep_alive = False

    def _check_transfer_encoding(
        self, headers: HeaderList, version: bytes, length: int | None
    ) -> None:
        # RFC 9112 §6.1: TE with Content-Length is a smuggling vector; TE in
        # HTTP/1.0 is not understood by 1.0 recipients; chunked must be last
        # and is the only coding we decode.
        if length is not None:
            raise RemoteProtocolError("both Content-Length and Transfer-Encoding")
        if version != b"1.1":
            raise RemoteProtocolError("Transfer-Encoding in an HTTP/1.0 message")
        # RFC 9110 §5.6.1: empty list elements (", chunked") are valid and skipped.
        codings = [
            coding
            for name, value in headers
            if name == b"transfer-encoding"
            for coding in (item.strip(b" \t") for item in value.lower().split(b","))
            if coding
        ]
        if codings != [b"chunked"]:
            if not codings or codings[-1] != b"chunked" or b"chunked" in codings[:-1]:
                raise RemoteProtocolError("Transfer-Encoding must end with a single chunked")
            raise RemoteProtocolError("unsupported transfer coding", status_code=501)

    def _incomplete_head(self) -> Event | _Sentinel:
        """No complete head at the front of the buffer: skip empty lines,
        enforce the limits, and see whether EOF ends the connection."""
        buffer = self._buffer
        pos = self._pos
        if self._role is _SERVER and buffer.startswith(b"\r\n", pos):
            # RFC 9112 §2.2: empty lines before a request line are ignored.
            while buffer.startswith(b"\r\n", pos):
                self._leading_lines += 1
                if self._leading_lines > _MAX_LEADING_EMPTY_LINES:
                    raise RemoteProtocolError("too many empty lines before the request line")
                pos += 2
            self._pos = pos
            self._scanned = self._lf_checked = 0
            if buffer.find(b"\r\n\r\n", pos) > pos:
                return self._next_request()
        available = len(buffer) - pos
        if available == 0:
            if self._eof:
                self._their_state = _CLOSED
                return ConnectionClosed()
            return NEED_DATA
        limits = self._limits
        line_end = buffer.find(b"\r\n", pos)
        if (line_end < 0 and available > limits.max_request_line) or (
            line_end - pos > limits.max_request_line
        ):
            raise RemoteProtocolError(f"{self._start_line} too long", status_code=414)
        if available > limits.max_header_bytes:
            raise RemoteProtocolError("head too large", status_code=431)
        # Only the bytes not seen by an earlier call are searched, so a head
        # that trickles in byte by byte costs linear, not quadratic, time.
        new = pos + self._lf_checked  # LFs from here are new; a CR just before may pair them
        if buffer.count(b"\n", new) != buffer.count(b"\r\n", max(new - 1, pos)):
            # RFC 9112 §2.2: a bare LF line ending is refused, not waited on.
            raise RemoteProtocolError("bare LF in head")
        if line_end >= 0 and line_end + 2 > new and self._role is _SERVER:
            # The request line just became complete: judge it now, rather than
            # wait for the blank line an HTTP/0.9 or non-HTTP client never sends.
            _version(_REFERENCE.parse_request_head(buffer, pos, line_end)[2])
        self._scanned = max(available - 3, 0)
        self._lf_checked = available
        if buffer.startswith(b"\x16\x03", pos):
            raise RemoteProtocolError("not HTTP/1.1 (a TLS handshake)", status_code=505)
        if self._eof:
            raise RemoteProtocolError("connection closed in the middle of a head")
        return NEED_DATA

    def _next_body_event(self) -> Event | _Sentinel:
        # next_event answered _NO_BODY itself.
        mode = self._recv_mode
        if mode == _LENGTH:
            buffer = self._buffer
            pos = self._pos
            available = len(buffer) - pos
            if available == 0:
                if self._eof:
                    raise RemoteProtocolError("connection closed before the body was complete")
                return NEED_DATA
            left = self._recv_left
            if available >= left:
                data = buffer[pos : pos + left]
                self._recv_mode = _NO_BODY
                pos += left
                if pos == len(buffer):
                    self._buffer = b""
                    self._pos = 0
                else:
                    self._pos = pos
            else:
                data = buffer[pos:] if pos else buffer
                self._recv_left = left - available
                self._buffer = b""
                self._pos = 0
            return Data(data)
        if mode == _CHUNKED:
            return self._next_chunked_event()
        return self._next_close_delimited_event()

    def _end_of_their_message(self, event: EndOfMessage) -> EndOfMessage:
        self._recv_mode = _NO_BODY
        self._their_state = _DONE if self._keep_alive else _MUST_CLOSE
        return event

    def _take(self, size: int) -> bytes:
        pos = self._pos
        data = self._buffer[pos : pos + size]
        self._pos = pos + size
        return data

    def _count_body(self, size: int) -> None:
        self._recv_total += size
        max_body = self._limits.max_body_size
        if max_body is not None and self._recv_total > max_body:
            raise RemoteProtocolError("body too large", status_code=413)

    def _next_chunked_event(self) -> Event | _Sentinel:
        # RFC 9112 §7.1. ``_chunk_left``: -1 before a chunk-size line, > 0 in
        # chunk data, 0 when the CRLF after the data is due, -2 in trailers.
        buffer = self._buffer
        while True:
            pos = self._pos
            available = len(buffer) - pos
            left = self._chunk_left
            if left > 0:
                if available == 0:
                    return self._need_body_data()
                size = min(left, available)
                self._chunk_left = left - size
                return Data(self._take(size))
            if left == 0:
                if available < 2:
                    return self._need_body_data()
                if not buffer.startswith(b"\r\n", pos):
                    raise RemoteProtocolError("chunk data not followed by CRLF")
                self._pos = pos + 2
                self._chunk_left = -1
                continue
            if left == -2:
                return self._read_trailers()
            line_end = buffer.find(b"\r\n", pos, pos + _MAX_CHUNK_LINE)
            if line_end < 0:
                if available >= _MAX_CHUNK_LINE:
                    raise RemoteProtocolError("chunk-size line too long")
                if b"\n" in buffer[pos:]:
                    raise RemoteProtocolError("bare LF in chunk-size line")
                return self._need_body_data()
            match = _CHUNK_LINE.fullmatch(buffer, pos, line_end)
            if match is None:
                raise RemoteProtocolError("invalid chunk-size line")
            size_end = match.end(1)
            if size_end != line_end:
                self._count_extensions(line_end - size_end)
            size = int(match.group(1), 16)
            self._count_body(size)
            self._pos = line_end + 2
            if size:
                self._chunk_left = size
            else:
                self._chunk_left = -2
                self._scanned = self._lf_checked = 0  # the trailer search starts here

    def _count_extensions(self, size: int) -> None:
        # RFC 9112 §7.1.1: extensions we ignore must not cost unbounded work
        # (the chunk-extension advisories of Node.js, Netty and aiohttp, 2023-24).
        self._ext_left -= size
        if self._ext_left < 0:
            raise RemoteProtocolError("too many chunk extension bytes", status_code=413)

    def _read_trailers(self) -> Event | _Sentinel:
        buffer = self._buffer
        pos = self._pos
        if buffer.startswith(b"\r\n", pos):
            self._pos = pos + 2
            return self._end_of_their_message(EndOfMessage())
        # As for heads, only bytes not searched before are searched again.
        end = buffer.find(b"\r\n\r\n", pos + self._scanned)
        limits = self._limits
        if end < 0:
            available = len(buffer) - pos
            if available > limits.max_header_bytes:
                raise RemoteProtocolError("trailer section too large", status_code=431)
            new = pos + self._lf_checked
            if buffer.count(b"\n", new) != buffer.count(b"\r\n", max(new - 1, pos)):
                raise RemoteProtocolError("bare LF in trailer section")
            self._scanned = max(available - 3, 0)
            self._lf_checked = available
            return self._need_body_data()
        self._scanned = self._lf_checked = 0
        if end - pos > limits.max_header_bytes:
            raise RemoteProtocolError("trailer section too large", status_code=431)
        trailers = parse_fields(buffer, pos, end)
        if len(trailers) > limits.max_header_count:
            raise RemoteProtocolError("too many trailer fields", status_code=431)
        self._pos = end + 4
        return self._end_of_their_message(EndOfMessage(trailers))

    def _need_body_data(self) -> _Sentinel:
        if self._eof:
            raise RemoteProtocolError("connection closed before the chunked body was complete")
        if self._pos == len(self._buffer):
            self._buffer = b""
            self._pos = 0
        return NEED_DATA

    def _next_close_delimited_event(self) -> Event | _Sentinel:
        buffer = self._buffer
        pos = self._pos
        if pos < len(buffer):
            data = buffer[pos:] if pos else buffer
            self._buffer = b""
            self._pos = 0
            self._count_body(len(data))
            return Data(data)
        if self._eof:
            return self._end_of_their_message(EndOfMessage())
        return NEED_DATA

    # --- sending -----------------------------------------------------------
    def send(self, event: object) -> bytes:
        """Serialise one event of our side's message; raises ``LocalProtocolError``
        for anything HTTP/1.1 forbids (CR/LF/NUL in a header, a body on a 204,
        more bytes than the declared Content-Length, ...)."""
        try:
            if type(event) is Data:
                return self._send_data(event.data)
            if type(event) is EndOfMessage:
                return self._send_end(event.trailers)
            if type(event) is Response:
                return self._send_response_head(event, None)
            if type(event) is Request:
                return self._send_request_head(event, None)
            if type(event) is ConnectionClosed:
                self._our_state = _CLOSED
                self._keep_alive = False
                return b""
        except LocalProtocolError:
            self._our_state = _ERROR
            self._keep_alive = False
            raise
        raise LocalProtocolError(f"cannot send {event!r}: not an HTTP event")

    def send_response(self, response: Response, body: bytes) -> bytes:
        """Server fast path: head + whole body + end of message in one buffer.
        Adds Content-Length when the response has none and may have a body;
        drops the body for HEAD / 1xx / 204 / 304."""
        if (
            self._fast_response
            and (self._their_state is _DONE or self._recv_mode == _NO_BODY)
            and not response.reason
        ):
            # The common case, kept apart for speed: a keep-alive HTTP/1.1
            # exchange, standard reason, plain headers, the length known.
            head = self._plain_response_head(response.status_code, response.headers, len(body))
            if head is not None:
                self._fast_response = False
                self._our_state = _DONE
                self._expect_continue = False
                return head + body
        return self._send_whole_response(response, body)

    def _plain_response_head(
        self, status: int, headers: HeaderList, body_length: int
    ) -> bytes | None:
        """The head for send_response's fast path, or None when the full path
        must decide (framing headers, names not seen before, odd statuses)."""
        line = _PLAIN_STATUS_LINES.get(status)
        if line is None:
            return None
        parts = [line]
        length: bytes | None = None
        lines = writer.FIELD_LINES
        # Any: an app's fields may be lists or hold bytearrays; they are
        # judged here, not by the type a compiled build would check.
        fields: list[Any] = headers
        for field in fields:
            try:
                field_line = lines.get(field)
            except TypeError:  # not hashable (a list pair, a bytearray): the full path judges it
                return None
            if field_line is None:
                field_line = writer.field_line(field)
                if field_line is None:
                    return None
                if field_line is writer.CONTENT_LENGTH_LINE:
                    if length is not None:
                        return None
                    length = field[1]
                    continue
            parts.append(field_line)
        if length is None:
            parts.append(b"content-length: %d\r\n\r\n" % body_length)
        elif length == b"%d" % body_length:
            parts.append(b"content-length: " + length + b"\r\n\r\n")
        else:
            return None  # a mismatch: the full path explains it
        return b"".join(parts)

    def _send_whole_response(self, response: Response, body: bytes) -> bytes:
        if response.status_code == 101 and not body:
            return self.send(response)  # the switch: a head, never a body
        if response.status_code < 200:
            raise LocalProtocolError("send interim (1xx) responses with send()")
        try:
            head = self._send_response_head(response, len(body))
            mode = self._send_mode
            if mode == _LENGTH:
                if self._send_left != len(body):
                    raise LocalProtocolError(
                        f"the body is {len(body)} bytes but Content-Length "
                        f"declares {self._send_left}"
                    )
                self._finish_ours()
                return head + body
            if mode == _NO_BODY:
                self._finish_ours()
                return head
            return head + self._send_data(body) + self._send_end(None)
        except LocalProtocolError:
            self._our_state = _ERROR
            self._keep_alive = False
            raise

    def send_request(self, request: Request, body: bytes = b"") -> bytes:
        """Client fast path: head + whole body + end of message in one buffer.

        Adds ``Content-Length`` when the request has no framing header and
        either has a body or is a POST/PUT/PATCH (RFC 9110 §8.6).

        >>> conn = Connection(Role.CLIENT, backend="python")
        >>> conn.send_request(Request(b"POST", b"/", [(b"host", b"a")]), b"hi")
        b'POST / HTTP/1.1\\r\\nhost: a\\r\\ncontent-length: 2\\r\\n\\r\\nhi'
        """
        try:
            head = self._send_request_head(request, len(body))
            if self._send_mode != _LENGTH:
                # The caller asked for chunked (or sent no body): frame it so.
                return head + self._send_data(body) + self._send_end(None)
            wire = head + body if body else head
            return wire + self._send_end(None, len(body))
        except LocalProtocolError:
            self._our_state = _ERROR
            self._keep_alive = False
            raise

    def _send_response_head(self, response: Response, body_length: int | None) -> bytes:
        if self._role is not _SERVER:
            raise LocalProtocolError("a client sends requests, not responses")
        self._fast_response = False
        if self._our_state is not _IDLE or self._their_state is _IDLE:
            raise LocalProtocolError(
                f"cannot send a response now (ours: {self._our_state.name}, "
                f"theirs: {self._their_state.name}); one response per received request"
            )
        status = response.status_code
        parts = [writer.status_line(status, response.reason)]
        interim_or_204 = status < 200 or status == 204
        length, chunked, app_says_close = _response_fields(response.headers, parts, interim_or_204)
        close = app_says_close or not self._keep_alive
        if status < 200:
            if status == 101:
                return self._switch(b"".join([*parts, b"\r\n"]), len(parts) // 4 + 2)
            if self._their_version != b"1.1":
                raise LocalProtocolError("no interim responses to an HTTP/1.0 client")
            self._expect_continue = False
            parts.append(b"\r\n")
            return writer.check_head(b"".join(parts), len(parts) // 4 + 2)
        lines = len(parts) // 4 + 2
        if length is not None and chunked:
            raise LocalProtocolError("both Content-Length and Transfer-Encoding")
        self._expect_continue = False
        if self._their_state is _SEND_BODY and self._recv_mode != _NO_BODY:
            # A final response before the request body was read: the rest of
            # the body may never come, so the next request cannot be found.
            close = True
        if interim_or_204 or status == 304 or self._their_method == b"HEAD":
            self._send_mode = _NO_BODY
            if length is None and body_length and self._their_method == b"HEAD":
                parts += (b"content-length", b": ", b"%d" % body_length, b"\r\n")
                lines += 1
        elif length is not None:
            self._send_mode = _LENGTH
            self._send_left = int(length)
        elif body_length is not None and not chunked:
            self._send_mode = _LENGTH
            self._send_left = body_length
            parts += (b"content-length: %d\r\n" % body_length,)
            lines += 1
        elif self._their_version == b"1.1":
            self._send_mode = _CHUNKED
            parts.append(b"transfer-encoding: chunked\r\n")
            lines += 1
        else:
            self._send_mode = _UNTIL_CLOSE  # RFC 9112 §6.3: 1.0 knows no chunked
            close = True
        if close:
            self._keep_alive = False
            if not app_says_close:
                parts.append(b"connection: close\r\n")
                lines += 1
        elif self._their_version == b"1.0":
            parts.append(b"connection: keep-alive\r\n")
            lines += 1
        parts.append(b"\r\n")
        self._our_state = _SEND_BODY
        return writer.check_head(b"".join(parts), lines)

    def _switch(self, head: bytes, lines: int) -> bytes:
        """Our 101 (RFC 9110 §7.8): to an HTTP/1.1 GET with Upgrade whose
        (empty) body is behind us, then both sides leave HTTP."""
        if not self._upgrade or self._their_method != b"GET" or self._their_version != b"1.1":
            raise LocalProtocolError(
                "101 Switching Protocols answers only an HTTP/1.1 GET that carried Upgrade"
            )
        if self._their_state is not _DONE and self._recv_mode != _NO_BODY:
            raise LocalProtocolError("read the request body before switching protocols")
        head = writer.check_head(head, lines)
        self._expect_continue = self._keep_alive = False
        self._our_state = self._their_state = _SWITCHED
        return head

    def _send_request_head(self, request: Request, body_length: int | None) -> bytes:
        if self._role is not _CLIENT:
            raise LocalProtocolError("a server sends responses, not requests")
        if self._our_state is not _IDLE:
            raise LocalProtocolError(
                f"cannot send a request now (ours: {self._our_state.name}); "
                "call start_next_cycle() after the previous exchange"
            )
        version = request.http_version
        parts = [writer.request_line(request.method, request.target, version)]
        length: bytes | None = None
        chunked = False
        hosts = 0
        cache = writer.FIELD_LINES
        host_lines = writer.HOST_LINES
        fields: list[Any] = request.headers  # judged here (see _plain_response_head)
        for field in fields:
            try:
                line = cache.get(field)
                if line is None:
                    line = host_lines.get(field)
                    if line is not None:  # the Host of an origin asked before: counted
                        hosts += 1
            except TypeError:  # not hashable (a list pair, a bytearray): checked below
                line = None
            if line is not None:  # a field checked before (never a framing one)
                parts.append(line)
                continue
            name, value = _pair(field)
            kind = writer.header_kind(name)
            if kind == writer.KIND_CONTENT_LENGTH:
                if length is not None or not value.isdigit():
                    raise LocalProtocolError(f"invalid or repeated Content-Length {value!r}")
                length = value
            elif kind == writer.KIND_TRANSFER_ENCODING:
                if value.lower() != b"chunked":
                    raise LocalProtocolError(
                        f"Transfer-Encoding {value!r}: only 'chunked' is supported"
                    )
                if version != b"1.1":
                    raise LocalProtocolError("chunked requests need HTTP/1.1")
                chunked = True
            elif kind == writer.KIND_CONNECTION:
                lowered = value.lower()
                if b"close" in lowered:
                    self._keep_alive = False
                if b"upgrade" in lowered:  # RFC 9110 §7.8: a 101 may answer this request
                    self._upgrade = True
            elif name.lower() == b"host":
                hosts += 1
                kind = -1  # counted on every request: never cached
            line = name + b": " + value + b"\r\n"
            # RFC 9110 §5.5: no CR, LF or NUL in a value (that would split the message).
            if line.translate(None, _ALL_BUT_CR_LF_NUL) != b"\r\n":
                raise LocalProtocolError(
                    f"header {name!r} has CR, LF or NUL in its value {value!r}; remove them "
                    "(they would let the text forge headers or messages)"
                )
            if kind == writer.KIND_OTHER:
                writer.remember_line(field, name, line)
            elif kind == -1:
                writer.remember_host_line(field, line)
            parts.append(line)
        if hosts != 1 and version == b"1.1":
            raise LocalProtocolError("an HTTP/1.1 request needs exactly one Host header")
        if length is not None and chunked:
            raise LocalProtocolError("both Content-Length and Transfer-Encoding")
        if version == b"1.0" and self._keep_alive:
            self._keep_alive = False  # we do not ask 1.0 servers for keep-alive
        if chunked:
            self._send_mode = _CHUNKED
        elif length is not None:
            self._send_mode = _LENGTH
            self._send_left = int(length)
        elif body_length or (
            body_length is not None and request.method in (b"POST", b"PUT", b"PATCH")
        ):
            self._send_mode = _LENGTH
            self._send_left = body_length
            parts.append(b"content-length: %d\r\n" % body_length)
        else:
            self._send_mode = _NO_BODY
        parts.append(b"\r\n")
        # The request line was checked by writer.request_line, each field line above.
        head = b"".join(parts)
        self._their_method = request.method
        self._our_state = _SEND_BODY
        return head

    def _send_data(self, data: bytes) -> bytes:
        if self._our_state is not _SEND_BODY:
            raise LocalProtocolError(f"cannot send body data in state {self._our_state.name}")
        mode = self._send_mode
        if mode == _LENGTH:
            if len(data) > self._send_left:
                raise LocalProtocolError(
                    f"{len(data)} bytes is more than the {self._send_left} left of "
                    "the declared Content-Length"
                )
            self._send_left -= len(data)
            return data
        if mode == _CHUNKED:
            return writer.chunk(data)
        if mode == _UNTIL_CLOSE:
            return data
        if data and self._role is _CLIENT:
            raise LocalProtocolError(
                "this request declared no body: set Content-Length or Transfer-Encoding: chunked"
            )
        return b""  # HEAD / 204 / 304: the body is dropped

    def _send_end(self, trailers: HeaderList | None, sent: int = 0) -> bytes:
        if self._our_state is not _SEND_BODY:
            raise LocalProtocolError(f"cannot end a message in state {self._our_state.name}")
        mode = self._send_mode
        wire = b""
        if mode == _LENGTH:
            left = self._send_left - sent
            if left:
                raise LocalProtocolError(
                    f"message ended {left} bytes short of its declared Content-Length"
                    if left > 0
                    else f"body is {-left} bytes longer than its declared Content-Length"
                )
        elif mode == _CHUNKED:
            wire = writer.last_chunk(trailers or [])
        elif mode == _UNTIL_CLOSE:
            self._keep_alive = False
        if trailers and mode != _CHUNKED:
            raise LocalProtocolError("trailers need a chunked message")
        self._finish_ours()
        return wire

    def _finish_ours(self) -> None:
        self._our_state = _DONE if self._keep_alive else _MUST_CLOSE
        if self._their_state is _DONE and not self._keep_alive:
            self._their_state = _MUST_CLOSE

    def send_continue(self) -> bytes:
        """``100 Continue`` if the current request expects it, is HTTP/1.1, and no
        response has started; else ``b""``. Call when the app first wants the body."""
        if not self._expect_continue or self._our_state is not _IDLE:
            return b""
        self._expect_continue = False
        return b"HTTP/1.1 100 Continue\r\n\r\n"

    def start_next_cycle(self) -> None:
        """Reset both sides to IDLE for the next exchange on a kept-alive
        connection; ``LocalProtocolError`` if either side is not DONE."""
        if self._our_state is not _DONE or self._their_state is not _DONE:
            raise LocalProtocolError(
                f"start_next_cycle() needs both sides DONE (ours: {self._our_state.name}, "
                f"theirs: {self._their_state.name}) and keep_alive"
            )
        # Per-exchange fields are overwritten by the next head; only the
        # counters of the head search start over.
        self._our_state = _IDLE
        self._their_state = _IDLE
        if self._scanned or self._leading_lines or self._lf_checked or self._upgrade:
            self._scanned = self._lf_checked = self._leading_lines = 0
            self._upgrade = False

    # --- state -------------------------------------------------------------
    @property
    def our_state(self) -> State:
        return self._our_state

    @property
    def their_state(self) -> State:
        return self._their_state

    @property
    def keep_alive(self) -> bool:
        """Whether another exchange may follow this one on this connection."""
        return self._keep_alive

    @property
    def expects_continue(self) -> bool:
        """The current request sent ``Expect: 100-continue`` and no 100/response went out."""
        return self._expect_continue

    @property
    def their_http_version(self) -> bytes | None:
        return self._their_version

    @property
    def their_method(self) -> bytes | None:
        """The method of the current request (received as a server, sent as a client)."""
        return self._their_method

    @property
    def upgrade_requested(self) -> bool:
        """The current request may be answered with 101: as a server, it
        carried ``Upgrade``; as a client, its ``Connection`` listed ``upgrade``."""
        return self._upgrade

    @property
    def body_received(self) -> int:
        """Body bytes of the peer's message received so far (after chunked
        decoding); meaningful while its body is being received."""
        mode = self._recv_mode
        if mode == _LENGTH:
            return self._recv_total - self._recv_left
        if mode == _CHUNKED and self._chunk_left > 0:
            return self._recv_total - self._chunk_left
        return self._recv_total

    @property
    def buffered(self) -> int:
        """How many received bytes wait unparsed (``len(trailing_data[0])``, without a copy)."""
        return len(self._buffer) - self._pos

    @property
    def trailing_data(self) -> tuple[bytes, bool]:
        """Buffered unparsed bytes and whether EOF was seen; after a switch
        (``SWITCHED_PROTOCOL``) the first bytes of the new protocol."""
        return self._buffer[self._pos :], self._eof


def _response_fields(
    headers: HeaderList, parts: list[bytes], interim_or_204: bool
) -> tuple[bytes | None, bool, bool]:
    """Append an app's response fields to ``parts``, checked; return its
    Content-Length, whether it asked for chunked, and whether it says close.
    Transfer-Encoding is left out (the connection re-adds it when the peer can
    take it), Content-Length too on 1xx and 204 (RFC 9110 §8.6)."""
    length: bytes | None = None
    chunked = close = False
    fields: list[Any] = headers  # judged here (see _plain_response_head)
    for field in fields:
        name, value = _pair(field)
        kind = writer.header_kind(name)
        if kind == writer.KIND_CONTENT_LENGTH:
            if length is not None or not value.isdigit():
                raise LocalProtocolError(f"invalid or repeated Content-Length {value!r}")
            length = value
            if interim_or_204:
                continue
        elif kind == writer.KIND_TRANSFER_ENCODING:
            if value.lower() != b"chunked":
                raise LocalProtocolError(
                    f"Transfer-Encoding {value!r}: only 'chunked' is supported"
                )
            chunked = True
            continue
        elif kind == writer.KIND_CONNECTION and b"close" in value.lower():
            close = True
        parts += (name, b": ", value, b"\r\n")
    return length, chunked, close


def _pair(field: Any) -> tuple[Any, Any]:
    """A header field as ``(name, value)``; ``LocalProtocolError`` if it is no pair."""
    try:
        name, value = field
    except (TypeError, ValueError):
        raise LocalProtocolError(
            f"invalid header {field!r}: a header is a (name, value) pair of bytes"
        ) from None
    return name, value


def _version(version: bytes) -> bytes:
    """The version a message is processed as (RFC 9112 §2.3), or 505."""
    known = _VERSIONS.get(version)
    if known is None:
        raise RemoteProtocolError(f"HTTP/{version.decode()} is not supported", status_code=505)
    return known


def _content_length(value: bytes) -> int:
    # RFC 9110 §8.6: 1*DIGIT. No sign, no spaces, no list, bounded.
    if not value.isdigit() or len(value) > 18:
        raise RemoteProtocolError(f"invalid Content-Length {value[:40]!r}")
    return int(value)


def _valid_other_target(method: bytes, target: bytes) -> bool:
    # RFC 9112 §3.2: absolute-form for any method, authority-form only for
    # CONNECT, asterisk-form only for OPTIONS.
    if target == b"*":
        return method == b"OPTIONS"
    scheme, sep, rest = target.partition(b"://")
    if sep:
        # RFC 9110 §4.2.4: no userinfo in an http(s) URI; the authority must be
        # a valid host, since a server prefers it to the Host header.
        authority = rest.split(b"/", 1)[0].split(b"?", 1)[0]
        return (
            _SCHEME.fullmatch(scheme) is not None
            and authority != b""
            and _HOST.fullmatch(authority) is not None
        )
    return method == b"CONNECT" and _HOST.fullmatch(target) is not None
