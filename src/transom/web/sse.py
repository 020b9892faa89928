"""Server-sent events: ``EventSourceResponse`` and ``ServerSentEvent``.

Theory of operation
-------------------
An event stream (WHATWG HTML, "Server-sent events") is a never-ending
``text/event-stream`` body of events, each a few ``field: value`` lines and
a blank line. ``ServerSentEvent.encode`` writes one: ``data`` is split on
every kind of newline (CRLF, CR, LF) into one ``data:`` line each, because a
browser would otherwise end the field early; ``event`` and ``id`` may not
contain newlines (and ``id`` no NUL, which makes browsers ignore it), so such
values raise ``ValueError`` instead of corrupting the stream.

``EventSourceResponse`` sends the events its ``content`` iterator yields.
Three things run at once: the iterator, a wait for ``http.disconnect`` and,
whenever the iterator has nothing for ``ping_interval`` seconds, a ``: ping``
comment, which keeps proxies and load balancers from closing an idle
connection. The pending ``next()`` of the iterator is never cancelled by a
ping, only by a disconnect; then the iterator is closed (``aclose()`` /
``close()``) so its ``finally`` blocks run and whatever it holds is released.

``Cache-Control: no-cache`` keeps caches from storing the stream, and
``X-Accel-Buffering: no`` stops nginx from buffering it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from transom._types import Receive, Scope, Send
from transom.http.headers import Headers
from transom.web.background import BackgroundTask
from transom.web.concurrency import iterate_in_threadpool, run_sync
from transom.web.responses import Response

__all__ = ["EventSourceResponse", "ServerSentEvent"]

_NEWLINE = re.compile(r"\r\n|\r|\n")
PING = b": ping\n\n"


@dataclass(slots=True)
class ServerSentEvent:
    """One event. ``data`` that is not a ``str`` is sent as compact JSON.

    >>> ServerSentEvent("line 1\\nline 2", event="update", id="7").encode()
    b'event: update\\nid: 7\\ndata: line 1\\ndata: line 2\\n\\n'
    """

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        """The event as it goes on the wire, blank line included."""
        lines = []
        if self.comment is not None:
            lines += [f": {line}" for line in _NEWLINE.split(self.comment)]
        if self.event is not None:
            lines.append(f"event: {_single_line('event', self.event)}")
        if self.id is not None:
            if "\x00" in self.id:
                raise ValueError(f"SSE id {self.id!r} contains NUL, which browsers ignore")
            lines.append(f"id: {_single_line('id', self.id)}")
        if self.retry is not None:
            if not isinstance(self.retry, int) or self.retry < 0:
                raise ValueError(
                    f"SSE retry must be an int >= 0 (milliseconds), not {self.retry!r}"
                )
            lines.append(f"retry: {self.retry}")
        if self.data is not None:
            text = self.data if isinstance(self.data, str) else _to_json(self.data)
            lines += [f"data: {line}" for line in _NEWLINE.split(text)]
        return ("\n".join(lines) + "\n\n").encode("utf-8")


def _single_line(field: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"SSE {field} {value!r} contains a newline, which would end the field")
    return value


def _to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode(item: Any) -> bytes:
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, str):
        return ServerSentEvent(item).encode()
    if isinstance(item, Mapping):
        return ServerSentEvent(**item).encode()
    raise TypeError(
        f"EventSourceResponse content yielded {type(item).__name__}; yield a str (the data), "
        "a dict of ServerSentEvent fields, or a ServerSentEvent"
    )


EventContent = AsyncIterable[Any] | Iterable[Any]


class EventSourceResponse(Response):
    """A ``text/event-stream`` of the events ``content`` yields.

    Items are ``str`` (the data), ``dict`` (``ServerSentEvent`` fields) or
    ``ServerSentEvent``; ``content`` is an async or plain iterable (a plain one
    runs in the thread pool). A ``: ping`` comment goes out after
    ``ping_interval`` seconds without an event (``None`` turns pings off).

    >>> async def ticks():
    ...     for n in itertools.count():
    ...         yield {"event": "tick", "data": {"n": n}}
    ...         await asyncio.sleep(1)
    >>> EventSourceResponse(ticks())  # doctest: +SKIP
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        content: EventContent,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        ping_interval: float | None = 15.0,
        background: BackgroundTask | None = None,
    ) -> None:
        if ping_interval is not None and ping_interval <= 0:
            raise ValueError(f"ping_interval must be > 0 or None, not {ping_interval!r}")
        self.status_code = status_code
        self.background = background
        self.body = b""
        self.content = content
        self.ping_interval = ping_interval
        self.raw_headers = Headers(headers).raw if headers else []
        h = self.headers
        h.setdefault("content-type", "text/event-stream; charset=utf-8")
        h.setdefault("cache-control", "no-cache")
        h.setdefault("x-accel-buffering", "no")

    async def send_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        events = self._events()
        disconnect: asyncio.Future[Any] = asyncio.ensure_future(_disconnected(receive))
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(events))
                done, _ = await asyncio.wait(
                    {pending, disconnect},
                    timeout=self.ping_interval,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if disconnect in done:
                    return
                if pending not in done:
                    await send({"type": "http.response.body", "body": PING, "more_body": True})
                    continue
                try:
                    chunk = pending.result()
                except StopAsyncIteration:
                    break
                pending = None
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except OSError:
            return  # ASGI 2.4: send() raises OSError once the client has gone
        finally:
            disconnect.cancel()
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await events.aclose()
            await self._close_content()

    async def _events(self) -> AsyncGenerator[bytes, None]:
        content = self.content
        if isinstance(content, AsyncIterable):
            async for item in content:
                yield _encode(item)
        else:
            async for item in iterate_in_threadpool(iter(content)):
                yield _encode(item)

    async def _close_content(self) -> None:
        aclose = getattr(self.content, "aclose", None)
        if aclose is not None:
            await aclose()
            return
        close = getattr(self.content, "close", None)
        if close is not None:
            # A generator still running in a thread cannot be closed from here;
            # it finishes its current step and is closed when collected.
            with contextlib.suppress(ValueError):
                await run_sync(close)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
