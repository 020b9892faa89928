"""Request bodies: what ``content=``, ``data=``, ``files=`` and ``json=`` become.

A body is either ``bytes`` (sent with ``Content-Length`` in the same write as
the head) or a ``BodyStream`` that produces chunks on demand: from a file
object (read in 64 KiB pieces), a sync or async iterator, or the multipart
encoder. A stream of unknown length goes out chunked (RFC 9112 §7.1).
"""

from __future__ import annotations

import io
import json as jsonlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

from transom.exceptions import StreamConsumed

__all__ = ["BodyStream", "RequestBody", "encode_body"]

_CHUNK = 65536


class BodyStream:
    """A request body produced piece by piece.

    ``length`` is the byte count when known (then sent as Content-Length);
    ``rewind()`` restarts it for a redirect or an auth retry, when it can.
    """

    __slots__ = ("_consumed", "_reiterable", "_source", "_start", "length")

    def __init__(self, source: Any, length: int | None = None, *, reiterable: bool = False) -> None:
        self._source = source
        self._reiterable = reiterable or isinstance(source, list | tuple)
        self._consumed = False
        self._start: int | None = None
        self.length = length
        if hasattr(source, "read"):
            self._start = _tell(source)
            if length is None:
                self.length = _remaining(source, self._start)

    @property
    def rewindable(self) -> bool:
        source = self._source
        return (
            self._start is not None or isinstance(source, list | tuple) or hasattr(source, "rewind")
        )

    def rewind(self) -> bool:
        """Make the stream readable from the start again; False if it cannot be."""
        if not self._consumed:
            return True
        if self._start is not None:
            self._source.seek(self._start)
        elif not self._reiterable:
            return False
        self._consumed = False
        return True

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._consumed:
            raise StreamConsumed(
                "this request body was already sent and cannot be rewound; "
                "pass bytes or a seekable file to resend it"
            )
        self._consumed = True
        source = self._source
        if hasattr(source, "read"):
            while chunk := source.read(_CHUNK):
                yield chunk.encode() if isinstance(chunk, str) else chunk
        elif isinstance(source, AsyncIterable):
            async for chunk in source:
                yield chunk.encode() if isinstance(chunk, str) else chunk
        else:
            for chunk in source:
                yield chunk.encode() if isinstance(chunk, str) else chunk


def _tell(source: Any) -> int | None:
    try:
        return int(source.tell())
    except (AttributeError, OSError, io.UnsupportedOperation):
        return None


def _remaining(source: Any, start: int | None) -> int | None:
    if start is None:
        return None
    try:
        size = os.fstat(source.fileno()).st_size
    except (AttributeError, OSError, io.UnsupportedOperation):
        if isinstance(source, io.BytesIO):
            return len(source.getbuffer()) - start
        return None
    return max(size - start, 0)


RequestBody = bytes | BodyStream


def encode_body(
    *,
    content: Any = None,
    data: Any = None,
    files: Any = None,
    json: Any = None,
) -> tuple[RequestBody, str | None]:
    """The body and the Content-Type it implies (``None``: leave it to the caller)."""
    if content is not None:
        return _raw(content), None
    if files:
        from transom.client._multipart import encode_multipart

        body, content_type = encode_multipart(data, files)
        return body, content_type
    if json is not None:
        text = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode(), "application/json"
    if data is None:
        return b"", None
    if isinstance(data, Mapping):
        from transom.http.url import urlencode

        pairs = [
            (str(k), _form_value(v))
            for k, vs in data.items()
            for v in (vs if isinstance(vs, list | tuple) else [vs])
        ]
        return urlencode(pairs).encode("ascii"), "application/x-www-form-urlencoded"
    return _raw(data), None


def _form_value(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _raw(content: Any) -> RequestBody:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, bytearray | memoryview):
        return bytes(content)
    if hasattr(content, "read") or isinstance(content, Iterable | AsyncIterable):
        return BodyStream(content)
    raise TypeError(
        f"cannot send a {type(content).__name__} as a body: give bytes, str, a file "
        "object, or a (sync or async) iterator of bytes"
    )
