"""Byte ranges: parsing the ``Range`` header and framing ``multipart/byteranges``.

Theory of operation
-------------------
``parse_range_header(value, size)`` turns ``bytes=0-99, -500`` into a sorted,
coalesced list of inclusive ``(start, end)`` pairs for a representation of
``size`` bytes, and it has three outcomes a caller must tell apart:

- ``None``: ignore the header and answer 200 with the whole representation.
  RFC 9110 §14.2 lets a server ignore a Range it does not understand, so a
  malformed header, an unknown unit and an abusive request (more than
  ``max_ranges`` ranges, or ranges that overlap so much that they would ask
  for more bytes than the file twice over) all land here rather than in an
  error: the client still gets a correct, complete answer.
- ``[]``: the header is well-formed but no range overlaps the representation:
  416 with ``Content-Range: bytes */size`` (RFC 9110 §15.5.17).
- a non-empty list: 206, one part or ``multipart/byteranges``.

Overlapping and adjacent ranges are merged (RFC 9110 §14.2 allows a server
to coalesce), which also takes the sting out of a ``0-,0-,0-...`` request.

``ByteRanges`` frames several ranges as ``multipart/byteranges``
(RFC 9110 §14.6): it knows each part's head and the exact total length in
advance, so the response carries a ``Content-Length`` and the file can be read
part by part without buffering.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

__all__ = ["MAX_RANGES", "ByteRanges", "content_range", "parse_range_header"]

#: More ranges than this in one request are ignored (a plain 200 is sent).
MAX_RANGES = 100

# RFC 9110 §14.1.1: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length.
_SPEC = re.compile(r"(?P<first>\d+)?-(?P<last>\d+)?")
# A header longer than this cannot be honest; ignore it rather than parse it.
_MAX_HEADER = 8192
# 19 digits reach 10**19, beyond any real file, and keep int() cheap.
_MAX_DIGITS = 19


def parse_range_header(
    value: str, size: int, *, max_ranges: int = MAX_RANGES
) -> list[tuple[int, int]] | None:
    """The satisfiable byte ranges of ``value`` for ``size`` bytes, inclusive, coalesced.

    ``None`` means ignore the header (send 200); ``[]`` means 416; see the
    module docstring.

    >>> parse_range_header("bytes=0-99, 50-149", 1000)
    [(0, 149)]
    >>> parse_range_header("bytes=-500", 1000)
    [(500, 999)]
    >>> parse_range_header("bytes=2000-", 1000)
    []
    >>> parse_range_header("lines=1-2", 1000) is None
    True
    """
    if len(value) > _MAX_HEADER:
        return None
    unit, sep, spec_list = value.partition("=")
    # Range units are case-insensitive (RFC 9110 §14.1).
    if not sep or unit.strip().lower() != "bytes":
        return None
    # RFC 9110 §5.6.1: a recipient accepts empty list elements.
    specs = [s.strip() for s in spec_list.split(",") if s.strip()]
    if not specs or len(specs) > max_ranges:
        return None
    ranges: list[tuple[int, int]] = []
    requested = 0
    for spec in specs:
        parsed = _parse_spec(spec, size)
        if parsed is None:
            return None  # one invalid range-spec makes the whole field invalid
        if parsed is _UNSATISFIABLE:
            continue
        start, end = parsed
        if end < start:
            # A suffix range of an empty representation: satisfiable, but no
            # Content-Range can express it, so the (empty) whole is sent.
            return None
        requested += end - start + 1
        ranges.append((start, end))
    # Asking for more than twice the file is overlap abuse, not a real need.
    if requested > 2 * size:
        return None
    return _coalesce(ranges)


_UNSATISFIABLE = (-1, -1)


def _parse_spec(spec: str, size: int) -> tuple[int, int] | None:
    match = _SPEC.fullmatch(spec)
    if match is None:
        return None
    first, last = match["first"], match["last"]
    if first is None and last is None:
        return None
    if (first and len(first) > _MAX_DIGITS) or (last and len(last) > _MAX_DIGITS):
        return None
    if first is None:
        # Suffix range: the last N bytes; a zero suffix is unsatisfiable (RFC 9110 §14.1.1).
        assert last is not None
        length = int(last)
        if length == 0:
            return _UNSATISFIABLE
        return (max(size - length, 0), size - 1)
    start = int(first)
    if last is not None and int(last) < start:
        return None  # last-pos < first-pos: invalid, not merely unsatisfiable
    if start >= size:
        return _UNSATISFIABLE
    end = size - 1 if last is None else min(int(last), size - 1)
    return (start, end)


def _coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def content_range(start: int, end: int, size: int) -> str:
    """The ``Content-Range`` value of one part (RFC 9110 §14.4).

    >>> content_range(0, 99, 1000)
    'bytes 0-99/1000'
    """
    return f"bytes {start}-{end}/{size}"


class ByteRanges:
    """The ``multipart/byteranges`` framing of several ranges (RFC 9110 §14.6).

    >>> body = ByteRanges([(0, 1), (5, 6)], 10, "text/plain", boundary="XYZ")
    >>> body.content_type
    'multipart/byteranges; boundary=XYZ'
    >>> data = b"0123456789"
    >>> out = b"".join(h + data[s : e + 1] for h, s, e in body.parts()) + body.trailer
    >>> len(out) == body.content_length
    True
    """

    __slots__ = ("_heads", "boundary", "content_length", "ranges", "size")

    def __init__(
        self,
        ranges: list[tuple[int, int]],
        size: int,
        content_type: str,
        *,
        boundary: str | None = None,
    ) -> None:
        self.ranges = ranges
        self.size = size
        # 32 hex digits never occur by chance in the parts they separate.
        self.boundary = boundary or secrets.token_hex(16)
        self._heads = [
            (
                f"--{self.boundary}\r\n"
                f"Content-Type: {content_type}\r\n"
                f"Content-Range: {content_range(start, end, size)}\r\n\r\n"
            ).encode("latin-1")
            for start, end in ranges
        ]
        # Every part but the first is preceded by the CRLF that ends the one before it.
        self._heads[1:] = [b"\r\n" + head for head in self._heads[1:]]
        self.content_length = (
            sum(len(h) for h in self._heads)
            + sum(end - start + 1 for start, end in ranges)
            + len(self.trailer)
        )

    @property
    def content_type(self) -> str:
        """The response's ``Content-Type``."""
        return f"multipart/byteranges; boundary={self.boundary}"

    @property
    def trailer(self) -> bytes:
        """The closing delimiter, sent after the last part's data."""
        return f"\r\n--{self.boundary}--\r\n".encode("latin-1")

    def parts(self) -> Iterator[tuple[bytes, int, int]]:
        """``(head, start, end)`` per part: send ``head``, then bytes ``start..end``."""
        for head, (start, end) in zip(self._heads, self.ranges, strict=True):
            yield head, start, end
