"""Streaming decoders for response bodies: Content-Encoding, text, lines.

``Content-Encoding`` lists the codings in the order they were applied
(RFC 9110 §8.4), so they are undone in reverse. ``gzip`` and ``deflate``
use zlib (``deflate`` is meant to be zlib-wrapped but some servers send raw
deflate; both are accepted); ``br`` needs the optional ``brotli`` package,
and is only advertised in ``Accept-Encoding`` when it is installed.
"""

from __future__ import annotations

import codecs
import zlib
from typing import Any, Protocol

from transom.exceptions import DecodingError

try:  # optional extra: transom[brotli]
    import brotli
except ImportError:  # pragma: no cover - exercised only without the extra
    brotli = None

__all__ = ["ACCEPT_ENCODING", "ContentDecoder", "LineDecoder", "TextDecoder", "content_decoder"]

ACCEPT_ENCODING = "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class ContentDecoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class IdentityDecoder:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class ZlibDecoder:
    """gzip (``wbits=16+MAX``) or deflate: zlib-wrapped, with a fallback to raw."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._first = True
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)

    def decode(self, data: bytes) -> bytes:
        first, self._first = self._first, False
        try:
            return bytes(self._obj.decompress(data))
        except zlib.error as exc:
            if first and not self._gzip:  # raw deflate, no zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(data)
            raise DecodingError(
                f"invalid {'gzip' if self._gzip else 'deflate'} body: {exc}"
            ) from exc

    def flush(self) -> bytes:
        try:
            return bytes(self._obj.flush())
        except zlib.error as exc:  # pragma: no cover - zlib rarely fails on flush
            raise DecodingError(f"truncated compressed body: {exc}") from exc


class BrotliDecoder:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        try:
            return bytes(self._obj.process(data))
        except brotli.error as exc:
            raise DecodingError(f"invalid br body: {exc}") from exc

    def flush(self) -> bytes:
        return b""


class MultiDecoder:
    def __init__(self, decoders: list[ContentDecoder]) -> None:
        self._decoders = decoders  # already in the order to apply

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush()
        return data


def _one(coding: str) -> ContentDecoder | None:
    if coding in ("gzip", "x-gzip"):
        return ZlibDecoder(gzip=True)
    if coding == "deflate":
        return ZlibDecoder(gzip=False)
    if coding == "br" and brotli is not None:
        return BrotliDecoder()
    if coding == "identity":
        return IdentityDecoder()
    return None


def content_decoder(content_encoding: str | None) -> ContentDecoder | None:
    """A decoder for the header value, ``None`` when there is nothing to undo.

    An unknown coding leaves the body as received (the caller still has the
    header to see why).
    """
    if not content_encoding:
        return None
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    decoders = [_one(c) for c in reversed(codings)]
    if not decoders or any(d is None for d in decoders):
        return None
    found = [d for d in decoders if d is not None]
    return found[0] if len(found) == 1 else MultiDecoder(found)


class TextDecoder:
    """Incremental bytes -> str: a character split across chunks is kept whole."""

    def __init__(self, encoding: str) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def decode(self, data: bytes) -> str:
        return str(self._decoder.decode(data))

    def flush(self) -> str:
        return str(self._decoder.decode(b"", True))


class LineDecoder:
    """str chunks -> lines without their terminators (``\\n``, ``\\r\\n`` or ``\\r``)."""

    def __init__(self) -> None:
        self._pending = ""

    def decode(self, text: str) -> list[str]:
        text = self._pending + text
        if text.endswith("\r"):  # may be the first half of a \r\n
            self._pending, text = "\r", text[:-1]
            if not text:
                return []
        else:
            self._pending = ""
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith(("\n", "\r")):
            self._pending = lines.pop() + self._pending
        return [line.rstrip("\r\n") for line in lines]

    def flush(self) -> list[str]:
        pending, self._pending = self._pending, ""
        return [pending.rstrip("\r\n")] if pending else []
