"""``NetworkSession``: a WebSocket over a TCP/TLS stream, framed by the sans-IO core.

Theory of operation
-------------------
All framing is ``transom.http.websocket.WebSocketConnection``'s: this class
moves bytes between it and a ``NetworkStream`` and decides *who reads when*.

Reads happen on demand. A caller waiting in ``receive()`` (or ``ping()``,
``close()``) takes the *read token* and reads the stream itself: under
``AsyncClient`` the stream resumes that task straight from the receive
callback, so a message costs no hop through another task or queue (measured:
the fastest way; see the docs). Everything a read brings is turned into
events at once: pings are answered (the core queues the pong in
``data_to_send``, RFC 6455 §5.5.2), pongs settle waiting pings, messages go
to a deque.

Nobody waiting is not nobody reading: a *keeper* (a task under
``AsyncClient``, a daemon thread under ``Client``, running the same
coroutines) takes the token when no caller has received for a short grace
period, so the server's pings are answered and the keep-alive runs while the
program does something else. It stops reading while ``max_queue`` bytes of
messages wait unconsumed: back-pressure reaches the server through TCP
instead of piling up here. A caller that arrives while the keeper reads
waits for that read, then reads for itself.

Keep-alive (``ping_interval``/``ping_timeout``): whoever holds the token
reads with a deadline no later than the next ping due; a ping unanswered
for ``ping_timeout`` fails the connection with 1011.

Under ``Client`` the keeper is another thread: the token, the deque and the
core are guarded by a lock held only across non-suspending steps (with
blocking I/O nothing suspends; under asyncio nothing runs in between, and
the lock is a no-op).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from transom.client._backend import Backend, NetworkStream, TaskHandle, Waiter
from transom.client._drive import run_sync
from transom.client.websocket import WebSocketOptions
from transom.exceptions import (
    LocalProtocolError,
    ReadError,
    ReadTimeout,
    WebSocketDisconnect,
    WriteError,
)
from transom.http.websocket import (
    BytesMessage,
    CloseReceived,
    Pong,
    ProtocolFailure,
    TextMessage,
    WebSocketConnection,
)

__all__ = ["NetworkSession"]

_GRACE = 0.05  # seconds without a receive() before the keeper reads for the caller
_SLICE = 1.0  # the longest one keeper read waits (it re-checks between reads)
_MIN_WAIT = 0.001  # a read never waits 0 s: a zero socket timeout means "forever"


class NetworkSession:
    """One open WebSocket over ``stream`` (see the module docstring)."""

    def __init__(
        self,
        stream: NetworkStream,
        conn: WebSocketConnection,
        backend: Backend,
        options: WebSocketOptions,
        *,
        subprotocol: str | None,
        write_timeout: float | None,
    ) -> None:
        self._stream = stream
        self._conn = conn
        self._backend = backend
        self._max_queue = options.max_queue
        self._ping_interval = options.ping_interval
        self._ping_timeout = options.ping_timeout
        self._close_timeout = options.close_timeout
        self._write_timeout = write_timeout
        self.subprotocol = subprotocol
        self.close_code: int | None = None
        self.close_reason = ""
        self._messages: deque[str | bytes] = deque()
        self._queued = 0  # bytes (or characters) of the messages in the deque
        self._reading = False  # the read token
        self._waiters: list[Waiter] = []
        self._ended = False  # no more events: closed, failed or lost
        self._unparsed = False  # the core may hold events not taken yet (lazy pumps)
        self._failed = False  # the peer broke the protocol (ProtocolFailure)
        self._closing = False  # close() runs: messages past max_queue are dropped
        self._released = False
        self._activity = 0  # bumped by every receive(): the keeper stays away meanwhile
        self._pings: dict[bytes, bool] = {}  # payload -> answered, for ping()
        self._keepalive: bytes | None = None
        self._pong_deadline = 0.0
        now = time.monotonic()
        self._next_ping = now + options.ping_interval if options.ping_interval else 0.0
        self._lock: Any = contextlib.nullcontext() if backend.is_async else threading.RLock()
        self._keeper: TaskHandle | threading.Thread | None = None

    def start(self) -> None:
        """Start the keeper (after the handshake; see the module docstring)."""
        if self._backend.is_async:
            self._keeper = self._backend.spawn(self._keep())
        else:
            thread = threading.Thread(
                target=run_sync, args=(self._keep(),), name="transom-websocket", daemon=True
            )
            self._keeper = thread
            thread.start()

    # --- the Session interface --------------------------------------------------------
    async def send(self, data: str | bytes) -> None:
        if self._ended:
            raise self._disconnect()
        with self._lock:
            conn = self._conn
            frame = conn.send_text(data) if isinstance(data, str) else conn.send_bytes(data)
            await self._write(frame)

    async def receive(self) -> str | bytes:
        self._activity += 1
        messages = self._messages
        if not messages:
            await self._wait_until(self._has_message, None)
            if not messages:
                raise self._disconnect()
        with self._lock:  # the keeper thread (under Client) counts too
            message = messages.popleft()
            self._queued -= len(message)
        if self._waiters:
            self._wake()  # a keeper held back by a full queue may read again
        return message

    async def ping(self, payload: bytes) -> None:
        if self._ended:
            raise self._disconnect()
        with self._lock:
            frame = self._conn.send_ping(payload)
            self._pings[payload] = False
            await self._write(frame)
        try:
            await self._wait_until(lambda: self._pings.get(payload, True), None)
        finally:
            answered = self._pings.pop(payload, True)
        if not answered:
            raise self._disconnect()

    async def close(self, code: int, reason: str) -> None:
        if self._released:
            return
        try:
            if not self._ended:
                with self._lock:
                    try:
                        frame = self._conn.send_close(code, reason)
                    except LocalProtocolError:
                        frame = b""  # our close already went out
                    self._closing = True
                    if frame:
                        await self._write(frame)
                timeout = self._close_timeout
                deadline = None if timeout is None else time.monotonic() + timeout
                # RFC 6455 §7.1.2: after our close, read until the peer's arrives.
                await self._wait_until(self._is_ended, deadline, lazy=False)
        finally:
            await self._release()

    async def abort(self) -> None:
        await self._release()

    # --- reading ----------------------------------------------------------------------
    def _has_message(self) -> bool:
        return bool(self._messages)

    def _is_ended(self) -> bool:
        return self._ended

    async def _wait_until(
        self, done: Callable[[], bool], deadline: float | None, *, lazy: bool = True
    ) -> None:
        """Read (or wait for the reader) until ``done()``, the end, or ``deadline``."""
        while not done() and not self._ended:
            with self._lock:
                busy = self._reading or (self._queued >= self._max_queue and not self._closing)
                if not busy:
                    self._reading = True
                else:
                    waiter = self._backend.waiter()
                    self._waiters.append(waiter)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                if not busy:
                    self._release_token()
                return
            if busy:
                await waiter.wait(remaining)
                continue
            try:
                await self._pump(remaining, lazy)
            finally:
                self._release_token()

    def _release_token(self) -> None:
        with self._lock:
            self._reading = False
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.wake()

    async def _pump(self, limit: float | None, lazy: bool) -> None:
        """One read (the caller holds the token), and the events it brings.

        ``lazy``: stop at the first message, leaving the rest unparsed in the
        core, so a caller that answers each message does so before a close or
        a failure further on is taken (RFC 6455 §5.5.1: once the close echo
        is out, no more data may follow); the next pump parses on first."""
        if self._unparsed:
            await self.feed(b"", lazy, eof=False)
            if self._messages or self._ended or not lazy:
                return
        try:
            data = await self._stream.read(self._read_wait(limit))
        except ReadTimeout:
            await self._keep_alive()
            return
        except ReadError:
            data = b""  # the connection is gone: the core reports 1006 (RFC 6455 §7.1.5)
        await self.feed(data, lazy)

    async def feed(self, data: bytes, lazy: bool = True, *, eof: bool = True) -> None:
        """Take ``data`` (``b""``: EOF, unless ``eof`` is false) from the peer: its
        events, and the replies they need."""
        with self._lock:
            conn = self._conn
            if data or eof:
                conn.receive_data(data)
            self._unparsed = self._take_events(lazy)
            reply = conn.data_to_send()
            if reply:  # pongs, the echo of a close, or a failure's close (RFC 6455 §5.5)
                await self._write(reply)
        if self._ended:
            if self._failed:  # RFC 6455 §7.1.7: after the failure's close frame, no more
                self._stream.close()
            self._wake()

    def _take_events(self, lazy: bool) -> bool:
        """The core's events until it needs data (False) or, ``lazy``, until a message (True)."""
        conn = self._conn
        messages = self._messages
        while (event := conn.next_event()) is not None:
            kind = type(event)
            if kind is TextMessage or kind is BytesMessage:
                data = event.data  # type: ignore[union-attr]  # both message kinds have it
                if self._closing and self._queued >= self._max_queue:
                    continue  # the caller is closing: what does not fit is dropped
                messages.append(data)
                self._queued += len(data)
                if lazy:
                    return True
            elif kind is Pong:
                self._pong(event.payload)  # type: ignore[union-attr]
            elif kind is CloseReceived or kind is ProtocolFailure:
                self.close_code = event.code  # type: ignore[union-attr]
                self.close_reason = event.reason  # type: ignore[union-attr]
                self._ended = True
                self._failed = kind is ProtocolFailure
            # Ping: the core already queued its pong in data_to_send().
        return False

    def _pong(self, payload: bytes) -> None:
        if payload == self._keepalive:
            self._keepalive = None
        if payload in self._pings:
            # RFC 6455 §5.5.3: a pong may answer only the latest ping; it
            # settles every ping sent before the one it echoes too.
            for sent in self._pings:
                self._pings[sent] = True
                if sent == payload:
                    break

    # --- keep-alive -------------------------------------------------------------------
    def _read_wait(self, limit: float | None) -> float | None:
        if not self._ping_interval:
            return limit
        due = self._pong_deadline if self._keepalive is not None else self._next_ping
        wait = max(due - time.monotonic(), _MIN_WAIT)
        return wait if limit is None else max(min(wait, limit), _MIN_WAIT)

    async def _keep_alive(self) -> None:
        """Send the keep-alive ping that is due, or fail when its pong is late."""
        if not self._ping_interval or self._ended:
            return
        now = time.monotonic()
        with self._lock:
            if self._keepalive is not None:
                if self._ping_timeout is not None and now >= self._pong_deadline:
                    await self._fail(1011, "keepalive ping timeout")
                return
            if now < self._next_ping:
                return
            payload = os.urandom(4)
            self._keepalive = payload
            self._pong_deadline = now + (self._ping_timeout or 0.0)
            self._next_ping = now + self._ping_interval
            await self._write(self._conn.send_ping(payload))

    async def _keep(self) -> None:
        """The keeper (see the module docstring)."""
        seen = -1
        sleep = self._backend.sleep
        while not self._ended:
            if self._activity != seen or self._reading or self._queued >= self._max_queue:
                seen = self._activity
                await sleep(_GRACE)
                if not self._reading:
                    await self._keep_alive()
                continue
            with self._lock:
                if self._reading or self._ended:
                    continue
                self._reading = True
            try:
                await self._pump(_SLICE, False)
            finally:
                self._release_token()

    # --- writing and the end ----------------------------------------------------------
    async def _write(self, data: bytes) -> None:
        try:
            await self._stream.write(data, self._write_timeout)
        except WriteError:
            self._lost()
            raise self._disconnect() from None

    async def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): our close frame, then no more."""
        with contextlib.suppress(LocalProtocolError, WebSocketDisconnect):
            await self._write(self._conn.send_close(code, reason))
        self.close_code, self.close_reason = code, reason
        self._ended = True
        self._stream.close()
        self._wake()

    def _lost(self) -> None:
        if not self._ended:
            self.close_code, self.close_reason = 1006, ""
            self._ended = True
            self._wake()

    def _disconnect(self) -> WebSocketDisconnect:
        return WebSocketDisconnect(self.close_code or 1006, self.close_reason)

    async def _release(self) -> None:
        """Stop the keeper, close the connection (once)."""
        if self._released:
            return
        self._released = True
        self._ended = True
        if self.close_code is None:
            self.close_code = 1006
        keeper, self._keeper = self._keeper, None
        stream = self._stream
        if isinstance(keeper, threading.Thread):
            interrupt = getattr(stream, "interrupt", None)
            if interrupt is not None:
                interrupt()  # wakes the keeper's blocking read
            keeper.join(_SLICE * 2)
        elif keeper is not None:
            keeper.cancel()
            await keeper.join()
        stream.close()
        await stream.wait_closed()
        self._wake()
