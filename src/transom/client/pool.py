"""``HTTPTransport``: TCP/TLS connections over the HTTP/1.1 core, pooled.

Theory of operation
-------------------
Connections are kept per *key* (origin, plus the proxy when there is one,
plus the request's ``max_header_count`` when it sets one: a connection's
limits on response heads are fixed when it opens).
``_checkout`` takes the most recently used idle connection of the key
(LIFO: the warmest socket, and the least likely to have been closed by the
server), dropping any that expired (``Limits.keepalive_expiry``) or went
stale (the server closed it, or sent bytes nobody asked for). With none idle
it reserves a slot for a new connection if the total and per-origin limits
allow; at the total limit it closes an idle connection of another origin to
make room; else the caller waits on a waiter until a connection is returned
or closed, at most ``Timeout.pool`` seconds (``PoolTimeout``).

The bookkeeping sections never await, so one ``threading.Lock`` makes the
pool safe for ``Client`` shared by threads and costs nothing measurable
under ``AsyncClient``. Waiting is the backend's (a future, or an event).

Retries: the one thing retried silently is an idempotent request whose
reused connection failed before any response byte (``StaleConnection``): it
is sent once more, on a fresh connection.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from transom.client._backend import NetworkStream, Waiter
from transom.client._content import BodyStream
from transom.client._http11 import (
    MAX_HEADERS_EXTENSION,
    HTTP11Connection,
    StaleConnection,
    expects_continue,
)
from transom.client._tls import ssl_context
from transom.client.config import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Limits, Timeout
from transom.client.models import Request, Response
from transom.client.proxies import Proxy, env_proxies, open_tunnel, proxy_from_env
from transom.client.retries import IDEMPOTENT_METHODS
from transom.client.transports import BaseTransport
from transom.exceptions import PoolTimeout, UnsupportedProtocol
from transom.http.url import URL

if TYPE_CHECKING:
    from transom.client.websocket import Session, WebSocketOptions

__all__ = ["ConnectionPool", "HTTPTransport", "PoolKey"]

#: (scheme, host, port, proxy origin, max header count): connections are shared
#: only within one key.
PoolKey = tuple[str, str, int | None, str | None, int | None]


class ConnectionPool:
    """The bookkeeping of open connections (see the module docstring)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._idle: dict[PoolKey, list[HTTP11Connection]] = {}
        self._open: dict[PoolKey, int] = {}
        self._total = 0
        self._idle_count = 0
        self._waiters: deque[Waiter] = deque()
        self._conns: set[HTTP11Connection] = set()  # every open one, idle or in use
        self._lock = threading.Lock()

    def _checkout(self, key: PoolKey, fresh: bool = False) -> HTTP11Connection | bool:
        """An idle connection, True (a slot is reserved: connect), or False (wait).

        ``fresh``: never an idle one (after a stale connection, its siblings are
        suspect too)."""
        with self._lock:
            idle = self._idle.get(key)
            if idle and not fresh:
                now = time.monotonic()
                expiry = self.limits.keepalive_expiry
                while idle:
                    conn = idle.pop()
                    self._idle_count -= 1
                    if conn.is_reusable(now, expiry):
                        return conn
                    self._forget(conn)
                    conn.close()
            if self._open.get(key, 0) >= self.limits.max_connections_per_host:
                return False
            if self._total >= self.limits.max_connections and not self._evict_one():
                return False
            self._open[key] = self._open.get(key, 0) + 1
            self._total += 1
            return True

    def _evict_one(self) -> bool:
        """Close the longest-idle connection of any origin; False if none is idle."""
        oldest: HTTP11Connection | None = None
        for conns in self._idle.values():
            if conns and (oldest is None or conns[0].idle_since < oldest.idle_since):
                oldest = conns[0]
        if oldest is None:
            return False
        self._idle[oldest.key].remove(oldest)
        self._idle_count -= 1
        self._forget(oldest)
        oldest.close()
        return True

    def opened(self, conn: HTTP11Connection) -> None:
        """A new connection exists (its slot was reserved by ``_checkout``)."""
        with self._lock:
            self._conns.add(conn)

    def _forget(self, conn: HTTP11Connection) -> None:
        self._conns.discard(conn)
        self._open[conn.key] -= 1
        self._total -= 1

    def _wake(self) -> None:
        if not self._waiters:
            return
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            waiter.wake()

    def release(self, conn: HTTP11Connection) -> None:
        """A connection finished an exchange and may be reused."""
        with self._lock:
            if conn.closed:
                return
            conn.idle_since = time.monotonic()
            if self._idle_count >= self.limits.max_keepalive:
                self._forget(conn)
                conn.close()
            else:
                self._idle.setdefault(conn.key, []).append(conn)
                self._idle_count += 1
            self._wake()

    def discard(self, conn: HTTP11Connection) -> None:
        """A connection must not be reused: close it and free its slot."""
        with self._lock:
            if conn.closed:
                return
            conn.close()
            self._forget(conn)
            self._wake()

    def unreserve(self, key: PoolKey) -> None:
        """A reserved slot was not used (connecting failed)."""
        with self._lock:
            self._open[key] -= 1
            self._total -= 1
            self._wake()

    def add_waiter(self, waiter: Waiter) -> None:
        with self._lock:
            self._waiters.append(waiter)

    def remove_waiter(self, waiter: Waiter) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def close_all(self) -> list[HTTP11Connection]:
        """Close every connection, idle or in use; returns them (to wait for the close)."""
        with self._lock:
            closing = list(self._conns)
            for conn in closing:
                self._forget(conn)
                conn.close()
            self._idle.clear()
            self._idle_count = 0
            self._wake()
        return closing


class HTTPTransport(BaseTransport):
    """Pooled HTTP/1.1 over TCP, TLS and HTTP proxies.

    >>> client = Client(transport=HTTPTransport(verify="ca.pem", limits=Limits(max_connections=10)))
    """

    def __init__(
        self,
        *,
        verify: Any = True,
        cert: Any = None,
        proxy: str | Proxy | None = None,
        trust_env: bool = True,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self._verify = verify
        self._cert = cert
        self._ssl: Any = None  # built on first https use (loading the trust store takes ms)
        self._proxy = Proxy(proxy) if isinstance(proxy, str) else proxy
        self._env = env_proxies() if trust_env and self._proxy is None else {}
        self.pool = ConnectionPool(limits)

    @property
    def ssl_context(self) -> Any:
        if self._ssl is None:
            self._ssl = ssl_context(self._verify, self._cert)
        return self._ssl

    def proxy_for(self, url: URL) -> Proxy | None:
        """The proxy a request to ``url`` goes through (``proxy=`` or the environment)."""
        if self._proxy is not None:
            return self._proxy
        return proxy_from_env(url, self._env) if self._env else None

    async def handle_request(self, request: Request) -> Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise UnsupportedProtocol(
                f"cannot send a request to {url!r}: the scheme must be http or https"
            )
        extensions = request.extensions
        timeout: Timeout = extensions.get("timeout") or DEFAULT_TIMEOUT
        proxy = self.proxy_for(url)
        key = (
            url.scheme,
            url.host,
            url.port,
            None if proxy is None else proxy.url.origin,
            extensions.get(MAX_HEADERS_EXTENSION),
        )
        if proxy is not None and proxy.authorization and url.scheme == "http":
            request.headers["proxy-authorization"] = proxy.authorization
        got = self.pool._checkout(key)
        conn = (
            got
            if type(got) is HTTP11Connection
            else await self._acquire(key, url, proxy, timeout, got)
        )
        try:
            response = await conn.handle(request, timeout)
        except StaleConnection as stale:
            body = request.body
            if request.method not in IDEMPOTENT_METHODS or (
                isinstance(body, BodyStream) and not body.rewind()
            ):
                raise stale.error from stale
            # The server closed the idle connection as we reused it: once more, on a new one.
            conn = await self._acquire(
                key, url, proxy, timeout, self.pool._checkout(key, fresh=True)
            )
            try:
                response = await conn.handle(request, timeout)
            except StaleConnection as stale:  # pragma: no cover - a fresh one is never reused
                raise stale.error from stale
        if (
            response.status_code == 417
            and expects_continue(request)
            and not (isinstance(request.body, BodyStream) and not request.body.rewind())
        ):
            # RFC 9110 §10.1.1: a client SHOULD repeat the request without the
            # expectation (a body already read from a one-shot stream cannot be).
            await response.aclose()
            request.headers.raw[:] = [f for f in request.headers.raw if f[0] != b"expect"]
            conn = await self._acquire(key, url, proxy, timeout, self.pool._checkout(key))
            try:
                response = await conn.handle(request, timeout)
            except StaleConnection as stale:
                raise stale.error from stale
        return response

    async def _acquire(
        self,
        key: PoolKey,
        url: URL,
        proxy: Proxy | None,
        timeout: Timeout,
        got: HTTP11Connection | bool,
    ) -> HTTP11Connection:
        """A connection, given the first ``_checkout`` answer: wait, or connect."""
        pool = self.pool
        deadline = None if timeout.pool is None else time.monotonic() + timeout.pool
        while True:
            if got is True:
                break
            if got is not False:
                return got
            waiter = self.backend.waiter()
            pool.add_waiter(waiter)
            remaining = None if deadline is None else deadline - time.monotonic()
            if (remaining is not None and remaining <= 0) or not await waiter.wait(remaining):
                pool.remove_waiter(waiter)
                raise PoolTimeout(
                    f"no connection to {url.origin} became free within {timeout.pool} s; "
                    "raise Limits(max_connections=...) or the pool timeout"
                )
            got = pool._checkout(key)
        try:
            return await self._connect(key, url, proxy, timeout)
        except BaseException:
            pool.unreserve(key)
            raise

    async def _connect(
        self, key: PoolKey, url: URL, proxy: Proxy | None, timeout: Timeout
    ) -> HTTP11Connection:
        stream, forward = await self.open_stream(url, proxy, timeout)
        return HTTP11Connection(stream, key, self.pool, proxy_forward=forward)

    async def open_stream(
        self, url: URL, proxy: Proxy | None, timeout: Timeout, *, tunnel: bool = False
    ) -> tuple[NetworkStream, bool]:
        """A new connection to ``url``'s origin (TCP, TLS, through ``proxy``), not pooled.

        The flag says requests go to the proxy in absolute form (plain http
        through a proxy); ``tunnel=True`` asks for a CONNECT tunnel even then
        (a WebSocket, which owns its connection)."""
        https = url.scheme == "https"
        host, port = url.host, url.effective_port or (443 if https else 80)
        backend = self.backend
        if proxy is None:
            stream = await backend.connect_tcp(
                host,
                port,
                timeout=timeout.connect,
                ssl_context=self.ssl_context if https else None,
                server_hostname=host,
            )
            return stream, False
        stream = await backend.connect_tcp(proxy.host, proxy.port, timeout=timeout.connect)
        if not (https or tunnel):
            return stream, True
        try:
            await open_tunnel(stream, proxy, host, port, timeout)
        except BaseException:
            stream.close()
            raise
        if not https:
            return stream, False
        return await stream.start_tls(self.ssl_context, host, timeout.connect), False

    async def open_websocket(
        self, request: Request, options: WebSocketOptions
    ) -> tuple[Response, Session | None]:
        """Open a WebSocket on a dedicated connection (``_ws_connect``)."""
        from transom.client._ws_connect import open_websocket

        return await open_websocket(self, request, options)

    async def aclose(self) -> None:
        for conn in self.pool.close_all():
            await conn.wait_closed()
