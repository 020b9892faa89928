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
- **Failures.** A refused or broken connection, or a server that does not
  answer within ``socket_timeout``, raises ``StoreUnavailable`` (the app
  answers 503). The pool drops the broken connection, so the first call
  after the server is back opens a new one and works.
- **Processes and loops.** ``redis.asyncio`` connections belong to the
  process and the event loop that opened them. A store built from a URL
  keeps one client per event loop (in practice one: the worker's), and
  after a ``fork`` builds new ones in the child, setting the parent's
  aside untouched. ``close()`` closes the running loop's client, which
  opens new connections if it is called again.

``redis`` is an optional dependency (``pip install 'transom[redis]'``),
imported when the first ``RedisStore`` is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from transom.exceptions import ConfigurationError
from transom.web.sessions.store import SessionStore, StoreUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStore"]

# KEYS[1]: the counter; ARGV[1]: cost; ARGV[2]: window in ms. PTTL is -1 for
# a key INCRBY has just created (no expiry yet): that hit opens the window.
_HIT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ttl)
end
return {count, ttl}
"""


def _import_redis() -> Any:
    try:
        import redis.asyncio
        import redis.exceptions
    except ImportError as exc:
        raise ConfigurationError(
            "RedisStore needs the redis package: pip install 'transom[redis]'"
        ) from exc
    return redis


def _without_password(url: str) -> str:
    """``url`` fit for logs and error messages: no user name or password."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisStore(SessionStore):
    """Sessions and rate-limit counters in Redis (``redis.asyncio``).

    >>> app = App(secret_key=KEY, session_store=RedisStore("redis://cache:6379/0"))

    ``url_or_client`` is a ``redis://`` / ``rediss://`` / ``unix://`` URL or a
    ready ``redis.asyncio.Redis`` (built with ``decode_responses=False``),
    which is used as is and left open by ``close()``. Keys start with
    ``prefix``, so several apps can share one database.

    A store built from a URL passes ``pool_options`` on to
    ``redis.asyncio.BlockingConnectionPool.from_url``, over these defaults,
    chosen so a lost server costs a request at most a few seconds and never
    hangs it:

    - ``socket_connect_timeout=2.0``, ``socket_timeout=2.0`` (seconds);
    - ``max_connections=50`` per process, and ``timeout=2.0``: past 50
      commands at once, a call waits up to 2 s for a free connection (the
      plain pool would fail at once instead);
    - ``health_check_interval=30``: a connection idle for 30 s is checked
      with ``PING`` before use;
    - ``retry=Retry(NoBackoff(), 1)``: a command that meets a broken
      connection (a server restarted since) is tried once more on a new one.
    """

    def __init__(
        self,
        url_or_client: str | Redis = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "transom:",
        **pool_options: Any,
    ) -> None:
        redis = _import_redis()
        self.prefix = prefix
        self._errors: tuple[type[BaseException], ...] = (
            redis.exceptions.ConnectionError,  # also BusyLoadingError, AuthenticationError
            redis.exceptions.TimeoutError,
            redis.exceptions.ReadOnlyError,  # a replica after fail-over
            OSError,
        )
        if isinstance(url_or_client, str):
            self._url: str | None = url_or_client
            self._options = self._pool_options(redis, pool_options)
            self._client: Redis = self._new_client()
        elif pool_options:
            raise ConfigurationError(
                "pool options apply when RedisStore builds the client from a URL;"
                " set them on the client you pass instead"
            )
        else:
            if url_or_client.connection_pool.connection_kwargs.get("decode_responses"):
                raise ConfigurationError("RedisStore needs a client with decode_responses=False")
            self._url, self._options, self._client = None, {}, url_or_client
        self._where = _without_password(self._url) if self._url else repr(self._client)
        self._pid = os.getpid()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop self._client is for
        self._clients: dict[asyncio.AbstractEventLoop, Redis] = {}
        self._inherited: list[Redis] = []  # clients from before a fork: kept, never used
        self._hit = self._client.register_script(_HIT_SCRIPT)

    def __repr__(self) -> str:
        return f"RedisStore({self._where!r}, prefix={self.prefix!r})"

    @staticmethod
    def _pool_options(redis: Any, options: dict[str, Any]) -> dict[str, Any]:
        from redis.backoff import NoBackoff

        defaults: dict[str, Any] = {
            "socket_connect_timeout": 2.0,
            "socket_timeout": 2.0,
            "health_check_interval": 30,
            "max_connections": 50,
            "timeout": 2.0,
            "retry": redis.asyncio.retry.Retry(NoBackoff(), 1),
        }
        if options.get("decode_responses"):
            raise ConfigurationError("RedisStore needs decode_responses=False (records are bytes)")
        return defaults | options

    def _new_client(self) -> Redis:
        redis = _import_redis()
        try:
            pool = redis.asyncio.BlockingConnectionPool.from_url(self._url, **self._options)
        except ValueError as exc:
            raise ConfigurationError(
                f"RedisStore: bad URL {_without_password(self._url or '')!r}: {exc}"
            ) from exc
        client: Redis = redis.asyncio.Redis.from_pool(pool)  # closes the pool with it
        return client

    async def load(self, session_id: str) -> bytes | None:
        with self._translate_errors():
            record = await self._current().get(self.prefix + "s:" + session_id)
        return cast("bytes | None", record)  # decode_responses=False: bytes

    async def save(self, session_id: str, record: bytes, ttl: float) -> None:
        key = self.prefix + "s:" + session_id
        with self._translate_errors():
            if ttl <= 0:  # already expired: Redis refuses PX 0
                await self._current().delete(key)
            else:
                await self._current().set(key, record, px=_milliseconds(ttl))

    async def delete(self, session_id: str) -> None:
        with self._translate_errors():
            await self._current().delete(self.prefix + "s:" + session_id)

    async def hit(self, key: str, window: float, cost: int = 1) -> tuple[int, float]:
        keys, args = [self.prefix + "c:" + key], [cost, _milliseconds(window)]
        with self._translate_errors():
            count, ttl = await self._hit(keys=keys, args=args, client=self._current())
        return int(count), int(ttl) / 1000

    async def reset(self, key: str) -> None:
        with self._translate_errors():
            await self._current().delete(self.prefix + "c:" + key)

    async def ping(self) -> None:
        with self._translate_errors():
            await self._current().ping()

    async def close(self) -> None:
        """Close the connections of the running loop (the app does it at shutdown).

        Call it before an event loop that used the store closes: connections
        left on a closed loop cannot be closed any more. A client passed in
        is the caller's to close.
        """
        if self._url is not None and self._pid == os.getpid():
            await self._current().aclose()  # the pool stays usable: it reconnects if called

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        """A lost or silent server becomes ``StoreUnavailable`` (the app's 503)."""
        try:
            yield
        except self._errors as exc:
            raise StoreUnavailable(
                f"Redis session store {self._where}: {type(exc).__name__}: {exc}"
            ) from exc

    def _current(self) -> Redis:
        """The client for this process and event loop."""
        loop = asyncio.get_running_loop()
        if loop is self._loop and self._pid == os.getpid():
            return self._client
        if self._url is not None:
            self._switch_to(loop)
        else:  # a client passed in: the caller's to use on one loop
            self._loop = loop
        return self._client

    def _switch_to(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use (or build) the client of ``loop``: connections belong to one loop and process.

        Clients of other loops and of the parent process are kept, never
        used from here and never closed from here (they can only be closed
        on their own loop, in their own process).
        """
        if self._pid != os.getpid():
            self._inherited += [self._client, *self._clients.values()]
            self._clients.clear()
            self._client, self._loop, self._pid = self._new_client(), None, os.getpid()
        if self._loop is None:  # the first loop takes the client built so far
            self._clients[loop] = self._client
        elif loop not in self._clients:
            self._clients[loop] = self._new_client()
        self._client, self._loop = self._clients[loop], loop
