"""``FileResponse``: a file from disk, with validators, conditional requests and ranges.

Theory of operation
-------------------
The file is stat'ed when the response is built (or when it is sent, if that
fails to find it then; ``stat_result=`` skips the call). When it is sent,
the request decides the status (``_plan``), in RFC 9110's order:

1. preconditions (``If-Match``, ``If-Unmodified-Since``, ``If-None-Match``,
   ``If-Modified-Since``; see ``transom.web.conditional``) -> 412 or 304;
2. for GET only (§14.2), ``Range``, unless ``If-Range`` names an older
   version -> 206 with one part or ``multipart/byteranges``, or 416;
3. otherwise 200 with the whole file.

Only a response built with status 200 takes part: ``FileResponse("404.html",
status_code=404)`` is sent as it is.

The validators are ``Last-Modified`` (the file's mtime) and a **strong**
``ETag`` made of the mtime in nanoseconds and the size, ``"<mtime_ns>-<size>"``
in hex (as nginx does). It is strong so that ``If-Range`` and ``If-Match``
can use it (both require strong comparison); a rewrite changes the mtime,
and nanosecond mtimes make an unnoticed same-size rewrite practically
impossible.

The body is read in 64 KiB chunks in the thread pool, so a slow disk never
blocks the event loop and memory stays flat whatever the file's size. When
the server offers the ASGI ``http.response.pathsend`` extension, a whole-file
200 is handed to it by path instead. HEAD never opens the file.
"""

from __future__ import annotations

import mimetypes
import os
import stat
import unicodedata
from collections.abc import Mapping
from typing import IO
from urllib.parse import quote

from transom._types import Receive, Scope, Send
from transom.exceptions import FileResponseError
from transom.http.dates import format_http_date
from transom.http.headers import Headers
from transom.web.background import BackgroundTask
from transom.web.concurrency import run_sync
from transom.web.conditional import (
    evaluate_preconditions,
    if_range_matches,
    not_modified_headers,
)
from transom.web.ranges import ByteRanges, content_range, parse_range_header
from transom.web.responses import Response

__all__ = ["FileResponse", "content_disposition", "file_etag", "guess_media_type"]

CHUNK_SIZE = 64 * 1024

# Types that the platform's mimetypes tables get wrong or lack.
_MEDIA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".md": "text/markdown",
    ".webmanifest": "application/manifest+json",
}
# RFC 8187 attr-char, less what `quote` already keeps (letters, digits, "_.-~").
_ATTR_SAFE = "!#$&+^`|"


def guess_media_type(filename: str) -> str:
    """The media type for a file name; ``application/octet-stream`` when unknown.

    >>> guess_media_type("app.js"), guess_media_type("blob")
    ('text/javascript', 'application/octet-stream')
    """
    _, ext = os.path.splitext(filename)
    known = _MEDIA_TYPES.get(ext.lower())
    if known is not None:
        return known
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def file_etag(st: os.stat_result) -> str:
    """The strong ETag of a file: its mtime in nanoseconds and its size, in hex.

    >>> file_etag(os.stat("README.md"))  # doctest: +SKIP
    '"17c3f0e2b1a40000-1f4"'
    """
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value for ``filename`` (RFC 6266 §4).

    A non-ASCII name is sent as ``filename*=UTF-8''...`` (RFC 8187) beside an
    ASCII ``filename=`` fallback for old clients; quotes, backslashes and
    control characters never reach the quoted string.

    >>> content_disposition("attachment", "résumé.pdf")
    'attachment; filename="resume.pdf"; filename*=UTF-8\\'\\'r%C3%A9sum%C3%A9.pdf'
    """
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join("_" if c in '"\\' or ord(c) < 0x20 or c == "\x7f" else c for c in folded)
    value = f'{disposition}; filename="{fallback or "download"}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe=_ATTR_SAFE)}"
    return value


# Each part: a head to send first, then the inclusive byte range (empty when end < start).
_Body = list[tuple[bytes, int, int]]


class FileResponse(Response):
    """The file at ``path``, with ETag/Last-Modified, 304/412, Range/206/416 and HEAD.

    ``media_type`` defaults to a guess from ``filename`` or ``path``;
    ``filename`` adds a ``Content-Disposition`` (``attachment`` unless
    ``content_disposition_type="inline"``). A file that is missing when the
    response is sent raises ``FileResponseError``.

    >>> @app.get("/report")
    ... async def report(request):
    ...     return FileResponse("reports/2024.pdf", filename="Bericht 2024.pdf")
    """

    chunk_size = CHUNK_SIZE

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        content_disposition_type: str = "attachment",
        stat_result: os.stat_result | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.media_type = media_type or guess_media_type(filename or self.path)
        self.background = background
        self.body = b""
        self.filename = filename
        raw = Headers(headers).raw if headers else []
        if filename is not None:
            raw.append(
                (
                    b"content-disposition",
                    content_disposition(content_disposition_type, filename).encode("latin-1"),
                )
            )
        self.raw_headers = raw
        if not any(name == b"content-type" for name, _ in raw):
            self.headers["content-type"] = _text_charset(self.media_type, self.charset)
        self.stat_result = stat_result
        if stat_result is None:
            try:
                stat_result = os.stat(self.path)
            except OSError:
                return  # stat'ed again when sent, where a missing file raises
        self._set_stat(stat_result)

    def _set_stat(self, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise FileResponseError(f"FileResponse: {self.path!r} is not a regular file")
        self.stat_result = st
        headers = self.headers
        headers["content-length"] = str(st.st_size)
        headers["last-modified"] = format_http_date(st.st_mtime)
        headers["etag"] = file_etag(st)
        headers.setdefault("accept-ranges", "bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.stat_result is None:
            try:
                st = await run_sync(os.stat, self.path)
            except OSError as exc:
                raise FileResponseError(
                    f"FileResponse: cannot send {self.path!r}: {exc.strerror or exc}; "
                    "check the path, or answer 404 when the file may be missing"
                ) from None
            self._set_stat(st)
        status, headers, body = self._plan(scope)
        start = {"type": "http.response.start", "status": status, "headers": headers}
        if body is None or scope.get("method") == "HEAD":
            await send(start)
            await send({"type": "http.response.body", "body": b""})
        elif self._whole(body) and "http.response.pathsend" in scope.get("extensions", {}):
            await send(start)
            await send({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        else:
            # Opened before the head goes out, so a vanished file is still an
            # error the caller can turn into a 404.
            file = await self._open()
            try:
                await send(start)
                await self._send_parts(file, send, body)
            except OSError:
                pass  # ASGI 2.4: send() raises OSError once the client has gone
            finally:
                await run_sync(file.close)
        if self.background is not None:
            await self.background()

    def _plan(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], _Body | None]:
        """The status, header list and body (``None``: empty) this request gets."""
        assert self.stat_result is not None
        size = self.stat_result.st_size
        whole: _Body = [(b"", 0, size - 1)]
        if self.status_code != 200:
            return self.status_code, self.raw_headers, whole
        method: str = scope.get("method", "GET")
        request = Headers(raw=list(scope.get("headers", [])))
        response = self.headers
        etag, last_modified = response.get("etag"), self.stat_result.st_mtime
        failed = evaluate_preconditions(method, request, etag=etag, last_modified=last_modified)
        if failed == 304:
            return 304, not_modified_headers(self.raw_headers), None
        if failed is not None:
            return failed, [(b"content-length", b"0")], None
        range_value = request.get("range")
        if range_value is None or method != "GET":
            return 200, self.raw_headers, whole
        if_range = request.get("if-range")
        if if_range is not None and not if_range_matches(
            if_range, etag=etag, last_modified=last_modified
        ):
            return 200, self.raw_headers, whole
        ranges = parse_range_header(range_value, size)
        if ranges is None:
            return 200, self.raw_headers, whole
        return self._partial(ranges, size)

    def _partial(
        self, ranges: list[tuple[int, int]], size: int
    ) -> tuple[int, list[tuple[bytes, bytes]], _Body | None]:
        headers = self.headers.copy()
        if not ranges:
            for name in ("content-type", "content-length", "content-encoding"):
                headers.discard(name)
            headers["content-range"] = f"bytes */{size}"
            headers["content-length"] = "0"
            return 416, headers.raw, None
        if len(ranges) == 1:
            start, end = ranges[0]
            headers["content-range"] = content_range(start, end, size)
            headers["content-length"] = str(end - start + 1)
            return 206, headers.raw, [(b"", start, end)]
        multipart = ByteRanges(
            ranges, size, headers.get("content-type", "application/octet-stream")
        )
        headers["content-type"] = multipart.content_type
        headers["content-length"] = str(multipart.content_length)
        body = [*multipart.parts(), (multipart.trailer, 0, -1)]
        return 206, headers.raw, body

    def _whole(self, body: _Body) -> bool:
        assert self.stat_result is not None
        return body == [(b"", 0, self.stat_result.st_size - 1)]

    async def _open(self) -> IO[bytes]:
        try:
            file: IO[bytes] = await run_sync(open, self.path, "rb")
        except OSError as exc:
            raise FileResponseError(
                f"FileResponse: {self.path!r} vanished before it was sent ({exc.strerror})"
            ) from None
        return file

    async def _send_parts(self, file: IO[bytes], send: Send, body: _Body) -> None:
        for head, start, end in body:
            if head:
                await send({"type": "http.response.body", "body": head, "more_body": True})
            await self._send_range(file, send, start, end)
        await send({"type": "http.response.body", "body": b""})

    async def _send_range(self, file: IO[bytes], send: Send, start: int, end: int) -> None:
        remaining = end - start + 1
        if remaining <= 0:
            return
        await run_sync(file.seek, start)
        while remaining > 0:
            chunk = await run_sync(file.read, min(self.chunk_size, remaining))
            if not chunk:
                # Not an OSError: the promised Content-Length is broken, so fail loudly.
                raise FileResponseError(
                    f"FileResponse: {self.path!r} shrank while it was being sent"
                )
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


def _text_charset(media_type: str, charset: str) -> str:
    # text/* needs its charset named (RFC 9110 §8.3.1); so do the JavaScript and JSON
    # types served as text by StaticFiles, which old browsers would otherwise guess.
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        return f"{media_type}; charset={charset}"
    return media_type
