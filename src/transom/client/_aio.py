"""Asyncio I/O for ``AsyncClient``: a Protocol-based stream, pool waiters, tasks.

The stream is an ``asyncio.BufferedProtocol`` rather than a ``StreamReader``:
a received chunk is handed straight to the reader waiting for it, and flow
control is two flags. A read timeout is one ``call_later`` armed only when a
read has to wait. The reader waits on an ``_Arrival``, which resumes its task
inside the receive callback rather than a loop iteration later (a sequential
GET costs one ``select()`` and one pass of the loop less).

Why buffered: a plain ``Protocol`` makes the transport ``recv()`` up to
256 KiB into a new bytes object per read, which the allocator serves with
``mmap`` then shrinks (``mremap``) and frees (``munmap``): three system calls
and fresh page faults for a 200-byte response. Here the transport receives
into one buffer per event loop (the loop calls ``get_buffer``, receives and
calls ``buffer_updated`` in one go, so its streams can share it), and only
the bytes received are copied out.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import socket
import ssl
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

from transom.exceptions import (
    ConnectError,
    ConnectTimeout,
    ReadError,
    ReadTimeout,
    WriteError,
    WriteTimeout,
)

__all__ = ["AsyncioBackend", "AsyncioStream"]

_T = TypeVar("_T")
_HIGH_WATER = 256 * 1024  # received bytes buffered before we stop reading the socket
_CLOSE_WAIT = 1.0  # seconds a closing connection may take before it is aborted
_RECV_SIZE = 64 * 1024  # the most one receive takes from the socket
_current_task = asyncio.current_task
_buffers: WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview] = WeakKeyDictionary()


def _receive_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    """The receive buffer shared by the streams of ``loop`` (see the module docstring)."""
    try:
        buffer = _buffers.get(loop)
        if buffer is None:
            buffer = _buffers[loop] = memoryview(bytearray(_RECV_SIZE))
    except TypeError:  # a loop that cannot be weakly referenced: a buffer per stream
        return memoryview(bytearray(_RECV_SIZE))
    return buffer


async def _within(aw: Awaitable[_T], timeout: float | None) -> _T:
    """Await ``aw``; ``TimeoutError`` after ``timeout`` seconds (the work is cancelled).

    Built on ``asyncio.wait`` rather than ``wait_for``/``timeout()``: those turn
    their own cancellation into ``TimeoutError`` inside ``__aexit__``, which
    Python 3.11 skips when a tracer (coverage, a debugger) is active.
    """
    task = asyncio.ensure_future(aw)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        task.cancel()
        raise
    if not done:
        task.cancel()
        await asyncio.wait({task})
        raise TimeoutError
    return task.result()


class _Arrival:
    """What a read waits on: a future-like object that resumes its task at once.

    An ``asyncio.Future`` schedules the waiting task's wake-up with
    ``call_soon``, so a response that arrives is handled one whole loop
    iteration later (another ``select()`` and the loop's own Python). A Task
    accepts any object that says ``_asyncio_future_blocking`` (the protocol
    ``asyncio.isfuture`` checks); this one calls the task's wake-up directly
    from the receive callback, unless a task is running then (a ``cancel()``
    from another task), where it schedules it as a Future would.
    """

    __slots__ = ("_asyncio_future_blocking", "_callbacks", "_error", "_loop", "_result", "_state")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._asyncio_future_blocking = False
        self._state = 0  # 0 pending, 1 done, 2 cancelled
        self._result = b""
        self._error: BaseException | None = None
        self._callbacks: list[tuple[Callable[[Any], object], contextvars.Context | None]] = []

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def __await__(self) -> Generator[Any, None, bytes]:
        if not self._state:
            self._asyncio_future_blocking = True
            yield self
        return self.result()

    def done(self) -> bool:
        return self._state != 0

    def cancelled(self) -> bool:
        return self._state == 2

    def result(self) -> bytes:
        if self._state == 2:
            raise asyncio.CancelledError
        if self._error is not None:
            raise self._error
        if not self._state:
            raise asyncio.InvalidStateError("the data has not arrived")
        return self._result

    def exception(self) -> BaseException | None:
        if self._state == 2:
            raise asyncio.CancelledError
        return self._error

    def add_done_callback(
        self, callback: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        if self._state:
            self._loop.call_soon(callback, self, context=context)
        else:
            self._callbacks.append((callback, context))

    def remove_done_callback(self, callback: Callable[[Any], object]) -> int:
        kept = [entry for entry in self._callbacks if entry[0] != callback]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    def cancel(self, msg: Any = None) -> bool:
        if self._state:
            return False
        self._finish(2)
        return True

    def set_result(self, data: bytes) -> None:
        if not self._state:
            self._result = data
            self._finish(1)

    def set_exception(self, error: BaseException) -> None:
        if not self._state:
            self._error = error
            self._finish(1)

    def _finish(self, state: int) -> None:
        self._state = state
        callbacks, self._callbacks = self._callbacks, []
        prompt = _current_task(self._loop) is None
        for callback, context in callbacks:
            if prompt:
                if context is None:
                    callback(self)
                else:
                    context.run(callback, self)
            else:
                self._loop.call_soon(callback, self, context=context)


class AsyncioStream(asyncio.BufferedProtocol):
    """One TCP (or TLS) connection, read and written by coroutines."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buffer = _receive_buffer(loop)
        self._transport: asyncio.Transport | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._eof = False
        self._error: BaseException | None = None
        self._reader: _Arrival | None = None
        self._drain: asyncio.Future[None] | None = None
        self._paused = False
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._lost: asyncio.Future[None] = loop.create_future()

    # --- protocol callbacks ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A cast, not an isinstance check: uvloop's transports implement the
        # interface without subclassing asyncio.Transport.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Requests are written in one piece; Nagle would only delay them.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        # Copied out at once: the next receive on this loop reuses the buffer.
        self.data_received(self._buffer[:nbytes].tobytes())

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            self._reader = None
            reader.set_result(data)
            return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and self._transport is not None:
            self._transport.pause_reading()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake_reader()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)
        self._eof = True
        self._error = exc
        self._wake_reader()
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_exception(WriteError(f"connection lost while writing: {exc}"))

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def _wake_reader(self) -> None:
        reader = self._reader
        if reader is not None and not reader.done():
            self._reader = None
            reader.set_result(b"")

    # --- the NetworkStream interface ------------------------------------------------------
    async def read(self, timeout: float | None) -> bytes:
        if self._chunks:
            data = self._chunks.popleft()
            self._buffered -= len(data)
            if self._buffered <= _HIGH_WATER and self._transport is not None:
                self._transport.resume_reading()
            return data
        if self._eof:
            if self._error is not None:
                raise ReadError(f"connection lost: {self._error}")
            return b""
        fut = self._reader = _Arrival(self._loop)
        if timeout is None:
            self._deadline = math.inf
        else:
            # A lazy timer: reads only move the deadline; the one timer per
            # connection re-arms itself when it fires early. A timer per read
            # would cost a heap push and a cancelled entry every time.
            self._deadline = self._loop.time() + timeout
            if self._timer is None:
                self._timer = self._loop.call_at(self._deadline, self._check_deadline)
        try:
            return await fut
        except TimeoutError:
            raise ReadTimeout(f"no data from the server for {timeout} s") from None
        finally:
            self._reader = None

    def _check_deadline(self) -> None:
        self._timer = None
        reader = self._reader
        if reader is None or reader.done():
            return  # nobody is waiting: the next read arms a new timer
        if self._loop.time() >= self._deadline:
            reader.set_exception(TimeoutError())
        elif self._deadline != math.inf:
            self._timer = self._loop.call_at(self._deadline, self._check_deadline)

    async def write(self, data: bytes, timeout: float | None) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise WriteError("the connection is closed")
        transport.write(data)
        if not self._paused:
            return
        fut: asyncio.Future[None] = self._loop.create_future()
        self._drain = fut
        try:
            await _within(fut, timeout)
        except TimeoutError:
            raise WriteTimeout(f"the server took no data for {timeout} s") from None
        finally:
            self._drain = None

    async def start_tls(
        self, context: ssl.SSLContext, server_hostname: str, timeout: float | None
    ) -> AsyncioStream:
        assert self._transport is not None
        stream = AsyncioStream(self._loop)
        try:
            transport = await _within(
                self._loop.start_tls(
                    self._transport, stream, context, server_hostname=server_hostname
                ),
                timeout,
            )
        except TimeoutError:
            self.close()
            raise ConnectTimeout(f"TLS handshake took longer than {timeout} s") from None
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ConnectError(f"TLS handshake failed: {exc}") from exc
        assert transport is not None
        stream.connection_made(transport)
        return stream

    def peername(self) -> object:
        # The transport remembers the peer after a close.
        return None if self._transport is None else self._transport.get_extra_info("peername")

    def is_stale(self) -> bool:
        return (
            self._eof
            or bool(self._chunks)
            or self._transport is None
            or (self._transport.is_closing())
        )

    async def wait_closed(self) -> None:
        # A TLS transport says goodbye (close_notify) before it closes the socket;
        # a peer that never answers gets a second, then the connection is cut.
        done, _ = await asyncio.wait({self._lost}, timeout=_CLOSE_WAIT)
        if not done and self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        transport = self._transport
        if transport is not None:
            if transport.get_write_buffer_size():
                transport.abort()  # unsent bytes would hold a closing transport open forever
            else:
                transport.close()


class _FutureWaiter:
    __slots__ = ("_fut",)

    def __init__(self) -> None:
        self._fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def wait(self, timeout: float | None) -> bool:
        done, _ = await asyncio.wait({self._fut}, timeout=timeout)
        return bool(done)

    def wake(self) -> None:
        if not self._fut.done():
            self._fut.set_result(None)


class _Task:
    __slots__ = ("_cancelled", "_task")

    def __init__(self, coro: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.get_running_loop().create_task(coro)
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        self._task.cancel()

    def done(self) -> bool:
        return self._task.done()

    async def join(self) -> None:
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled ourselves: let it through
            if not (self._cancelled or self._task.cancelled()):
                raise


class _QueueChannel:
    """Producer and consumer on the same loop."""

    __slots__ = ("_closed", "_queue")

    def __init__(self, maxsize: int) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self._closed = False

    async def put(self, item: Any) -> bool:
        if self._closed:
            return False
        await self._queue.put(item)
        return not self._closed

    async def get(self) -> Any:
        return await self._queue.get()

    def close(self) -> None:
        self._closed = True
        while not self._queue.empty():  # unblock a waiting put
            self._queue.get_nowait()


class AsyncioBackend:
    """I/O on the running asyncio loop."""

    is_async = True

    async def connect_tcp(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
    ) -> AsyncioStream:
        loop = asyncio.get_running_loop()
        connecting = loop.create_connection(
            lambda: AsyncioStream(loop),
            host,
            port,
            ssl=ssl_context,
            server_hostname=server_hostname if ssl_context is not None else None,
        )
        try:
            _, stream = await _within(connecting, timeout)
        except TimeoutError:
            raise ConnectTimeout(
                f"connecting to {host}:{port} took longer than {timeout} s"
            ) from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def waiter(self) -> _FutureWaiter:
        return _FutureWaiter()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> _Task:
        return _Task(coro)

    def channel(self, maxsize: int) -> _QueueChannel:
        return _QueueChannel(maxsize)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    def close(self) -> None:
        pass
