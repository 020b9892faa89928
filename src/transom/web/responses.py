"""Responses: each one an ASGI callable that sends itself.

A handler returns a ``Response`` (or a value the router turns into one) and
the app awaits ``response(scope, receive, send)``. A fixed body is rendered
to bytes when the response is built, so ``Content-Length`` and the header
list are ready before the first byte is sent; the header list
(``raw_headers``: lower-cased ``(bytes, bytes)`` pairs, the shape ASGI
wants) is handed to the server as is.

Writing a subclass
------------------
``Response.__call__`` sends ``http.response.start`` with ``status_code``
and ``raw_headers``, then awaits ``send_body(scope, receive, send)`` (for a
``HEAD`` request it sends one empty body message instead, keeping the
headers a ``GET`` would get), then runs ``background``. So:

- A response that produces its body as it goes (a file, an event stream)
  overrides ``send_body`` and sends ``http.response.body`` messages with
  ``more_body=True``, ending with one whose ``more_body`` is false.
- A response that picks its status or headers per request (``Range`` ->
  206, ``If-None-Match`` -> 304) overrides ``__call__``, sets
  ``self.status_code`` / edits ``self.headers`` from ``scope``, then awaits
  ``super().__call__(scope, receive, send)``.
- Call ``Response.__init__`` with ``content=None`` and the headers, then set
  ``Content-Length`` yourself when it is known.

>>> JSONResponse({"id": 1}, status_code=201, headers={"Location": "/notes/1"})
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Literal

from transom._types import Receive, Scope, Send
from transom.http.cookies import SetCookie
from transom.http.headers import Headers
from transom.http.url import quote
from transom.status import carries_no_body
from transom.web.background import BackgroundTask
from transom.web.concurrency import iterate_in_threadpool, run_sync

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "to_response",
]

_content_type_cache: dict[tuple[str, str], bytes] = {}


def _content_type(media_type: str, charset: str) -> bytes:
    """``text/*`` types carry ``charset`` (RFC 9110 §8.3.1); cached per type."""
    key = (media_type, charset)
    value = _content_type_cache.get(key)
    if value is None:
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            value = f"{media_type}; charset={charset}".encode("latin-1")
        else:
            value = media_type.encode("latin-1")
        _content_type_cache[key] = value
    return value


class Response:
    """A status, headers and a body known in full before sending.

    ``content`` is ``bytes``, ``str`` (encoded with ``charset``) or ``None``
    (no body). ``media_type`` sets ``Content-Type`` unless ``headers`` has
    one; a ``text/*`` type gets ``; charset=utf-8``.

    >>> Response(b"\\x89PNG...", media_type="image/png")
    """

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self._init_headers(headers)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes; subclasses serialise here."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, (bytearray, memoryview)):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes, str or None, not "
            f"{type(content).__name__}; use JSONResponse for data or StreamingResponse "
            "for an iterator"
        )

    def _init_headers(self, headers: Mapping[str, str] | None) -> None:
        if not headers and self.status_code == 200 and self.media_type is not None:
            # The common case, without a scan for headers the caller set.
            self.raw_headers = [
                (b"content-length", str(len(self.body)).encode("latin-1")),
                (b"content-type", _content_type(self.media_type, self.charset)),
            ]
            return
        raw = Headers(headers).raw if headers else []
        has_length = has_type = False
        if headers:
            names = {name for name, _ in raw}
            has_length = b"content-length" in names
            has_type = b"content-type" in names
        if not has_length and not carries_no_body(self.status_code):
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        if not has_type and self.media_type is not None:
            raw.append((b"content-type", _content_type(self.media_type, self.charset)))
        self.raw_headers = raw

    @property
    def headers(self) -> Headers:
        """The response headers; changes write through to ``raw_headers``."""
        return Headers(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: float | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header (RFC 6265 §4.1): HttpOnly and SameSite=Lax by default.

        ``expires`` is a Unix timestamp or a ready IMF-fixdate string.
        ``samesite="none"`` requires ``secure=True`` (browsers drop it otherwise).

        >>> response.set_cookie("theme", "dark", max_age=86400)
        """
        cookie = SetCookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.raw_headers.append((b"set-cookie", cookie.serialize().encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = True,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Tell the browser to drop cookie ``key`` (same ``path``/``domain`` as when set)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        else:
            await self.send_body(scope, receive, send)
        if self.background is not None:
            await self.background()

    async def send_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the body; the start message has gone. Override to stream."""
        await send({"type": "http.response.body", "body": self.body})

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class PlainTextResponse(Response):
    """``text/plain; charset=utf-8``."""

    media_type = "text/plain"


class HTMLResponse(Response):
    """``text/html; charset=utf-8``."""

    media_type = "text/html"


_json_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
# The C encoder the line above would build on every call, built once (CPython).
# No circular-reference markers: a cycle ends in RecursionError, reported below.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_c_encode = (
    _c_make_encoder(
        None,
        _json_encoder.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        False,
        False,
        False,
    )
    if _c_make_encoder is not None
    else None
)


def _encode_json(content: Any) -> str:
    if _c_encode is None or isinstance(content, str):  # a bare string: the stdlib way
        return _json_encoder.encode(content)
    return "".join(_c_encode(content, 0))


class JSONResponse(Response):
    """``application/json``: compact, UTF-8, strict (no NaN or Infinity, RFC 8259 §6).

    >>> JSONResponse({"message": "héllo"}).body
    b'{"message":"h\\xc3\\xa9llo"}'
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return _encode_json(content).encode("utf-8")
        except RecursionError:
            raise ValueError("cannot send as JSON: the value contains itself") from None
        except ValueError as exc:
            raise ValueError(
                f"JSON has no NaN or Infinity ({exc}); send null or a string instead"
            ) from None
        except TypeError as exc:
            raise TypeError(
                f"cannot send as JSON: {exc}; convert the value to dict/list/str/int/"
                "float/bool/None first"
            ) from None


# RFC 3986 §2.2 reserved characters plus '%' stay as they are, so an already
# encoded URL is not encoded twice; everything else is percent-encoded.
_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"


class RedirectResponse(Response):
    """A redirect to ``url`` (307 by default: the method and body are kept).

    Use 303 after a form post (the browser follows with ``GET``), 301/308
    for moves. Non-ASCII characters are percent-encoded; a URL with CR, LF
    or NUL is refused (``ValueError``), so user input cannot inject headers.

    >>> RedirectResponse("/notes/1", status_code=303)
    """

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        url = str(url)
        if any(c in url for c in "\r\n\x00"):
            raise ValueError(f"redirect URL {url!r} contains CR, LF or NUL")
        super().__init__(None, status_code, headers, background=background)
        self.raw_headers.append((b"location", quote(url, safe=_URL_SAFE).encode("latin-1")))


class StreamingResponse(Response):
    """A body sent as ``content`` yields it: an async or a plain iterable.

    Items are ``bytes`` or ``str`` (encoded with ``charset``). A plain
    iterator runs in the thread pool, one ``next()`` at a time. No
    ``Content-Length`` is set, so the server frames the body as chunked.
    When the client disconnects the iteration stops: an async generator is
    cancelled at its current ``await`` and closed; a plain iterator is
    closed before its next item.

    >>> async def numbers():
    ...     for i in range(3):
    ...         yield f"{i}\\n"
    >>> StreamingResponse(numbers(), media_type="text/plain")
    """

    def __init__(
        self,
        content: AsyncIterable[str | bytes] | Iterable[str | bytes],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = b""
        self.content = content
        raw = Headers(headers).raw if headers else []
        if self.media_type is not None and not any(n == b"content-type" for n, _ in raw):
            raw.append((b"content-type", _content_type(self.media_type, self.charset)))
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("method") == "HEAD":
            await _close(self.content)  # never iterated: release what it holds
        await super().__call__(scope, receive, send)

    async def send_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The body streams in a task of its own, beside a task waiting for
        # http.disconnect; whichever ends first decides.
        watch = _DisconnectWatch()
        stream = asyncio.ensure_future(self._stream(send, watch))
        watcher = asyncio.ensure_future(watch.wait(receive))
        try:
            await asyncio.wait((stream, watcher), return_when=asyncio.FIRST_COMPLETED)
            if not stream.done() and isinstance(self.content, AsyncIterable):
                stream.cancel()  # stop the async iterator where it waits
            # A plain iterator runs in a thread, which cannot be interrupted:
            # it stops before its next item (the stream checks the flag).
            await asyncio.wait((stream,))
        finally:
            watcher.cancel()
            stream.cancel()  # only matters when this task itself was cancelled
        if stream.cancelled():
            return
        error = stream.exception()
        # ASGI 2.4: send() raises OSError once the client has gone.
        if error is not None and not isinstance(error, OSError):
            raise error

    async def _stream(self, send: Send, watch: _DisconnectWatch) -> None:
        content = self.content
        iterator: AsyncIterable[str | bytes]
        if isinstance(content, AsyncIterable):
            iterator = content
        else:
            iterator = iterate_in_threadpool(iter(content))
        try:
            async for chunk in iterator:
                if watch.disconnected:
                    return
                if isinstance(chunk, str):
                    chunk = chunk.encode(self.charset)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            if iterator is not content:
                await _close(iterator)
            await _close(content)


async def _close(content: object) -> None:
    aclose = getattr(content, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(content, "close", None)
    if close is not None:
        await run_sync(close)


class _DisconnectWatch:
    """Notes when the client disconnects, for a stream to check between items."""

    __slots__ = ("disconnected",)

    def __init__(self) -> None:
        self.disconnected = False

    async def wait(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                return


def to_response(value: Any, endpoint: object = None) -> Response:
    """Turn a handler's return value into a Response.

    A Response as is; dict/list -> JSON; str -> HTML; bytes -> octet-stream;
    None -> 204 No Content.
    """
    if isinstance(value, Response):
        return value
    if isinstance(value, (dict, list)):
        return JSONResponse(value)
    if isinstance(value, str):
        return HTMLResponse(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Response(bytes(value), media_type="application/octet-stream")
    if value is None:
        return Response(status_code=204)
    where = f"handler {getattr(endpoint, '__name__', endpoint)!r}" if endpoint else "a handler"
    raise TypeError(
        f"{where} returned a {type(value).__name__}: return a Response, dict, list, "
        "str, bytes or None"
    )
