"""The client's ``Request`` and ``Response``.

A ``Response`` arrives with its head; its body is either already in memory
(``content``) or a stream still on the connection. ``Client.get`` and friends
read the body before returning; ``Client.stream`` hands the response over
unread, to be consumed with ``iter_bytes`` / ``aiter_bytes`` (decoded),
``iter_raw`` (as sent), ``iter_text``, ``iter_lines``, or ``read()``.

Sync and async methods are one implementation: the ``a``-methods are the
code; the sync ones run them with ``_drive.run_sync``, which works because a
``Client``'s streams do blocking I/O and never suspend.
"""

from __future__ import annotations

import json as jsonlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from transom.client._content import BodyStream, RequestBody
from transom.client._drive import run_sync
from transom.client.decoders import LineDecoder, TextDecoder, content_decoder
from transom.exceptions import (
    DecodingError,
    HTTPStatusError,
    LocalProtocolError,
    ResponseNotRead,
    StreamClosed,
    StreamConsumed,
)
from transom.http.cookies import SetCookie
from transom.http.headers import Headers, parse_options_header
from transom.http.url import URL
from transom.status import reason_phrase as _reason_phrase

__all__ = ["ByteStream", "ConnectionInfo", "Request", "Response", "host_header"]

_STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+")


def host_header(url: URL) -> str:
    """The ``Host`` header for a request to ``url`` (RFC 9110 §7.2)."""
    return url.netloc


class ConnectionInfo(NamedTuple):
    """The connection a response came over: ``response.connection``.

    >>> response = client.get("http://localhost:8000/")
    >>> response.connection
    ConnectionInfo(peer=('127.0.0.1', 8000), reused=False)

    ``peer`` is the address the client is connected to, ``(ip, port)``: the
    server, or the proxy when there is one (None if the socket does not say).
    ``reused`` is True when the connection came from the pool, having carried
    an earlier exchange, and False when it was opened for this request.
    """

    peer: tuple[str, int] | None
    reused: bool


class ByteStream:
    """A response body still on the wire: raw chunks, and what to do on close."""

    __slots__ = ("_aclose", "_chunks")

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        aclose: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._chunks = chunks
        self._aclose = aclose

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks

    async def aclose(self) -> None:
        if self._aclose is not None:
            aclose, self._aclose = self._aclose, None
            await aclose()


class Request:
    """An HTTP request as the client sends it.

    >>> r = Request("POST", "https://example.org/notes", content=b"hi")
    >>> r.method, r.url.host, r.content
    ('POST', 'example.org', b'hi')
    """

    __slots__ = ("body", "extensions", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: URL | str,
        *,
        headers: Headers | None = None,
        content: RequestBody | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        self.method = method = method.upper()
        if method not in _STANDARD_METHODS and _TOKEN.fullmatch(method) is None:
            # RFC 9110 §9.1: a method is a token; anything else could split the request line.
            raise LocalProtocolError(f"invalid HTTP method {method!r}: a method is a token")
        self.url = url if isinstance(url, URL) else URL(url)
        self.headers = headers if headers is not None else Headers()
        self.body: RequestBody = b"" if content is None else content
        self.extensions = extensions if extensions is not None else {}

    @property
    def content(self) -> bytes:
        """The body, when it is in memory (not for streamed bodies)."""
        if isinstance(self.body, BodyStream):
            raise ResponseNotRead("this request's body is a stream; it has no .content")
        return self.body

    def __repr__(self) -> str:
        return f"<Request [{self.method} {self.url}]>"


class Response:
    """An HTTP response.

    >>> r = Response(200, headers={"Content-Type": "application/json"}, content=b'{"a": 1}')
    >>> r.status_code, r.reason_phrase, r.json()
    (200, 'OK', {'a': 1})
    """

    __slots__ = (
        "_content",
        "_cookies",
        "_elapsed",
        "_raw",
        "_started",
        "_stream",
        "_streamed",
        "_text",
        "closed",
        "connection",
        "default_encoding",
        "headers",
        "history",
        "http_version",
        "reason_phrase",
        "request",
        "status_code",
    )

    def __init__(
        self,
        status_code: int,
        *,
        headers: Headers | Any = None,
        content: bytes | None = None,
        stream: ByteStream | None = None,
        request: Request | None = None,
        http_version: str = "HTTP/1.1",
        reason_phrase: str | None = None,
        default_encoding: str = "utf-8",
    ) -> None:
        self.status_code = status_code
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.http_version = http_version
        self.reason_phrase = reason_phrase or _reason_phrase(status_code)
        self.request = request
        self.history: list[Response] = []
        self.default_encoding = default_encoding
        self._elapsed = 0.0  # seconds; a timedelta is built only when asked for
        self._started = 0.0  # set by the client when it sends the request
        self._stream = stream
        self._streamed = False
        self._content: bytes | None = None
        self._text: str | None = None
        self._cookies: dict[str, str] | None = None
        self.closed = stream is None
        # Set by the HTTP transport; None for in-process and mock transports.
        self.connection: ConnectionInfo | None = None
        if content is None and stream is None:
            content = b""
        self._raw = content
        if content is not None:
            self._content = self._decode_all(content)

    @property
    def elapsed(self) -> timedelta:
        """From sending the request to the end of the response body."""
        return timedelta(seconds=self._elapsed)

    @elapsed.setter
    def elapsed(self, value: timedelta) -> None:
        self._elapsed = value.total_seconds()

    # --- head -------------------------------------------------------------------------
    @property
    def url(self) -> URL | None:
        return self.request.url if self.request is not None else None

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def is_redirect(self) -> bool:
        return self.status_code in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def encoding(self) -> str:
        """The charset of ``Content-Type``, else ``default_encoding``."""
        _, params = parse_options_header(self.headers.get("content-type"))
        charset = params.get("charset", "").strip("'\"")
        if charset:
            try:
                import codecs

                return codecs.lookup(charset).name
            except LookupError:
                pass
        return self.default_encoding

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies this response sets (name -> value); the client's jar keeps the rest."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for value in self.headers.get_list("set-cookie"):
                try:
                    cookie = SetCookie.parse(value)
                except ValueError:
                    continue
                cookies[cookie.name] = cookie.value
            self._cookies = cookies
        return self._cookies

    # --- body in memory ---------------------------------------------------------------
    @property
    def content(self) -> bytes:
        if self._content is None:
            raise ResponseNotRead(
                "the body of a streamed response is not read yet: "
                "call response.read() (or await response.aread()) first"
            )
        return self._content

    @property
    def text(self) -> str:
        if self._text is None:
            content = self.content
            self._text = content.decode(self.encoding, errors="replace") if content else ""
        return self._text

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON; ``DecodingError`` if it is not JSON."""
        try:
            return jsonlib.loads(self.content, **kwargs)
        except ValueError as exc:
            raise DecodingError(f"the response body is not valid JSON: {exc}") from exc

    def raise_for_status(self) -> Response:
        """Raise ``HTTPStatusError`` for a 4xx or 5xx response; else return ``self``."""
        if self.status_code < 400:
            return self
        kind = "client error" if self.status_code < 500 else "server error"
        url = self.url if self.url is not None else "(no request)"
        raise HTTPStatusError(
            f"{kind} '{self.status_code} {self.reason_phrase}' for url '{url}'",
            request=self.request,
            response=self,
        )

    def _decode_all(self, raw: bytes) -> bytes:
        for name, _ in self.headers.raw:
            if name == b"content-encoding":
                break
        else:
            return raw
        decoder = content_decoder(self.headers.get("content-encoding"))
        if decoder is None:
            return raw
        return decoder.decode(raw) + decoder.flush()

    # --- streaming (async is the implementation) ----------------------------------------
    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body as sent (still compressed), piece by piece."""
        stream = self._stream
        if stream is None and self._raw is not None and not self._streamed:
            self._streamed = True  # the body arrived with the head
            if self._raw:
                yield self._raw
            return
        if stream is None or self._streamed:
            raise StreamConsumed("the body of this response was already streamed")
        if self.closed:
            raise StreamClosed("the response was closed before its body was read")
        self._streamed = True
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await self.aclose()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        """The body, with its Content-Encoding undone, piece by piece."""
        if self._content is not None:
            if self._content:
                yield self._content
            return
        decoder = content_decoder(self.headers.get("content-encoding"))
        async for chunk in self.aiter_raw():
            data = decoder.decode(chunk) if decoder is not None else chunk
            if data:
                yield data
        if decoder is not None and (tail := decoder.flush()):
            yield tail

    async def aiter_text(self) -> AsyncIterator[str]:
        decoder = TextDecoder(self.encoding)
        async for chunk in self.aiter_bytes():
            if text := decoder.decode(chunk):
                yield text
        if tail := decoder.flush():
            yield tail

    async def aiter_lines(self) -> AsyncIterator[str]:
        lines = LineDecoder()
        async for text in self.aiter_text():
            for line in lines.decode(text):
                yield line
        for line in lines.flush():
            yield line

    async def aread(self) -> bytes:
        """Read the whole body; returns ``content``."""
        if self._content is None:
            self._content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self._content

    async def aclose(self) -> None:
        """Release the connection (closing it if the body was not read to its end)."""
        if not self.closed:
            self.closed = True
            if self._started:
                self._elapsed = time.perf_counter() - self._started
            if self._stream is not None:
                await self._stream.aclose()

    # --- the same, for Client (blocking I/O, see _drive.py) ----------------------------
    def read(self) -> bytes:
        return run_sync(self.aread())

    def close(self) -> None:
        run_sync(self.aclose())

    def iter_raw(self) -> Iterator[bytes]:
        return _sync_iter(self.aiter_raw())

    def iter_bytes(self) -> Iterator[bytes]:
        return _sync_iter(self.aiter_bytes())

    def iter_text(self) -> Iterator[str]:
        return _sync_iter(self.aiter_text())

    def iter_lines(self) -> Iterator[str]:
        return _sync_iter(self.aiter_lines())

    def __repr__(self) -> str:
        return f"<Response [{self.status_code} {self.reason_phrase}]>"


def _sync_iter(agen: Any) -> Iterator[Any]:
    try:
        while True:
            try:
                yield run_sync(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        run_sync(agen.aclose())
