"""A small Redis client: RESP2 on one pipelined asyncio connection.

``RedisStore`` sends a handful of commands (``GET``, ``SET``, ``DEL``,
``EVALSHA``, ``PING``), each a short request answered by a short reply.
A general client (redis-py's asyncio one) spends about 90 µs of CPU per
command on a connection pool, a timeout per read, a pure-Python parser
and retry wrappers; this one spends a few.

Theory of operation
-------------------
- **The protocol is data.** ``encode`` turns a command into bytes and
  ``parse`` reads one reply from a buffer at an offset: either the reply
  and the offset after it, or ``INCOMPLETE`` when the buffer ends inside
  it. Both are plain functions, tested without sockets. The reply types
  are RESP2's (https://redis.io/docs/latest/develop/reference/protocol-spec/):
  simple string ``+``, error ``-``, integer ``:``, bulk string ``$``
  (``$-1``: null), array ``*`` (``*-1``: null).
- **One connection, pipelined.** Redis answers the commands of one
  connection in the order it received them, so ``Connection`` keeps a
  queue of waiting futures: ``send`` appends one and queues the command's
  bytes; the bytes queued in one event-loop turn go out in one ``write``;
  each complete reply that arrives resolves the oldest waiter. A waiter
  whose caller was cancelled still takes its reply (and drops it), so the
  order holds.
- **Deadlines, one timer.** Each waiter carries the loop time by which its
  reply is due (``timeout`` after it was sent). One timer per connection is
  armed for the oldest waiter's deadline; when it fires it looks at the
  oldest waiter again: still there and late, the connection is given up
  (timeout); answered, the timer is armed for the new oldest, if any. So
  the timer is set once per ``timeout`` under load, not once per command.
- **Loss.** A connection that times out, closes, or sends something that is
  not RESP fails every waiter with ``StoreUnavailable`` and is never used
  again; ``Client`` opens a new one at the next command. A waiter failed
  because the server closed the connection gets ``ConnectionLost`` (a
  ``StoreUnavailable``), which the caller may retry once on a new
  connection: the server may have restarted since the last command.
- **Errors.** An error reply is raised as ``ReplyError`` (a bug or a
  misuse: a wrong key type, an unknown command), except the codes that
  mean "this server cannot serve now" (``LOADING``, ``READONLY``,
  ``MASTERDOWN``, ``BUSY``, ``TRYAGAIN``, ``CLUSTERDOWN``), raised as
  ``StoreUnavailable``.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
from dataclasses import dataclass
from typing import Final, TypeAlias

from transom.web.sessions.store import StoreUnavailable

__all__ = [
    "INCOMPLETE",
    "Address",
    "Client",
    "Connection",
    "ConnectionLost",
    "ProtocolError",
    "ReplyError",
    "encode",
    "parse",
]

Reply: TypeAlias = "bytes | int | list[Reply] | ReplyError | None"


class ReplyError(Exception):
    """An error reply from Redis (``-ERR ...``, ``-WRONGTYPE ...``); ``code`` is its first word."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = message.split(" ", 1)[0]


class ConnectionLost(StoreUnavailable):
    """The server closed the connection before this command's reply: worth one retry."""


class ProtocolError(Exception):
    """The bytes from the server are not RESP2."""


class _Incomplete:
    __slots__ = ()

    def __repr__(self) -> str:
        return "INCOMPLETE"


#: What ``parse`` returns when the buffer ends inside a reply.
INCOMPLETE: Final = _Incomplete()

# Error codes that say the server cannot serve now, not that the command was wrong.
_UNAVAILABLE = frozenset({"LOADING", "READONLY", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN"})


def encode(*args: bytes) -> bytes:
    """A command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    parts += [b"$%d\r\n%s\r\n" % (len(arg), arg) for arg in args]
    return b"".join(parts)


def parse(buffer: bytes, start: int) -> tuple[Reply | _Incomplete, int]:
    """The reply at ``buffer[start:]`` and the offset after it, or ``(INCOMPLETE, start)``.

    Raises ``ProtocolError`` on a type byte or a length RESP2 does not have.
    """
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return INCOMPLETE, start
    kind = buffer[start]
    if kind == 36:  # $: bulk string
        size = _integer(buffer, start, end)
        if size < 0:
            return None, end + 2
        stop = end + 2 + size
        if len(buffer) < stop + 2:
            return INCOMPLETE, start
        return buffer[end + 2 : stop], stop + 2
    if kind == 43:  # +: simple string
        return buffer[start + 1 : end], end + 2
    if kind == 58:  # :: integer
        return _integer(buffer, start, end), end + 2
    if kind == 45:  # -: error
        return ReplyError(buffer[start + 1 : end].decode("utf-8", "replace")), end + 2
    if kind == 42:  # *: array
        return _array(buffer, start, end)
    raise ProtocolError(f"not a RESP2 reply: {buffer[start : start + 20]!r}")


def _integer(buffer: bytes, start: int, end: int) -> int:
    try:
        return int(buffer[start + 1 : end])
    except ValueError:
        raise ProtocolError(f"not a RESP2 length: {buffer[start:end]!r}") from None


def _array(buffer: bytes, start: int, end: int) -> tuple[Reply | _Incomplete, int]:
    count = _integer(buffer, start, end)
    if count < 0:
        return None, end + 2
    items: list[Reply] = []
    offset = end + 2
    for _ in range(count):
        item, offset = parse(buffer, offset)
        if item is INCOMPLETE:
            return INCOMPLETE, start
        items.append(item)  # type: ignore[arg-type]  # INCOMPLETE was returned above
    return items, offset


@dataclass(frozen=True, slots=True)
class Address:
    """Where a Redis server is and how to log in to it (``redis.py`` reads it from a URL)."""

    host: str = "127.0.0.1"
    port: int = 6379
    path: str | None = None  # a Unix socket instead of host and port
    tls: bool = False
    username: str | None = None
    password: str | None = None
    db: int = 0

    def handshake(self) -> list[bytes]:
        """The commands a new connection sends before any other."""
        commands = []
        if self.password is not None:
            credentials = [self.password.encode()]
            if self.username:
                credentials.insert(0, self.username.encode())
            commands.append(encode(b"AUTH", *credentials))
        if self.db:
            commands.append(encode(b"SELECT", b"%d" % self.db))
        return commands


class Connection(asyncio.Protocol):
    """One pipelined connection to Redis (see the module docstring)."""

    __slots__ = (
        "_buffer",
        "_closed",
        "_error",
        "_loop",
        "_outgoing",
        "_timeout",
        "_timer",
        "_transport",
        "_waiters",
        "_where",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float, where: str) -> None:
        self._loop = loop
        self._timeout = timeout
        self._where = where
        self._transport: asyncio.Transport | None = None
        self._waiters: collections.deque[tuple[asyncio.Future[Reply], float]] = collections.deque()
        self._outgoing: list[bytes] = []
        self._buffer = b""
        self._timer: asyncio.TimerHandle | None = None
        self._error: StoreUnavailable | None = None  # set once the connection is given up
        self._closed: asyncio.Future[None] = loop.create_future()

    @property
    def usable(self) -> bool:
        return self._error is None

    def send(self, command: bytes) -> asyncio.Future[Reply]:
        """Queue ``command``; the future gets its reply (or the error that ended the connection)."""
        loop = self._loop
        waiter: asyncio.Future[Reply] = loop.create_future()
        if self._error is not None:
            waiter.set_exception(StoreUnavailable(str(self._error)))
            return waiter
        deadline = loop.time() + self._timeout
        self._waiters.append((waiter, deadline))
        if self._timer is None:
            self._timer = loop.call_at(deadline, self._check_deadline)
        outgoing = self._outgoing
        outgoing.append(command)
        if len(outgoing) == 1:
            loop.call_soon(self._write)
        return waiter

    def _write(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if self._error is None and self._transport is not None:
            self._transport.write(b"".join(outgoing))

    def _check_deadline(self) -> None:
        self._timer = None
        if not self._waiters:
            return
        deadline = self._waiters[0][1]
        if deadline <= self._loop.time():
            self._give_up(
                StoreUnavailable(f"{self._where}: Timeout: no reply within {self._timeout} s")
            )
        else:
            self._timer = self._loop.call_at(deadline, self._check_deadline)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            # Notice a peer that vanished while the connection was idle.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data = self._buffer + data
        waiters = self._waiters
        offset, size = 0, len(data)
        try:
            while offset < size:
                reply, offset = parse(data, offset)
                if reply is INCOMPLETE:
                    break
                waiter = waiters.popleft()[0]
                if waiter.done():  # its caller was cancelled
                    continue
                if isinstance(reply, ReplyError):
                    waiter.set_exception(self._error_for(reply))
                else:
                    waiter.set_result(reply)  # type: ignore[arg-type]  # INCOMPLETE was handled
        except (ProtocolError, IndexError) as exc:  # IndexError: a reply nobody asked for
            self._give_up(StoreUnavailable(f"{self._where}: not a Redis server? {exc!r}"))
            return
        self._buffer = data[offset:] if offset < size else b""

    def _error_for(self, reply: ReplyError) -> Exception:
        if reply.code in _UNAVAILABLE:
            return StoreUnavailable(f"{self._where}: {reply}")
        return reply

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed.set_result(None)
        reason = f"{type(exc).__name__}: {exc}" if exc else "closed by the server"
        self._give_up(ConnectionLost(f"{self._where}: connection lost ({reason})"))

    def _give_up(self, error: StoreUnavailable) -> None:
        """Fail every waiter with ``error`` and drop the connection; it is not used again."""
        if self._error is None:
            self._error = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiters, self._waiters = self._waiters, collections.deque()
        self._outgoing.clear()
        for waiter, _ in waiters:
            if not waiter.done():
                waiter.set_exception(type(error)(str(error)))
        if self._transport is not None and not self._closed.done():
            self._transport.abort()

    async def close(self) -> None:
        """Close the connection; commands still waiting fail."""
        self._give_up(StoreUnavailable(f"{self._where}: the store was closed"))
        if self._transport is not None:
            await self._closed


class Client:
    """Commands to one Redis server from one event loop, over one connection opened on demand."""

    __slots__ = ("_address", "_connect_timeout", "_connecting", "_connection", "_timeout", "where")

    def __init__(
        self, address: Address, *, timeout: float, connect_timeout: float, where: str
    ) -> None:
        self._address = address
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self.where = where
        self._connection: Connection | None = None
        self._connecting: asyncio.Task[Connection] | None = None

    def send(self, command: bytes) -> asyncio.Future[Reply] | None:
        """The future reply to ``command``, or ``None`` if there is no usable connection now."""
        connection = self._connection
        if connection is None or not connection.usable:
            return None
        return connection.send(command)

    async def call(self, command: bytes) -> Reply:
        """The reply to ``command``, opening a connection first if there is none."""
        connection = self._connection
        if connection is None or not connection.usable:
            connection = await self._connect()
        return await connection.send(command)

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def _connect(self) -> Connection:
        """The connection being opened (callers arriving meanwhile share one attempt)."""
        task = self._connecting
        if task is None:
            task = self._connecting = asyncio.get_running_loop().create_task(self._open())
            task.add_done_callback(self._opened)
        return await asyncio.shield(task)

    def _opened(self, task: asyncio.Task[Connection]) -> None:
        self._connecting = None
        if not task.cancelled() and task.exception() is None:
            self._connection = task.result()

    async def _open(self) -> Connection:
        loop = asyncio.get_running_loop()
        address = self._address
        connection = Connection(loop, self._timeout, self.where)
        try:
            async with asyncio.timeout(self._connect_timeout):
                if address.path is not None:
                    await loop.create_unix_connection(lambda: connection, address.path)
                else:
                    context = ssl.create_default_context() if address.tls else None
                    await loop.create_connection(
                        lambda: connection, address.host, address.port, ssl=context
                    )
        except (OSError, TimeoutError) as exc:
            raise StoreUnavailable(
                f"{self.where}: cannot connect: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            for command in address.handshake():
                await connection.send(command)
        except ReplyError as exc:  # a wrong password, a database that does not exist
            await connection.close()
            raise StoreUnavailable(f"{self.where}: refused: {exc}") from exc
        except BaseException:  # a timeout, or cancelled by close()
            await asyncio.shield(connection.close())
            raise
        return connection
