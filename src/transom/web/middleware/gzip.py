"""Response compression: gzip, and Brotli when the ``brotli`` package is installed.

Theory of operation
-------------------
``CompressionMiddleware`` holds back each response's start message until the
first body message shows what kind of body it is:

- a whole body (one message) shorter than ``minimum_size`` goes out as is;
- a whole body is compressed in one go and gets an exact ``Content-Length``;
- a streamed body (``more_body``) is compressed message by message, each
  flushed (``Z_SYNC_FLUSH``) so the client sees data as soon as the app sends
  it, and loses its ``Content-Length`` (the server then uses chunked framing).

Nothing is touched when the client does not accept a coding we have
(``choose_encoding``: q-values honoured, ``q=0`` refuses), when the response
already has a ``Content-Encoding`` or a ``Content-Range``, carries no body,
is an event stream (``text/event-stream``: compression buffers would delay
events), or is a type that is compressed already (images, audio, video,
archives). A response that could be compressed gets ``Vary: Accept-Encoding``
whether or not this client asked, so that caches keep the variants apart.
A compressed response's strong ``ETag`` becomes weak (the bytes are no longer
the identity representation's, RFC 9110 §8.8.3) and ``Accept-Ranges`` is
dropped, since byte offsets into a compressed stream are not offered.

``GZipMiddleware`` is the same middleware limited to gzip.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, Protocol

from transom._types import ASGIApp, Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.http.headers import Headers
from transom.status import carries_no_body

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is an optional extra
    brotli = None

__all__ = ["CompressionMiddleware", "GZipMiddleware", "choose_encoding"]

# Already-compressed media: compressing again costs CPU and saves nothing.
_INCOMPRESSIBLE = ("image/", "audio/", "video/", "font/woff", "application/zip")
_INCOMPRESSIBLE_EXACT = frozenset(
    {"application/gzip", "application/x-gzip", "application/x-brotli", "application/zstd"}
)


def choose_encoding(accept_encoding: str | None, available: Sequence[str]) -> str | None:
    """The coding from ``available`` (in server preference order) the client likes best.

    ``Accept-Encoding`` q-values decide (RFC 9110 §12.5.3); ``*`` stands for
    any coding not named; ``q=0`` refuses. ``None``: send identity.

    >>> choose_encoding("gzip;q=0.8, br", ["br", "gzip"])
    'br'
    >>> choose_encoding("gzip;q=0, *", ["gzip"]) is None
    True
    """
    if not accept_encoding:
        return None
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weights[coding] = _qvalue(params)
    best, best_q = None, 0.0
    for coding in available:
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


def _qvalue(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


class _Compressor(Protocol):
    def compress(self, data: bytes) -> bytes: ...
    def flush(self) -> bytes: ...
    def finish(self) -> bytes: ...


class _Gzip:
    __slots__ = ("_z",)

    def __init__(self, level: int) -> None:
        # wbits 16 + 15: a gzip wrapper (RFC 1952) around a 32 KiB-window deflate stream.
        self._z = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def compress(self, data: bytes) -> bytes:
        return self._z.compress(data)

    def flush(self) -> bytes:
        return self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Brotli:
    __slots__ = ("_b",)

    def __init__(self, quality: int) -> None:
        self._b: Any = brotli.Compressor(quality=quality)

    def compress(self, data: bytes) -> bytes:
        return bytes(self._b.process(data))

    def flush(self) -> bytes:
        return bytes(self._b.flush())

    def finish(self) -> bytes:
        return bytes(self._b.finish())


class CompressionMiddleware:
    """Compress responses with the best coding both sides support.

    >>> app = CompressionMiddleware(app, minimum_size=500, compresslevel=6)
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        compresslevel: int = 6,
        brotli_quality: int = 4,
        encodings: Sequence[str] = ("br", "gzip"),
    ) -> None:
        if not 0 <= compresslevel <= 9:
            raise ConfigurationError(f"compresslevel must be 0-9, not {compresslevel!r}")
        if not 0 <= brotli_quality <= 11:
            raise ConfigurationError(f"brotli_quality must be 0-11, not {brotli_quality!r}")
        unknown = set(encodings) - {"br", "gzip"}
        if unknown or isinstance(encodings, str):
            raise ConfigurationError(f"encodings must be a list of 'br'/'gzip', not {encodings!r}")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel
        self.brotli_quality = brotli_quality
        self.encodings = tuple(e for e in encodings if e != "br" or brotli is not None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = Headers(raw=scope["headers"]).get("accept-encoding")
        # A HEAD body is empty whatever GET's would be, so there is nothing to encode.
        coding = None if scope["method"] == "HEAD" else choose_encoding(accept, self.encodings)
        responder = _Responder(self, coding, send)
        await self.app(scope, receive, responder.send)

    def compressor(self, coding: str) -> _Compressor:
        """A fresh compressor for ``coding``."""
        if coding == "br":
            return _Brotli(self.brotli_quality)
        return _Gzip(self.compresslevel)


class GZipMiddleware(CompressionMiddleware):
    """Gzip only, Starlette-compatible: ``GZipMiddleware(app, minimum_size=500)``."""

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        super().__init__(app, minimum_size, compresslevel, encodings=("gzip",))


class _Responder:
    """One response passing through ``CompressionMiddleware``."""

    __slots__ = ("_coding", "_compressor", "_headers", "_mw", "_send", "_start", "_state")

    def __init__(self, mw: CompressionMiddleware, coding: str | None, send: Send) -> None:
        self._mw = mw
        self._coding = coding
        self._send = send
        self._start: Message | None = None
        self._headers = Headers()
        self._compressor: _Compressor | None = None
        self._state = "start"  # start -> held -> compressing | passing

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._headers = Headers(raw=list(message.get("headers", [])))
            if self._eligible(message["status"]):
                self._start, self._state = message, "held"
            else:
                self._state = "passing"
                await self._send(message)
        elif self._state == "held" and kind == "http.response.body":
            await self._first_body(message)
        elif self._state == "compressing" and kind == "http.response.body":
            await self._compress(message)
        else:
            if self._state == "held":  # e.g. http.response.pathsend: leave it alone
                self._state = "passing"
                await self._send(self._start_message())
            await self._send(message)

    def _eligible(self, status: int) -> bool:
        headers = self._headers
        if carries_no_body(status) or "content-encoding" in headers:
            return False
        if "content-range" in headers:
            return False
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) < self._mw.minimum_size:
            return False  # small, even if it comes in several messages
        media = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media == "text/event-stream" or media in _INCOMPRESSIBLE_EXACT:
            return False
        return not (media.startswith(_INCOMPRESSIBLE) and media != "image/svg+xml")

    def _start_message(self) -> Message:
        assert self._start is not None
        self._start["headers"] = self._headers.raw
        return self._start

    def _add_vary(self) -> None:
        vary = self._headers.get("vary")
        if vary is None:
            self._headers["vary"] = "Accept-Encoding"
        elif "accept-encoding" not in {v.strip().lower() for v in vary.split(",")}:
            self._headers["vary"] = f"{vary}, Accept-Encoding"

    async def _first_body(self, message: Message) -> None:
        body: bytes = message.get("body", b"")
        streaming = message.get("more_body", False)
        if not streaming and len(body) < self._mw.minimum_size:
            self._state = "passing"
            await self._send(self._start_message())
            await self._send(message)
            return
        self._add_vary()
        if self._coding is None:
            self._state = "passing"
            await self._send(self._start_message())
            await self._send(message)
            return
        self._compressor = self._mw.compressor(self._coding)
        self._headers["content-encoding"] = self._coding
        # The bytes differ now: a strong ETag would lie (RFC 9110 §8.8.3), and
        # byte ranges of the identity body no longer apply.
        etag = self._headers.get("etag")
        if etag is not None and not etag.startswith("W/"):
            self._headers["etag"] = f"W/{etag}"
        self._headers.discard("accept-ranges")
        if streaming:
            self._headers.discard("content-length")
            self._state = "compressing"
            await self._send(self._start_message())
            await self._compress(message)
            return
        data = self._compressor.compress(body) + self._compressor.finish()
        self._headers["content-length"] = str(len(data))
        self._state = "passing"
        await self._send(self._start_message())
        await self._send({"type": "http.response.body", "body": data})

    async def _compress(self, message: Message) -> None:
        assert self._compressor is not None
        body: bytes = message.get("body", b"")
        data = self._compressor.compress(body) if body else b""
        if message.get("more_body", False):
            data += self._compressor.flush() if body else b""
            if data:
                await self._send({"type": "http.response.body", "body": data, "more_body": True})
            return
        data += self._compressor.finish()
        self._state = "passing"
        await self._send({"type": "http.response.body", "body": data})
