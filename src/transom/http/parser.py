"""The parser interface and the strict pure-Python parser (the reference).

A parser turns one complete head into tokens; it decides nothing about
framing. ``connection.py`` owns the receive buffer, finds where a head ends
(the first CRLFCRLF), enforces the size limits, and hands the head to the
parser as ``(buffer, start, end)`` with ``buffer[start:end]`` the start line
and field lines joined by CRLF (no final CRLF). The parser returns:

* ``parse_request_head -> (method, target, version, headers)``
* ``parse_response_head -> (version, status_code, reason, headers)``

where ``version`` is the two digits ``b"1.1"`` (the connection processes a
higher HTTP/1 minor version as 1.1 and answers other versions with 505),
``headers`` is ``[(lower-cased name, value), ...]`` with the value's
surrounding whitespace removed. Anything malformed raises
``RemoteProtocolError(status_code=400)``.

Body decoding (Content-Length, chunked, close-delimited) and every rule
that reads header *values* (Host, Content-Length, Transfer-Encoding,
Connection, Expect) live in the connection, so the two backends cannot
frame a message differently: they only tokenise heads. Trailer sections are
parsed by ``parse_fields`` below for both backends.

What this parser accepts (RFC 9112 §3, §5; RFC 9110 §5.5, §5.6.2):

* ``method SP request-target SP HTTP/d.d``: the method a case-sensitive
  token, the target visible ASCII, exactly one space between the parts.
* ``field-name ":" OWS field-value OWS``: the name a token with no space
  before the colon; the value visible ASCII, obs-text, SP and HTAB only. So
  obs-fold (a line starting with whitespace), bare CR, bare LF and NUL all
  fail, as RFC 9112 §5.2 and §2.2 ask of a server.
"""

from __future__ import annotations

import re
from typing import Protocol

from transom.exceptions import RemoteProtocolError
from transom.http.events import HeaderList

__all__ = [
    "HeadParser",
    "PythonParser",
    "RequestHead",
    "ResponseHead",
    "parse_fields",
    "split_target",
]

RequestHead = tuple[bytes, bytes, bytes, HeaderList]
ResponseHead = tuple[bytes, int, bytes, HeaderList]


class HeadParser(Protocol):
    """What a parser backend provides; see the module docstring."""

    name: str

    def parse_request_head(self, buffer: bytes, start: int, end: int) -> RequestHead: ...

    def parse_response_head(self, buffer: bytes, start: int, end: int) -> ResponseHead: ...

    def body_follows(self) -> None:
        """The request head just parsed announced a body, which the
        connection decodes; a parser that keeps state forgets that head."""


_TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# field-value with OWS around it; obs-text (0x80-0xFF) is allowed, controls are not.
_FIELDS = rb"((?:\r\n" + _TCHAR + rb"+:[\t\x20-\x7e\x80-\xff]*)*)"
_REQUEST_HEAD = re.compile(rb"(" + _TCHAR + rb"+) ([\x21-\x7e]+) HTTP/([0-9]\.[0-9])" + _FIELDS)
_RESPONSE_HEAD = re.compile(
    rb"HTTP/([0-9]\.[0-9]) ([1-9][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?" + _FIELDS
)
_FIELD_LINE = _TCHAR + rb"+:[\t\x20-\x7e\x80-\xff]*"
_FIELD_BLOCK = re.compile(_FIELD_LINE + rb"(?:\r\n" + _FIELD_LINE + rb")*")


def _split_fields(fields: bytes) -> HeaderList:
    # ``fields`` is "" or "\r\nname:value\r\nname:value", already validated.
    if not fields:
        return []
    headers = []
    for line in fields[2:].split(b"\r\n"):
        name, _, value = line.partition(b":")
        headers.append((name.lower(), value.strip(b" \t")))
    return headers


def _malformed(what: str, buffer: bytes, start: int, end: int) -> RemoteProtocolError:
    # Name the first offending line, shortened: the message may be logged.
    first_bad = buffer[start:end]
    return RemoteProtocolError(f"malformed {what}: {first_bad[:80]!r}", status_code=400)


class PythonParser:
    """The strict reference parser: one regular expression checks a whole head."""

    __slots__ = ()

    name = "python"

    def parse_request_head(self, buffer: bytes, start: int, end: int) -> RequestHead:
        match = _REQUEST_HEAD.fullmatch(buffer, start, end)
        if match is None:
            raise _malformed("request head", buffer, start, end)
        method, target, version, fields = match.groups()
        return method, target, version, _split_fields(fields)

    def parse_response_head(self, buffer: bytes, start: int, end: int) -> ResponseHead:
        match = _RESPONSE_HEAD.fullmatch(buffer, start, end)
        if match is None:
            raise _malformed("response head", buffer, start, end)
        version, status, reason, fields = match.groups()
        return version, int(status), (reason or b"").strip(b" \t"), _split_fields(fields)

    def body_follows(self) -> None:
        pass  # stateless


def parse_fields(buffer: bytes, start: int, end: int) -> HeaderList:
    """Field lines ``buffer[start:end]``, joined by CRLF -> headers; used for
    trailer sections (RFC 9112 §7.1.2) by both backends.

    >>> parse_fields(b"Checksum: abc\r\nX: 1", 0, 18)
    [(b'checksum', b'abc'), (b'x', b'1')]
    """
    if _FIELD_BLOCK.fullmatch(buffer, start, end) is None:
        raise _malformed("trailer section", buffer, start, end)
    return _split_fields(b"\r\n" + buffer[start:end])


def split_target(target: bytes) -> tuple[bytes | None, bytes | None, bytes, bytes]:
    """Split a request target into ``(scheme, authority, path, query)``
    (RFC 9112 §3.2). Absent parts are ``None`` (scheme, authority) or ``b""``.

    >>> split_target(b"/a/b?x=1")
    (None, None, b'/a/b', b'x=1')
    >>> split_target(b"http://example.com:8080/x?y")
    (b'http', b'example.com:8080', b'/x', b'y')
    >>> split_target(b"http://example.com")
    (b'http', b'example.com', b'/', b'')
    >>> split_target(b"example.com:443")     # authority-form (CONNECT)
    (None, b'example.com:443', b'', b'')
    >>> split_target(b"*")                   # asterisk-form (OPTIONS)
    (None, None, b'*', b'')

    A server gives the authority of an absolute-form target precedence over
    the Host header (RFC 9112 §3.2.2).
    """
    scheme: bytes | None = None
    authority: bytes | None = None
    if target[:1] != b"/" and target != b"*":
        scheme_part, sep, rest = target.partition(b"://")
        if sep:
            scheme = scheme_part.lower()
            slash = rest.find(b"/")
            query_mark = rest.find(b"?")
            cut = min(i for i in (slash, query_mark, len(rest)) if i >= 0)
            authority, target = rest[:cut], rest[cut:]
            if target[:1] != b"/":
                target = b"/" + target
        else:
            return None, target, b"", b""
    path, _, query = target.partition(b"?")
    return scheme, authority, path, query
