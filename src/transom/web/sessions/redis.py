"""``RedisStore``: sessions and counters in Redis, shared by every instance.

For several app instances (on one machine or behind a load balancer) that
must see the same sessions and rate-limit counters.

Theory of operation
-------------------
- **Keys.** A session is one string key ``<prefix>s:<id>`` written with
  ``SET ... PX <ttl>``, so Redis itself forgets it when it expires: no
  clean-up to run. A counter is ``<prefix>c:<key>``.
- **Counters** follow ``MemoryStore``'s fixed windows exactly. A small Lua
  script (atomic on the server) adds the cost with ``INCRBY``, gives a key
  that has no expiry yet (a new window) a ``PEXPIRE`` of the window, and
  returns the count and ``PTTL``. The script is sent by digest
  (``EVALSHA``) and again in full when a restarted server has forgotten it.
- **The client.** A store built from a URL talks RESP2 itself
  (``transom.web.sessions._resp``): one pipelined connection per event
  loop, opened at the first command, whose commands of one loop turn go
  out in one write and whose replies resolve the callers' futures in order.
  No connection pool: Redis runs one command at a time anyway, and one
  connection carries thousands of commands a second. A ``redis.asyncio``
  client passed in is used as is instead (its own pool and timeouts).
- **Failures.** A refused connection, or one that gives no reply within
  ``timeout`` seconds, raises ``StoreUnavailable`` (the app answers 503)
  and the connection is dropped; the next command opens a new one, so the
  store works again as soon as the server does. A command whose connection
  the server closed (a restart) is sent once more on a new connection.
- **Processes and loops.** A connection belongs to the process and the
  event loop that opened it. The store keeps one client per event loop (in
  practice one: the worker's), and after a ``fork`` builds new ones in the
  child, setting the parent's aside untouched. ``close()`` closes the
  running loop's connection; a later command opens a new one.

A store built from a URL needs no other package. ``redis`` (``pip install
'transom[redis]'``) is only needed to pass a ``redis.asyncio`` client.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from transom.exceptions import ConfigurationError
from transom.web import _fork
from transom.web.sessions._resp import Address, Client, ConnectionLost, Reply, ReplyError, encode
from transom.web.sessions.store import SessionStore, StoreUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStore"]

# KEYS[1]: the counter; ARGV[1]: cost; ARGV[2]: window in ms. PTTL is -1 for
# a key INCRBY has just created (no expiry yet): that hit opens the window.
_HIT_SCRIPT = b"""
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ttl)
end
return {count, ttl}
"""
_HIT_DIGEST = hashlib.sha1(_HIT_SCRIPT, usedforsecurity=False).hexdigest().encode()

_URL_FORMS = "redis://[[user]:password@]host[:port][/db], rediss://... or unix:///path?db=N"


def _without_password(url: str) -> str:
    """``url`` fit for logs and error messages: no user name or password."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _parse_url(url: str) -> Address:
    """The ``Address`` of a ``redis://``, ``rediss://`` or ``unix://`` URL."""
    parts = urlsplit(url)
    try:
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = sorted(set(query) - {"db"})
        if unknown:
            raise ValueError(f"unknown query parameters {unknown} (only db is read)")
        if parts.scheme == "unix":
            if not parts.path:
                raise ValueError("no socket path")
            where: dict[str, Any] = {"path": unquote(parts.path)}
            db = int(query.get("db", 0))
        elif parts.scheme in ("redis", "rediss"):
            where = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 6379}
            db = int(query.get("db") or parts.path.strip("/") or 0)
        else:
            raise ValueError(f"unknown scheme {parts.scheme!r}")
    except ValueError as exc:
        raise ConfigurationError(
            f"RedisStore: bad URL {_without_password(url)!r}: {exc}; expected {_URL_FORMS}"
        ) from exc
    return Address(
        **where,
        tls=parts.scheme == "rediss",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        db=db,
    )


def _milliseconds(seconds: float) -> bytes:
    return b"%d" % max(1, round(seconds * 1000))


class RedisStore(SessionStore):
    """Sessions and rate-limit counters in Redis.

    >>> app = App(secret_key=KEY, session_store=RedisStore("redis://cache:6379/0"))

    ``url_or_client`` is a ``redis://[[user]:password@]host[:port][/db]``,
    ``rediss://`` (TLS, the server's certificate checked against the
    system's CAs) or ``unix:///path/to/redis.sock?db=N`` URL, or a ready
    ``redis.asyncio.Redis`` (built with ``decode_responses=False``), which
    is used as is and left open by ``close()``. Keys start with ``prefix``,
    so several apps can share one database.

    A store built from a URL opens one connection per event loop and gives
    up on a command (``StoreUnavailable``, the app's 503) when the server
    does not accept the connection within ``connect_timeout`` or answer
    within ``timeout`` seconds (2 each by default), so a lost server costs
    a request a few seconds at most and never hangs it.
    """

    def __init__(
        self,
        url_or_client: str | Redis = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "transom:",
        timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        self.prefix = prefix
        self._sessions = (prefix + "s:").encode()
        self._counters = (prefix + "c:").encode()
        self._external: Redis | None = None
        if isinstance(url_or_client, str):
            self._where = _without_password(url_or_client)
            self._address = _parse_url(url_or_client)
            self._timeout = _positive("timeout", 2.0 if timeout is None else timeout)
            self._connect_timeout = _positive(
                "connect_timeout", 2.0 if connect_timeout is None else connect_timeout
            )
        else:
            self._use_external(url_or_client, timeout, connect_timeout)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop self._client is for
        self._generation = _fork.generation
        self._client = self._new_client()
        self._clients: dict[asyncio.AbstractEventLoop, Client] = {}
        self._inherited: list[Client] = []  # clients from before a fork: kept, never used

    def _use_external(self, client: Redis, timeout: float | None, connect: float | None) -> None:
        if timeout is not None or connect is not None:
            raise ConfigurationError(
                "timeout and connect_timeout apply when RedisStore connects from a URL;"
                " set socket_timeout and socket_connect_timeout on the client you pass instead"
            )
        options = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
        if options.get("decode_responses"):
            raise ConfigurationError("RedisStore needs a client with decode_responses=False")
        import redis.exceptions

        self._external, self._where = client, repr(client)
        self._address, self._timeout, self._connect_timeout = Address(), 0.0, 0.0
        self._external_errors: tuple[type[BaseException], ...] = (
            redis.exceptions.ConnectionError,  # also BusyLoadingError, AuthenticationError
            redis.exceptions.TimeoutError,
            redis.exceptions.ReadOnlyError,  # a replica after fail-over
            OSError,
        )

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, prefix={self.prefix!r})"

    # load and save, the commands of every request, write their RESP by hand: 0.1 µs, not 0.5.

    async def load(self, session_id: str) -> bytes | None:
        key = self._sessions + session_id.encode()
        command = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)
        return cast("bytes | None", await self._run(command, (b"GET", key)))

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        key = self._sessions + session_id.encode()
        if ttl <= 0:  # already expired: Redis refuses PX 0
            await self._call(b"DEL", key)
            return
        ms = _milliseconds(ttl)
        command = b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$2\r\nPX\r\n$%d\r\n%s\r\n" % (
            len(key), key, len(record), record, len(ms), ms
        )  # fmt: skip
        await self._run(command, (b"SET", key, record, b"PX", ms))

    async def delete(self, session_id: str) -> None:
        await self._call(b"DEL", self._sessions + session_id.encode())

    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        args = (b"1", self._counters + key.encode(), b"%d" % cost, _milliseconds(window))
        try:
            reply = await self._call(b"EVALSHA", _HIT_DIGEST, *args)
        except ReplyError as exc:
            if exc.code != "NOSCRIPT":  # not the restarted server that forgot the script
                raise
            reply = await self._call(b"EVAL", _HIT_SCRIPT, *args)
        count, ttl = cast("list[int]", reply)
        return int(count), int(ttl) / 1000

    async def reset(self, key: str) -> None:
        await self._call(b"DEL", self._counters + key.encode())

    async def ping(self) -> None:
        await self._call(b"PING")

    async def close(self) -> None:
        """Close the running loop's connection (the app does it at shutdown).

        Call it before an event loop that used the store closes: a
        connection left on a closed loop cannot be closed any more. A client
        passed in is the caller's to close.
        """
        if self._external is None and self._generation == _fork.generation:
            client = self._clients.get(asyncio.get_running_loop())
            if client is not None:
                await client.close()  # a later command opens a new connection

    def _call(self, *args: bytes) -> Coroutine[Any, Any, Reply]:
        return self._run(encode(*args), args)

    async def _run(self, command: bytes, args: tuple[bytes, ...]) -> Reply:
        """The reply to ``command`` (``args`` encoded), or to ``args`` from a client passed in."""
        if self._external is not None:
            return await self._call_external(self._external, args)
        client = self._client
        if self._loop is not asyncio.get_running_loop() or self._generation != _fork.generation:
            client = self._switch()
        waiter = client.send(command)
        try:
            return await (client.call(command) if waiter is None else waiter)
        except ConnectionLost:  # the server closed the connection (restarted?): once more
            return await client.call(command)

    async def _call_external(self, client: Redis, args: tuple[bytes, ...]) -> Reply:
        import redis.exceptions

        try:
            reply = await client.execute_command(*args)  # type: ignore[no-untyped-call]  # untyped
            return cast(Reply, reply)
        except redis.exceptions.NoScriptError as exc:
            raise ReplyError(f"NOSCRIPT {exc}") from exc
        except self._external_errors as exc:
            raise StoreUnavailable(
                f"Redis session store {self._where}: {type(exc).__name__}: {exc}"
            ) from exc

    def _new_client(self) -> Client:
        return Client(
            self._address,
            timeout=self._timeout,
            connect_timeout=self._connect_timeout,
            where=f"Redis session store {self._where}",
        )

    def _switch(self) -> Client:
        """Use (or build) the client of the running loop, in this process.

        Clients of other loops and of the parent process are kept, never
        used from here and never closed from here (a connection can only be
        closed on its own loop, in its own process).
        """
        loop = asyncio.get_running_loop()
        if self._generation != _fork.generation:
            self._inherited += self._clients.values()
            self._clients, self._generation = {}, _fork.generation
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._new_client()
        self._client, self._loop = client, loop
        return client


def _positive(name: str, seconds: float) -> float:
    if not seconds > 0:
        raise ConfigurationError(f"RedisStore: {name} must be more than 0 seconds, not {seconds!r}")
    return seconds
