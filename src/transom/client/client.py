"""``AsyncClient`` and ``Client``: one implementation, two ways to call it.

Theory of operation
-------------------
``_BaseClient`` holds everything a request goes through, written once as
coroutines: building the request (base URL, params, headers, cookies,
body), the auth flow, request/response event hooks, the cookie jar,
redirects, retries, and the transport. ``AsyncClient`` awaits those
coroutines on the running loop, over asyncio I/O. ``Client`` runs the *same*
coroutines with ``_drive.run_sync`` over blocking sockets: since nothing
inside them ever suspends, each finishes on its first step, with no event
loop and no thread hop (``_drive.py`` explains the trick, ``_backend.py`` the
seam). The two public classes only differ in how they call: ``await
client.get(...)`` versus ``client.get(...)``.

The default transport is ``HTTPTransport`` (``pool.py``): pooled keep-alive
connections over the shared sans-IO HTTP/1.1 core. ``ASGITransport`` calls
an ASGI app in-process; ``MockTransport`` a function.

``websocket(url)`` opens a WebSocket through the same transport, with the
same request building, cookie jar and auth (``websocket.py``); the sync
``WebSocket`` runs the async one's coroutines with ``run_sync`` too.

>>> with Client(base_url="https://api.example.org", timeout=10) as client:  # doctest: +SKIP
...     notes = client.get("/notes", params={"page": 2}).raise_for_status().json()
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from transom._version import __version__
from transom.client._aio import AsyncioBackend
from transom.client._backend import Backend
from transom.client._blocking import BlockingBackend
from transom.client._content import BodyStream, encode_body
from transom.client._drive import run_sync
from transom.client._redirects import COOKIE_EXTENSION, redirect_request
from transom.client.auth import Auth, build_auth
from transom.client.config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout, TimeoutTypes
from transom.client.cookiejar import CookieJar
from transom.client.decoders import ACCEPT_ENCODING
from transom.client.models import Request, Response, host_header
from transom.client.retries import Retry
from transom.client.transports import BaseTransport
from transom.client.websocket import AsyncWebSocket, WebSocket, WebSocketOptions
from transom.exceptions import StreamConsumed, TooManyRedirects, WebSocketHandshakeError
from transom.http.headers import Headers
from transom.http.url import URL, QueryParams

__all__ = ["AsyncClient", "Client"]


class _Unset:
    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT: Any = _Unset()
TIMEOUT_EXTENSION = "timeout"


_USER_AGENT = f"transom/{__version__}"
_URL_CACHE_SIZE = 512


class _BaseClient:
    """The shared implementation; use ``AsyncClient`` or ``Client``."""

    def __init__(
        self,
        *,
        backend: Backend,
        base_url: str = "",
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        auth: Any = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        follow_redirects: bool = True,
        max_redirects: int = 20,
        verify: Any = True,
        cert: Any = None,
        proxy: str | None = None,
        trust_env: bool = True,
        limits: Limits = DEFAULT_LIMITS,
        retries: Retry | int | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        transport: BaseTransport | None = None,
        default_encoding: str = "utf-8",
    ) -> None:
        self._backend = backend
        self.base_url = _base_url(base_url)
        self._url_cache: dict[str, tuple[URL, bytes]] = {}
        self.params = QueryParams(params) if params else None
        self.headers = Headers(
            {"user-agent": _USER_AGENT, "accept": "*/*", "accept-encoding": ACCEPT_ENCODING}
        )
        if headers:
            self.headers.update(headers)
        self.cookies = cookies if isinstance(cookies, CookieJar) else CookieJar(cookies)
        self.auth: Auth | None = build_auth(auth)
        self.timeout = Timeout(timeout)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.retries = Retry(retries) if isinstance(retries, int) else retries
        hooks = event_hooks or {}
        self.event_hooks: dict[str, list[Callable[..., Any]]] = {
            "request": list(hooks.get("request", [])),
            "response": list(hooks.get("response", [])),
        }
        self.default_encoding = default_encoding
        if transport is None:
            from transom.client.pool import HTTPTransport

            transport = HTTPTransport(
                verify=verify, cert=cert, proxy=proxy, trust_env=trust_env, limits=limits
            )
        transport.attach(backend)
        self._transport = transport
        self.is_closed = False

    # --- building ---------------------------------------------------------------------
    def _merge_url(self, url: URL | str) -> tuple[URL, bytes]:
        """The absolute URL and its Host header value; repeated URLs are parsed once."""
        key = url if isinstance(url, str) else str(url)
        cached = self._url_cache.get(key)
        if cached is not None:
            return cached
        if isinstance(url, URL) and (url.is_absolute or self.base_url is None):
            merged = url
        elif self.base_url is None or "://" in key[:12]:
            merged = URL(key)
        else:
            # base_url is a prefix: "/users" under "https://h/api/" is "https://h/api/users".
            merged = self.base_url.join(key.lstrip("/"))
        if len(self._url_cache) >= _URL_CACHE_SIZE:
            self._url_cache.clear()
        entry = self._url_cache[key] = (merged, host_header(merged).encode("ascii"))
        return entry

    def build_request(
        self,
        method: str,
        url: URL | str,
        *,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        json: Any = None,
        timeout: TimeoutTypes | _Unset = USE_CLIENT_DEFAULT,
        extensions: dict[str, Any] | None = None,
    ) -> Request:
        """The ``Request`` a call with these arguments sends (nothing is sent)."""
        target, host = self._merge_url(url)
        if self.params or params:
            target = _with_params(target, self.params, params)
        # Host first (RFC 9112 §3.2 asks for it early), then the client's defaults.
        request_headers = Headers(raw=[(b"host", host), *self.headers.raw])
        if headers:
            request_headers.update(headers)
        if content is None and data is None and files is None and json is None:
            body: Any = b""  # the common bodiless request skips the encoders
            if method in ("POST", "PUT", "PATCH"):
                _set_framing(method, request_headers, body)
        else:
            body, content_type = encode_body(content=content, data=data, files=files, json=json)
            if content_type is not None and "content-type" not in request_headers:
                request_headers["content-type"] = content_type
            _set_framing(method, request_headers, body)
        ext = dict(extensions) if extensions else {}
        if cookies:
            jar = CookieJar(cookies)
            caller = "; ".join(f"{name}={value}" for name, value in jar.items())
            request_headers["cookie"] = _join_cookies(request_headers.get("cookie"), caller)
        for name, value in request_headers.raw:
            if name == b"cookie":
                ext[COOKIE_EXTENSION] = value.decode("latin-1")
                break
        ext[TIMEOUT_EXTENSION] = self.timeout if isinstance(timeout, _Unset) else Timeout(timeout)
        return Request(method, target, headers=request_headers, content=body, extensions=ext)

    # --- sending ----------------------------------------------------------------------
    async def _request(
        self,
        method: str,
        url: URL | str,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: bool | _Unset = USE_CLIENT_DEFAULT,
        **kwargs: Any,
    ) -> Response:
        if self.is_closed:
            from transom.exceptions import TransportError

            raise TransportError("this client is closed; make a new one")
        request = self.build_request(method, url, **kwargs)
        return await self._send(
            request, stream=stream, auth=auth, follow_redirects=follow_redirects
        )

    async def _send(
        self,
        request: Request,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: bool | _Unset = USE_CLIENT_DEFAULT,
    ) -> Response:
        flow_auth = self.auth if auth is USE_CLIENT_DEFAULT else build_auth(auth)
        follow = (
            self.follow_redirects if follow_redirects is USE_CLIENT_DEFAULT else follow_redirects
        )
        history: list[Response] = []
        origin = request.url.origin if flow_auth is not None else None
        while True:
            if flow_auth is not None and history and request.url.origin != origin:
                flow_auth = None  # credentials are for the origin they were given for
            if flow_auth is None:
                response = await self._send_single(request)
            else:
                response = await self._send_with_auth(request, flow_auth)
            try:
                for hook in self.event_hooks["response"]:
                    await _call(hook, response)
                if not (follow and response.is_redirect):
                    break
                if len(history) >= self.max_redirects:
                    raise TooManyRedirects(
                        f"more than {self.max_redirects} redirects, the last to "
                        f"{response.headers.get('location')!r}; raise max_redirects or "
                        "pass follow_redirects=False"
                    )
                request = redirect_request(request, response)
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
            response.history = list(history)
            history.append(response)
        response.history = history
        if not stream and response._content is None:
            try:
                await response.aread()
            except BaseException:
                await response.aclose()
                raise
        return response

    async def _send_with_auth(self, request: Request, auth: Auth) -> Response:
        flow = auth.auth_flow(request)
        request = next(flow)
        while True:
            response = await self._send_single(request)
            if auth.requires_response_body:
                await response.aread()
            try:
                next_request = flow.send(response)
            except StopIteration:
                return response
            await response.aread()
            _rewind(next_request)
            request = next_request

    def _add_jar_cookies(self, request: Request) -> None:
        jar_cookie = self.cookies.cookie_header(request.url) if self.cookies else None
        if jar_cookie:
            caller = request.extensions.get(COOKIE_EXTENSION)
            request.headers["cookie"] = _join_cookies(caller, jar_cookie)

    def _keep_cookies(self, response: Response, request: Request) -> None:
        for name, _ in response.headers.raw:
            if name == b"set-cookie":
                self.cookies.extract(response.headers.get_list("set-cookie"), request.url)
                break

    async def _send_single(self, request: Request) -> Response:
        self._add_jar_cookies(request)
        for hook in self.event_hooks["request"]:  # they see the request as it goes out
            await _call(hook, request)
        started = time.perf_counter()
        if self.retries is None:
            response = await self._transport.handle_request(request)
        else:
            response = await self.retries.send(self._transport, request, self._backend)
        response.request = request
        response._started = started  # elapsed counts from the request, not the head
        if response.closed:  # the body came with the head
            response._elapsed = time.perf_counter() - started
        response.default_encoding = self.default_encoding
        self._keep_cookies(response, request)
        return response

    async def _websocket(
        self,
        url: URL | str,
        *,
        params: Any = None,
        headers: Any = None,
        cookies: Any = None,
        auth: Any = USE_CLIENT_DEFAULT,
        timeout: TimeoutTypes | _Unset = USE_CLIENT_DEFAULT,
        subprotocols: Sequence[str] = (),
        compression: str | None = "deflate",
        max_message_size: int = 16 * 1024 * 1024,
        max_queue: int = 1024 * 1024,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float | None = 10.0,
    ) -> AsyncWebSocket:
        """Open a WebSocket: the handshake GET, built and authenticated like a request."""
        if self.is_closed:
            from transom.exceptions import TransportError

            raise TransportError("this client is closed; make a new one")
        if isinstance(subprotocols, str):
            subprotocols = [subprotocols]
        options = WebSocketOptions(
            subprotocols=tuple(subprotocols),
            compression=compression,
            max_message_size=max_message_size,
            max_queue=max_queue,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            close_timeout=close_timeout,
        )
        request = self.build_request(
            "GET", _http_url(url), params=params, headers=headers, cookies=cookies, timeout=timeout
        )
        flow_auth = self.auth if auth is USE_CLIENT_DEFAULT else build_auth(auth)
        flow = flow_auth.auth_flow(request) if flow_auth is not None else None
        if flow is not None:
            request = next(flow)
        while True:
            self._add_jar_cookies(request)
            response, session = await self._transport.open_websocket(request, options)
            self._keep_cookies(response, request)
            if session is not None:
                return AsyncWebSocket(session, response)
            if flow is not None:
                try:  # a challenge (401 with Digest): the flow may answer it
                    request = flow.send(response)
                    _rewind(request)
                    continue
                except StopIteration:
                    pass
            raise WebSocketHandshakeError(
                f"the server refused the WebSocket handshake: {response.status_code} "
                f"{response.reason_phrase}",
                status_code=response.status_code,
                headers=list(response.headers.raw),
                body=response.content,
            )

    async def _aclose(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            await self._transport.aclose()
            self._backend.close()


_WS_SCHEMES = {"ws": "http", "wss": "https"}


def _http_url(url: URL | str) -> URL | str:
    """ws:// and wss:// as the http:// and https:// they are sent as (RFC 6455 §3)."""
    if isinstance(url, URL):
        scheme = _WS_SCHEMES.get(url.scheme)
        return url if scheme is None else url.copy_with(scheme=scheme)
    head, sep, rest = url.partition("://")
    scheme = _WS_SCHEMES.get(head.lower()) if sep else None
    return url if scheme is None else f"{scheme}://{rest}"


def _rewind(request: Request) -> None:
    body = request.body
    if isinstance(body, BodyStream) and not body.rewind():
        raise StreamConsumed(
            "the auth flow must resend the request, but its body was a one-shot stream; "
            "send bytes or a seekable file"
        )


async def _call(hook: Callable[..., Any], arg: Any) -> None:
    result = hook(arg)
    if inspect.isawaitable(result):
        await result


def _base_url(base_url: str | URL) -> URL | None:
    if not base_url:
        return None
    text = str(base_url)
    return URL(text if text.endswith("/") else text + "/")


def _with_params(url: URL, *layers: Any) -> URL:
    merged = QueryParams(url.query)
    items = list(merged.multi_items())
    for layer in layers:
        if layer:
            items.extend(QueryParams(layer).multi_items())
    return url.copy_with(params=items)


def _join_cookies(first: str | None, second: str | None) -> str:
    return "; ".join(part for part in (first, second) if part)


def _set_framing(method: str, headers: Headers, body: Any) -> None:
    # RFC 9110 §8.6: a request with a body says how long it is; a GET without
    # one says nothing, while POST/PUT/PATCH announce an empty body as length 0.
    if body == b"" and method not in ("POST", "PUT", "PATCH"):
        return
    if "content-length" in headers or "transfer-encoding" in headers:
        return
    if isinstance(body, bytes):
        if body or method in ("POST", "PUT", "PATCH"):
            headers["content-length"] = str(len(body))
    elif body.length is not None:
        headers["content-length"] = str(body.length)
    else:
        headers["transfer-encoding"] = "chunked"


class AsyncClient(_BaseClient):
    """An asyncio HTTP client with a connection pool.

    >>> async with AsyncClient(base_url="http://127.0.0.1:8000") as client:  # doctest: +SKIP
    ...     response = await client.post("/notes", json={"title": "hi"})
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(backend=AsyncioBackend(), **kwargs)

    async def request(self, method: str, url: URL | str, **kwargs: Any) -> Response:
        """Send a request and read its body.

        ``params`` (query), ``headers``, ``cookies``, one body argument of
        ``content`` (bytes/str/file/iterator), ``data`` (a dict is a form),
        ``files`` (multipart) or ``json``, ``auth``, ``follow_redirects``,
        ``timeout``.
        """
        return await self._request(method, url, **kwargs)

    async def send(self, request: Request, *, stream: bool = False, **kwargs: Any) -> Response:
        """Send a request built with ``build_request``."""
        return await self._send(request, stream=stream, **kwargs)

    @asynccontextmanager
    async def stream(self, method: str, url: URL | str, **kwargs: Any) -> AsyncIterator[Response]:
        """Send a request and yield the response with its body unread.

        >>> async with client.stream("GET", url) as response:  # doctest: +SKIP
        ...     async for chunk in response.aiter_bytes(): ...
        """
        response = await self._request(method, url, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    @asynccontextmanager
    async def websocket(self, url: URL | str, **kwargs: Any) -> AsyncIterator[AsyncWebSocket]:
        """Open a WebSocket (ws://, wss://, http:// or https://); closed on exit.

        ``params``, ``headers``, ``cookies``, ``auth``, ``timeout`` as for a
        request (redirects are not followed); ``subprotocols`` (offered, in
        order), ``compression`` (``"deflate"``: permessage-deflate, RFC 7692;
        ``None``), ``max_message_size``, ``max_queue`` (bytes of unread
        messages before reading pauses), ``ping_interval`` / ``ping_timeout``
        (keep-alive; ``None`` turns it off), ``close_timeout`` (how long
        closing waits for the server's close, or for an in-process app to
        return before it is cancelled). A refused handshake raises
        ``WebSocketHandshakeError``.

        >>> async with client.websocket("ws://127.0.0.1:8000/echo") as ws:  # doctest: +SKIP
        ...     await ws.send_text("hi")
        ...     assert await ws.receive_text() == "hi"
        """
        ws = await self._websocket(url, **kwargs)
        try:
            yield ws
        except BaseException as exc:
            if isinstance(exc, Exception):
                await ws.close()
            else:  # cancelled or interrupted: no closing handshake
                await ws._session.abort()
            raise
        await ws.close()

    async def get(self, url: URL | str, **kwargs: Any) -> Response:
        """A GET request; keyword arguments as for ``request``."""
        return await self._request("GET", url, **kwargs)

    async def head(self, url: URL | str, **kwargs: Any) -> Response:
        """A HEAD request; keyword arguments as for ``request``."""
        return await self._request("HEAD", url, **kwargs)

    async def options(self, url: URL | str, **kwargs: Any) -> Response:
        """A OPTIONS request; keyword arguments as for ``request``."""
        return await self._request("OPTIONS", url, **kwargs)

    async def delete(self, url: URL | str, **kwargs: Any) -> Response:
        """A DELETE request; keyword arguments as for ``request``."""
        return await self._request("DELETE", url, **kwargs)

    async def post(self, url: URL | str, **kwargs: Any) -> Response:
        """A POST request; keyword arguments as for ``request``."""
        return await self._request("POST", url, **kwargs)

    async def put(self, url: URL | str, **kwargs: Any) -> Response:
        """A PUT request; keyword arguments as for ``request``."""
        return await self._request("PUT", url, **kwargs)

    async def patch(self, url: URL | str, **kwargs: Any) -> Response:
        """A PATCH request; keyword arguments as for ``request``."""
        return await self._request("PATCH", url, **kwargs)

    async def aclose(self) -> None:
        """Close every pooled connection (and the transport)."""
        await self._aclose()

    async def __aenter__(self) -> AsyncClient:
        await self._transport.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._aclose()


class Client(_BaseClient):
    """A blocking HTTP client with a connection pool; safe to share between threads.

    >>> with Client() as client:  # doctest: +SKIP
    ...     client.get("https://example.org").text
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(backend=BlockingBackend(), **kwargs)

    def request(self, method: str, url: URL | str, **kwargs: Any) -> Response:
        """Send a request and read its body (arguments as ``AsyncClient.request``)."""
        return run_sync(self._request(method, url, **kwargs))

    def send(self, request: Request, *, stream: bool = False, **kwargs: Any) -> Response:
        """Send a request built with ``build_request``."""
        return run_sync(self._send(request, stream=stream, **kwargs))

    @contextmanager
    def stream(self, method: str, url: URL | str, **kwargs: Any) -> Iterator[Response]:
        """Send a request and yield the response with its body unread.

        >>> with client.stream("GET", url) as response:  # doctest: +SKIP
        ...     for line in response.iter_lines(): ...
        """
        response = run_sync(self._request(method, url, stream=True, **kwargs))
        try:
            yield response
        finally:
            response.close()

    @contextmanager
    def websocket(self, url: URL | str, **kwargs: Any) -> Iterator[WebSocket]:
        """Open a WebSocket; arguments as ``AsyncClient.websocket``.

        >>> with client.websocket("ws://127.0.0.1:8000/echo") as ws:  # doctest: +SKIP
        ...     ws.send_text("hi")
        ...     assert ws.receive_text() == "hi"
        """
        ws = run_sync(self._websocket(url, **kwargs))
        try:
            yield WebSocket(ws)
        except BaseException as exc:
            if isinstance(exc, Exception):
                run_sync(ws.close())
            else:
                run_sync(ws._session.abort())
            raise
        run_sync(ws.close())

    def get(self, url: URL | str, **kwargs: Any) -> Response:
        """A GET request; keyword arguments as for ``request``."""
        return run_sync(self._request("GET", url, **kwargs))

    def head(self, url: URL | str, **kwargs: Any) -> Response:
        """A HEAD request; keyword arguments as for ``request``."""
        return run_sync(self._request("HEAD", url, **kwargs))

    def options(self, url: URL | str, **kwargs: Any) -> Response:
        """A OPTIONS request; keyword arguments as for ``request``."""
        return run_sync(self._request("OPTIONS", url, **kwargs))

    def delete(self, url: URL | str, **kwargs: Any) -> Response:
        """A DELETE request; keyword arguments as for ``request``."""
        return run_sync(self._request("DELETE", url, **kwargs))

    def post(self, url: URL | str, **kwargs: Any) -> Response:
        """A POST request; keyword arguments as for ``request``."""
        return run_sync(self._request("POST", url, **kwargs))

    def put(self, url: URL | str, **kwargs: Any) -> Response:
        """A PUT request; keyword arguments as for ``request``."""
        return run_sync(self._request("PUT", url, **kwargs))

    def patch(self, url: URL | str, **kwargs: Any) -> Response:
        """A PATCH request; keyword arguments as for ``request``."""
        return run_sync(self._request("PATCH", url, **kwargs))

    def close(self) -> None:
        """Close every pooled connection (and the transport)."""
        run_sync(self._aclose())

    def __enter__(self) -> Client:
        run_sync(self._transport.open())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
