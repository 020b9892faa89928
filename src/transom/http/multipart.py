"""Streaming ``multipart/form-data`` (RFC 7578 over RFC 2046 §5.1): a decoder and an encoder.

Theory of operation (decoder)
-----------------------------
A body is a preamble, then parts, each introduced by a delimiter line, then
a close delimiter and an epilogue::

    preamble --B[padding]CRLF headers CRLF CRLF data CRLF--B[padding]CRLF ... data CRLF--B--epilogue

``MultipartParser.feed(chunk)`` appends the chunk to a small carried-over
tail and walks a four-state machine (PREAMBLE -> DELIMITER -> HEADERS ->
BODY -> DELIMITER ... -> EPILOGUE). In BODY, the one state that sees most
of the bytes, it runs one ``bytes.rfind`` for ``CRLF--B`` over the whole
buffer (CPython's reverse search learns that a long binary chunk does not
hold the delimiter about twice as fast as ``find``; ``find`` then locates
the first one only when there is one) and hands everything before it to
the caller as a single ``PartData``; when the delimiter is not there,
everything goes out but a true prefix of the delimiter at the very end,
which is kept. ``feed`` takes that case (the middle of
a part) before anything else. So a part costs one C-level search per chunk
and usually no copy, never a Python loop over its bytes, and the memory
held is bounded by the delimiter length (or ``max_header_bytes`` while
reading headers).

Every quantity a peer controls has a limit (``MultipartLimits``); a breach
raises ``MultipartError`` with ``status_code`` 413, malformed input one with
400. The preamble and the epilogue are ignored (RFC 2046 §5.1.1).

Part names and filenames are decoded from UTF-8 (what browsers send) and
WHATWG's ``%22``/``%0D``/``%0A`` escapes are undone; ``filename*=`` (RFC
5987) wins over ``filename``. Backslashes are literal except before ``"``
or another backslash (an RFC 9110 quoted-pair, as some clients escape), so
Windows paths survive. The filename is given *as sent*: it may hold
``..`` or path separators, and making a safe file name of it is the
caller's job (the framework's ``UploadFile`` does).

>>> parser = MultipartParser(b"B")
>>> events = parser.feed(
...     b'--B\\r\\nContent-Disposition: form-data; name="a"\\r\\n\\r\\nhello\\r\\n--B--\\r\\n'
... )
>>> events
[PartBegin(name='a', filename=None, content_type=None), PartData(b'hello'), PartEnd()]
>>> parser.close()
[]
"""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, NoReturn, TypeAlias

from transom.exceptions import MultipartError
from transom.http.headers import Headers, parse_options_header

__all__ = [
    "MultipartEncoder",
    "MultipartEvent",
    "MultipartLimits",
    "MultipartParser",
    "PartBegin",
    "PartData",
    "PartEnd",
    "parse_boundary",
]

# RFC 2046 §5.1.1: bchars, 1-70 of them, the last not a space.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_PADDING = 1024  # transport padding after a delimiter (RFC 2046 §5.1.1 LWSP)
# The Content-Disposition every browser sends (WHATWG HTML escapes '"' as %22, so a
# quoted value never holds a quote or a backslash to unescape). It reads the same as
# parse_options_header() would, several times faster; anything else goes to that.
_SIMPLE_DISPOSITION = re.compile(r'form-data; name="([^"\\]*)"(?:; filename="([^"\\]*)")?')


@dataclass(frozen=True, slots=True)
class MultipartLimits:
    """Bounds on what a multipart body may hold (None: no limit).

    ``max_part_size`` bounds a file part (one with a filename),
    ``max_field_size`` any other part, ``max_header_bytes`` the header
    block of one part, ``max_total`` the whole body.
    """

    max_parts: int = 1000
    max_header_bytes: int = 16 * 1024
    max_part_size: int | None = None
    max_field_size: int | None = 1024 * 1024
    max_total: int | None = None


def parse_boundary(content_type: str | bytes) -> bytes:
    """The boundary of a ``multipart/*`` Content-Type, checked (RFC 2046 §5.1.1).

    ``MultipartError`` (400) when the type is not multipart or the boundary
    is missing or invalid.

    >>> parse_boundary('multipart/form-data; boundary="----abc"')
    b'----abc'
    """
    media_type, params = parse_options_header(content_type)
    if not media_type.startswith("multipart/"):
        raise MultipartError(f"expected a multipart content type, got {media_type!r}")
    boundary = params.get("boundary")
    if boundary is None:
        raise MultipartError(f"{media_type} without a boundary parameter")
    return _check_boundary(boundary)


def _check_boundary(boundary: str | bytes) -> bytes:
    if isinstance(boundary, str):
        # bchars are all ASCII; anything else is no boundary.
        raw = boundary.encode("ascii") if boundary.isascii() else b"\xff"
    else:
        raw = boundary
    if _BOUNDARY.fullmatch(raw) is None:
        raise MultipartError(
            f"invalid multipart boundary {boundary!r}: 1-70 letters, digits or '()+_,-./:=? "
            "(RFC 2046 §5.1.1)"
        )
    return raw


# -- events -----------------------------------------------------------------------------


class PartBegin:
    """The start of a part: its headers and what its Content-Disposition says."""

    __slots__ = ("content_type", "filename", "headers", "name")

    def __init__(
        self, headers: Headers, name: str, filename: str | None, content_type: str | None
    ) -> None:
        self.headers = headers
        self.name = name
        self.filename = filename
        self.content_type = content_type

    def __repr__(self) -> str:
        return (
            f"PartBegin(name={self.name!r}, filename={self.filename!r}, "
            f"content_type={self.content_type!r})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PartBegin)
            and self.headers == other.headers
            and (self.name, self.filename, self.content_type)
            == (other.name, other.filename, other.content_type)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class PartData:
    """A piece of the current part's content."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"PartData({self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartData) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class PartEnd:
    """The end of the current part."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "PartEnd()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartEnd)

    __hash__ = None  # type: ignore[assignment]  # value object


MultipartEvent: TypeAlias = PartBegin | PartData | PartEnd
_PART_END = PartEnd()

# -- the decoder ---------------------------------------------------------------------------

_PREAMBLE, _DELIMITER, _HEADERS, _BODY, _EPILOGUE = range(5)


def _form_name(raw: str) -> str:
    # WHATWG HTML "multipart/form-data encoding algorithm": senders escape these three.
    if "%" not in raw:
        return raw
    return raw.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


class MultipartParser:
    """A push parser: ``feed(chunk) -> events``, then ``close()``.

    >>> parser = MultipartParser("B", MultipartLimits(max_parts=10))
    """

    __slots__ = (
        "_buffer",
        "_dash_boundary",
        "_delimiter",
        "_limits",
        "_part_limit",
        "_part_name",
        "_part_size",
        "_parts",
        "_state",
        "_total",
    )

    def __init__(self, boundary: str | bytes, limits: MultipartLimits | None = None) -> None:
        raw = _check_boundary(boundary)
        self._dash_boundary = b"--" + raw
        self._delimiter = b"\r\n--" + raw
        self._limits = limits or MultipartLimits()
        self._buffer = b""
        self._state = _PREAMBLE
        self._parts = 0
        self._total = 0
        self._part_name = ""
        self._part_size = 0
        self._part_limit: int | None = None

    def feed(self, data: bytes) -> list[MultipartEvent]:
        """Parse the next chunk of the body; the events it completes, in order."""
        if not data or self._state == _EPILOGUE:
            return []
        self._total += len(data)
        max_total = self._limits.max_total
        if max_total is not None and self._total > max_total:
            raise MultipartError(f"multipart body over {max_total} bytes", status_code=413)
        buf = self._buffer + data if self._buffer else bytes(data)
        events: list[MultipartEvent] = []
        pos = 0
        if self._state == _BODY:
            # The common case, the middle of a part, needs only to know the
            # delimiter is absent. CPython's reverse search (Horspool) answers
            # that about twice as fast as its forward one, which switches to the
            # two-way algorithm on long inputs; find() runs only when it is there.
            last = buf.rfind(self._delimiter)
            if last == -1:
                return self._middle(buf)
            found = buf.find(self._delimiter, 0, last + len(self._delimiter))
            pos = self._part_end(buf, 0, found, events)
        progress = True
        while progress:
            state = self._state
            if state == _BODY:
                pos, progress = self._body(buf, pos, events)
            elif state == _DELIMITER:
                pos, progress = self._after_delimiter(buf, pos)
            elif state == _HEADERS:
                pos, progress = self._headers(buf, pos, events)
            else:  # _PREAMBLE; _EPILOGUE is only entered with progress False
                pos, progress = self._preamble(buf, pos)
        self._buffer = buf[pos:]
        return events

    def close(self) -> list[MultipartEvent]:
        """Finish; ``MultipartError`` (400) if the close delimiter never came."""
        if self._state == _EPILOGUE:
            return []
        where = {
            _PREAMBLE: "before the first boundary",
            _DELIMITER: "inside a boundary line",
            _HEADERS: "inside a part's headers",
            _BODY: f"inside part {self._part_name!r}",
        }[self._state]
        raise MultipartError(f"multipart body ended {where}, without the closing boundary")

    # -- states: each returns (new position, whether to go on) -------------------------

    def _preamble(self, buf: bytes, pos: int) -> tuple[int, bool]:
        found = buf.find(self._dash_boundary, pos)
        if found == -1:
            # Keep what could be the start of the boundary; drop the rest (RFC 2046 §5.1.1).
            return max(pos, len(buf) - len(self._dash_boundary) + 1), False
        self._state = _DELIMITER
        return found + len(self._dash_boundary), True

    def _after_delimiter(self, buf: bytes, pos: int) -> tuple[int, bool]:
        if len(buf) - pos < 2:
            return pos, False
        if buf.startswith(b"--", pos):
            self._state = _EPILOGUE  # the close delimiter; the epilogue is ignored
            return len(buf), False
        end = buf.find(b"\r\n", pos)
        if end == -1:
            if len(buf) - pos > _MAX_PADDING:
                raise MultipartError("multipart boundary line is too long")
            return pos, False
        if buf[pos:end].strip(b" \t"):
            raise MultipartError("multipart boundary is followed by unexpected bytes")
        self._state = _HEADERS
        return end + 2, True

    def _headers(self, buf: bytes, pos: int, events: list[MultipartEvent]) -> tuple[int, bool]:
        if buf.startswith(b"\r\n", pos):
            raise MultipartError("multipart part has no Content-Disposition header")
        end = buf.find(b"\r\n\r\n", pos)
        limit = self._limits.max_header_bytes
        if end == -1 or end - pos > limit:
            if len(buf) - pos > limit:
                raise MultipartError(f"multipart part headers over {limit} bytes", status_code=413)
            return pos, False
        events.append(self._begin(_parse_header_block(buf[pos:end])))
        self._state = _BODY
        return end + 4, True

    def _begin(self, headers: Headers) -> PartBegin:
        self._parts += 1
        if self._parts > self._limits.max_parts:
            raise MultipartError(
                f"multipart body has more than {self._limits.max_parts} parts", status_code=413
            )
        raw = content_type = None  # the first of each, read in one pass
        for key, value in headers.raw:
            if key == b"content-disposition":
                raw = value if raw is None else raw
            elif key == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")  # as Headers.get() decodes
        if raw is None:
            raise MultipartError("multipart part has no Content-Disposition header")
        try:
            disposition = raw.decode("utf-8")
        except UnicodeDecodeError:
            disposition = raw.decode("latin-1")
        simple = _SIMPLE_DISPOSITION.fullmatch(disposition)
        params: dict[str, str]
        if simple is not None:  # what browsers and most clients send: no parser needed
            params = {"name": simple[1]}
            if simple[2] is not None:
                params["filename"] = simple[2]
        else:
            _, params = parse_options_header(disposition)
        if "name" not in params:
            raise MultipartError("multipart part's Content-Disposition has no name")
        name = _form_name(params["name"])
        filename = params.get("filename")
        if filename is not None:
            filename = _form_name(filename)
        self._part_name = name
        self._part_size = 0
        self._part_limit = (
            self._limits.max_part_size if filename is not None else self._limits.max_field_size
        )
        return PartBegin(headers, name, filename, content_type)

    def _middle(self, buf: bytes) -> list[MultipartEvent]:
        """``buf`` holds no delimiter: hand it all out but a possible delimiter prefix."""
        # The prefix starts with the CR of its CRLF: keep from the first CR among
        # the last len(delimiter) - 1 bytes that starts a true delimiter prefix.
        # Checking the prefix (not just the CR) matters: a CR near the end of a
        # chunk of binary data is common (one chunk in eight for random bytes),
        # and keeping it would cost a copy of the chunk now and another when
        # the next one is joined to it.
        delimiter = self._delimiter
        cr = buf.find(b"\r", max(0, len(buf) - len(delimiter) + 1))
        while cr != -1 and not delimiter.startswith(buf[cr:]):
            cr = buf.find(b"\r", cr + 1)
        if cr == -1:
            self._buffer = b""
        else:
            self._buffer = buf[cr:]
            buf = buf[:cr]
        if not buf:
            return []
        # _data(), inlined: this runs once per chunk of every large part.
        self._part_size += len(buf)
        limit = self._part_limit
        if limit is not None and self._part_size > limit:
            self._over_limit(limit)
        return [PartData(buf)]

    def _body(self, buf: bytes, pos: int, events: list[MultipartEvent]) -> tuple[int, bool]:
        delimiter = self._delimiter
        last = buf.rfind(delimiter, pos)  # see feed(): absence is cheaper to learn backwards
        if last == -1:
            self._buffer = b""
            events += self._middle(buf[pos:])
            return len(buf) - len(self._buffer), False
        found = buf.find(delimiter, pos, last + len(delimiter))
        return self._part_end(buf, pos, found, events), True

    def _part_end(self, buf: bytes, pos: int, found: int, events: list[MultipartEvent]) -> int:
        """The delimiter is at ``found``: the part's last data, its end; returns where next."""
        if found > pos:
            self._data(buf[pos:found], events)
        events.append(_PART_END)
        self._state = _DELIMITER
        return found + len(self._delimiter)

    def _data(self, chunk: bytes, events: list[MultipartEvent]) -> list[MultipartEvent]:
        self._part_size += len(chunk)
        limit = self._part_limit
        if limit is not None and self._part_size > limit:
            self._over_limit(limit)
        events.append(PartData(chunk))
        return events

    def _over_limit(self, limit: int) -> NoReturn:
        raise MultipartError(
            f"multipart part {self._part_name!r} is over {limit} bytes", status_code=413
        )


def _parse_header_block(block: bytes) -> Headers:
    """``name: value`` lines (RFC 7578 §4.8 allows no folding); names lower-cased."""
    fields: list[tuple[bytes, bytes]] = []
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        # RFC 9112 §5.1: no whitespace around a field name; RFC 7578 §4.8: no folding.
        if not colon or _HEADER_NAME.fullmatch(name) is None:
            raise MultipartError(f"malformed multipart part header line {line[:100]!r}")
        fields.append((name.lower(), value.strip(b" \t")))
    return Headers(raw=fields)


# -- the encoder ---------------------------------------------------------------------------

FileContent: TypeAlias = bytes | str | IO[bytes]
FileSpec: TypeAlias = tuple[str, FileContent] | tuple[str, FileContent, str | None]
_CHUNK = 64 * 1024


def _quote_form_name(text: str) -> str:
    # WHATWG HTML: escape '"', CR and LF in names and filenames; send the rest as UTF-8.
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _tell(fileobj: IO[bytes]) -> int | None:
    """Where a seekable file stands, or None when it cannot seek."""
    try:
        return fileobj.tell() if fileobj.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def _file_size(fileobj: IO[bytes], start: int) -> int:
    position = fileobj.tell()
    end = fileobj.seek(0, 2)
    fileobj.seek(position)
    return max(0, end - start)


class MultipartEncoder:
    """A ``multipart/form-data`` body built from fields and files, streamed in chunks.

    ``files`` items are ``(name, (filename, content[, content_type]))``,
    content being bytes, str or a binary file object (read 64 KiB at a time
    while iterating, from where it stood when the encoder was built, so the
    body can be iterated again for a retry when the file is seekable). A
    missing content type is guessed from the filename.

    >>> enc = MultipartEncoder([("a", "1")], [("f", ("x.txt", b"hi"))], boundary="B")
    >>> enc.content_type, enc.content_length
    ('multipart/form-data; boundary=B', 156)
    """

    def __init__(
        self,
        fields: Iterable[tuple[str, str | bytes]] = (),
        files: Iterable[tuple[str, FileSpec]] = (),
        boundary: str | None = None,
    ) -> None:
        self.boundary = boundary if boundary is not None else secrets.token_hex(16)
        raw = _check_boundary(self.boundary)
        self._pieces: list[bytes | IO[bytes]] = []
        self._starts: dict[int, int] = {}
        for name, value in fields:
            self._pieces.append(self._head(raw, name, None, None))
            self._pieces.append(value.encode("utf-8") if isinstance(value, str) else value)
            self._pieces.append(b"\r\n")
        for name, spec in files:
            filename, content = spec[0], spec[1]
            content_type = spec[2] if len(spec) > 2 else None
            if content_type is None:
                content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            self._pieces.append(self._head(raw, name, filename, content_type))
            if isinstance(content, str):
                content = content.encode("utf-8")
            elif not isinstance(content, bytes):
                start = _tell(content)
                if start is not None:
                    self._starts[id(content)] = start
            self._pieces.append(content)
            self._pieces.append(b"\r\n")
        self._pieces.append(b"--" + raw + b"--\r\n")

    @staticmethod
    def _head(boundary: bytes, name: str, filename: str | None, content_type: str | None) -> bytes:
        lines = f'Content-Disposition: form-data; name="{_quote_form_name(name)}"'
        if filename is not None:
            lines += f'; filename="{_quote_form_name(filename)}"'
        if content_type is not None:
            if any(c in content_type for c in "\r\n\x00"):
                raise ValueError(f"content type {content_type!r} contains CR, LF or NUL")
            lines += f"\r\nContent-Type: {content_type}"
        return b"--" + boundary + b"\r\n" + lines.encode("utf-8") + b"\r\n\r\n"

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value, boundary included."""
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def content_length(self) -> int | None:
        """The body's size, or None when a file object's size cannot be known."""
        total = 0
        for piece in self._pieces:
            if isinstance(piece, bytes):
                total += len(piece)
                continue
            start = self._starts.get(id(piece))
            if start is None:
                return None
            total += _file_size(piece, start)
        return total

    def __iter__(self) -> Iterator[bytes]:
        pending = bytearray()
        for piece in self._pieces:
            if isinstance(piece, bytes):
                pending += piece
                if len(pending) >= _CHUNK:
                    yield from _slices(bytes(pending))
                    pending.clear()
                continue
            if id(piece) in self._starts:
                piece.seek(self._starts[id(piece)])
            while chunk := piece.read(_CHUNK):
                pending += chunk
                if len(pending) >= _CHUNK:
                    yield from _slices(bytes(pending))
                    pending.clear()
        if pending:
            yield bytes(pending)


def _slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), _CHUNK):
        yield data[start : start + _CHUNK]
