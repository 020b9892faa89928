"""Events to bytes: request and response heads, chunks, error responses.

The writer serialises; it does not decide framing (``connection.py`` does).
What it guarantees is that nothing the application hands it can split a
message or inject a header (RFC 9110 §5.5, RFC 9112 §5): header names must be
tokens, and no CR, LF or NUL may appear in a name, a value, a reason phrase,
a method or a request target. A breach raises ``LocalProtocolError``.

Checking every byte of every value costs time on the hot path, so the head
is assembled first and then checked in one pass: a head of ``n`` lines must
contain exactly ``n`` CR, ``n`` LF and ``n`` CRLF, and no NUL. Names are
checked once each and remembered (a server sends the same few names again
and again); ``header_kind`` returns what the connection needs to know about
a name for framing at the same cost.
"""

from __future__ import annotations

import re
from typing import Any, Final

from transom.exceptions import LocalProtocolError
from transom.http.events import HeaderList
from transom.status import REASON_BYTES

__all__ = [
    "ALL_BUT_CR_LF_NUL",
    "CONTENT_LENGTH_LINE",
    "FIELD_LINES",
    "HOST_LINES",
    "KIND_CONNECTION",
    "KIND_CONTENT_LENGTH",
    "KIND_OTHER",
    "KIND_TRANSFER_ENCODING",
    "KNOWN_NAMES",
    "MAX_FIELD_LINES",
    "check_head",
    "chunk",
    "error_response",
    "field_line",
    "header_kind",
    "last_chunk",
    "remember_host_line",
    "remember_line",
    "request_line",
    "status_line",
]

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VISIBLE_ASCII: Final = bytes(range(0x21, 0x7F))
#: Every byte but CR, LF and NUL: ``bytes.translate(None, ALL_BUT_CR_LF_NUL)``
#: keeps just the bytes that could split a message.
ALL_BUT_CR_LF_NUL: Final = bytes(b for b in range(256) if b not in (0, 10, 13))
# Methods already found to be tokens (bounded: a caller could invent many).
_KNOWN_METHODS: set[bytes] = {b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"}

KIND_OTHER: Final = 0
KIND_CONTENT_LENGTH: Final = 1
KIND_TRANSFER_ENCODING: Final = 2
KIND_CONNECTION: Final = 3
_KIND_BY_LOWER_NAME: Final = {
    b"content-length": KIND_CONTENT_LENGTH,
    b"transfer-encoding": KIND_TRANSFER_ENCODING,
    b"connection": KIND_CONNECTION,
}
# Validated names -> kind. Bounded, so a client that sends random names
# cannot grow it without limit; beyond the bound names are checked each time.
KNOWN_NAMES: dict[bytes, int] = {}
_MAXKNOWN_NAMES: Final = 1024

_STATUS_LINES: dict[int, bytes] = {
    code: b"HTTP/1.1 %d %s\r\n" % (code, reason) for code, reason in REASON_BYTES.items()
}


def header_kind(name: object) -> int:
    """The framing role of a header name (``KIND_*``); ``LocalProtocolError``
    if the name is not a token (RFC 9110 §5.1).

    >>> header_kind(b"Content-Length") == KIND_CONTENT_LENGTH
    True
    """
    # object: any value an app put in a header is judged here, in every build.
    if type(name) is bytes:
        kind = KNOWN_NAMES.get(name)
        if kind is not None:
            return kind
    if not isinstance(name, bytes) or _TOKEN.fullmatch(name) is None:
        raise LocalProtocolError(
            f"invalid header name {name!r}: a name is a non-empty token "
            "(letters, digits and !#$%&'*+-.^_`|~), as bytes"
        )
    kind = _KIND_BY_LOWER_NAME.get(name.lower(), KIND_OTHER)
    if len(KNOWN_NAMES) < _MAXKNOWN_NAMES:
        KNOWN_NAMES[name] = kind
    return kind


# Checked ``name: value\r\n`` lines by field, for the fast paths of
# Connection.send_response and send_request. Messages repeat their fields
# (Content-Type, Date within a second, User-Agent...), so each distinct field
# is checked once, not once per message. Cleared when full, so varied values
# (cookies, ETags) cannot grow it. Never a framing field, nor Host (a request
# must count its Host fields: those are kept apart, in HOST_LINES).
FIELD_LINES: dict[tuple[bytes, bytes], bytes] = {}
HOST_LINES: dict[tuple[bytes, bytes], bytes] = {}
MAX_FIELD_LINES: Final = 2048
_MAX_HOST_LINES: Final = 256
_MAX_CACHED_LINE: Final = 512
#: field_line's answer for a Content-Length (compared by identity).
CONTENT_LENGTH_LINE: Final = b"content-length"


def field_line(field: Any) -> bytes | None:
    """The wire line of a response field, remembered in ``FIELD_LINES``;
    ``CONTENT_LENGTH_LINE`` for a Content-Length, whose value the caller
    checks; None for anything the caller's full path must judge (other
    framing fields, invalid names, CR/LF/NUL in a value, non-bytes)."""
    try:
        name, value = field
    except ValueError:
        return None  # not a pair: the full path says what is wrong
    kind = KNOWN_NAMES.get(name)
    if kind is None:
        try:
            kind = header_kind(name)
        except LocalProtocolError:
            return None
    if kind == KIND_CONTENT_LENGTH:
        return CONTENT_LENGTH_LINE
    if kind != KIND_OTHER or type(value) is not bytes:
        return None
    line: bytes = name + b": " + value + b"\r\n"
    # RFC 9110 §5.5: no CR, LF or NUL in a value (that would split the message).
    if line.translate(None, ALL_BUT_CR_LF_NUL) != b"\r\n":
        return None
    remember_line(field, name, line)
    return line


def remember_line(field: Any, name: bytes, line: bytes) -> None:
    """Keep the checked wire line of a plain field (not framing, not Host) in
    ``FIELD_LINES``: only exact bytes in a tuple, which cannot change."""
    if (
        len(line) <= _MAX_CACHED_LINE
        and type(field) is tuple
        and type(name) is bytes
        and type(field[1]) is bytes
        and name.lower() != b"host"
    ):
        if len(FIELD_LINES) >= MAX_FIELD_LINES:
            FIELD_LINES.clear()
        FIELD_LINES[field] = line


def remember_host_line(field: Any, line: bytes) -> None:
    """Keep the checked wire line of a request's Host field in ``HOST_LINES``."""
    if len(line) <= _MAX_CACHED_LINE and type(field) is tuple and type(field[1]) is bytes:
        if len(HOST_LINES) >= _MAX_HOST_LINES:
            HOST_LINES.clear()
        HOST_LINES[field] = line


def check_head(head: bytes, lines: int) -> bytes:
    """Return ``head`` if it has exactly ``lines`` CRLF-terminated lines and no
    stray CR, LF or NUL; else ``LocalProtocolError`` (header injection)."""
    # The CR, LF and NUL of the head, in order, must be CRLF ``lines`` times,
    # and each of those CRs directly followed by its LF.
    if head.translate(None, ALL_BUT_CR_LF_NUL) != b"\r\n" * lines or head.count(b"\r\n") != lines:
        raise LocalProtocolError(
            "a header value, reason phrase or request target contains CR, LF or NUL; "
            "remove them (they would let the text forge headers or messages)"
        )
    return head


def status_line(status_code: object, reason: bytes) -> bytes:
    """``HTTP/1.1 200 OK\\r\\n``; the standard phrase when ``reason`` is empty.
    We always speak HTTP/1.1, to 1.0 peers too (RFC 9110 §6.2). ``object``:
    whatever an app sent as its status is judged here, in every build."""
    if type(status_code) is not int or not 100 <= status_code <= 999:
        raise LocalProtocolError(f"invalid status code {status_code!r}: use an int in 100-999")
    if not reason:
        line = _STATUS_LINES.get(status_code)
        if line is not None:
            return line
    return b"HTTP/1.1 %d %s\r\n" % (status_code, reason)


def request_line(method: bytes, target: bytes, http_version: bytes) -> bytes:
    """``GET /path HTTP/1.1\\r\\n`` after checking method, target and version."""
    if method not in _KNOWN_METHODS:
        if type(method) is not bytes or _TOKEN.fullmatch(method) is None:
            raise LocalProtocolError(f"invalid method {method!r}: a method is a token")
        if len(_KNOWN_METHODS) < 64:
            _KNOWN_METHODS.add(method)
    # Visible ASCII only (RFC 9112 §3.2): nothing is left once it is deleted.
    if not target or target.translate(None, _VISIBLE_ASCII):
        raise LocalProtocolError(
            f"invalid request target {target!r}: percent-encode spaces, controls and non-ASCII"
        )
    if http_version not in (b"1.1", b"1.0"):
        raise LocalProtocolError(f"cannot send HTTP/{http_version!r}: use b'1.1' or b'1.0'")
    return b"%s %s HTTP/%s\r\n" % (method, target, http_version)


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 9112 §7.1); ``b""`` for empty data, since
    an empty chunk would end the body."""
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: HeaderList) -> bytes:
    """The last chunk and the trailer section (RFC 9112 §7.1.2)."""
    if not trailers:
        return b"0\r\n\r\n"
    parts = [b"0\r\n"]
    fields: list[Any] = trailers  # judged here, whatever the caller passed
    for name, value in fields:
        if header_kind(name) != KIND_OTHER:
            raise LocalProtocolError(f"{name!r} is framing and cannot be sent as a trailer")
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    return check_head(b"".join(parts), len(trailers) + 2)


def error_response(status_code: int) -> bytes:
    """A complete ``Connection: close`` response for a protocol error.

    The body is one plain-text line naming the problem; the caller sends it
    and closes the connection.

    >>> error_response(400).splitlines()[0]
    b'HTTP/1.1 400 Bad Request'
    """
    reason = REASON_BYTES.get(status_code, b"Error")
    body = reason + b"\n"
    return b"%s%s%d\r\n%s\r\n\r\n%s" % (
        status_line(status_code, reason),
        b"content-type: text/plain; charset=utf-8\r\ncontent-length: ",
        len(body),
        b"connection: close",
        body,
    )
