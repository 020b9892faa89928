"""Start a request's coroutine eagerly: its first step runs right now.

An application that never waits on I/O (a health check, a cached page, a
small JSON answer) then finishes inside the ``data_received`` call that
delivered its request. Its response joins the output batch of that call, so
sixteen pipelined requests are answered with one ``transport.write``, and no
event-loop round trip is spent per request.

Python 3.12 has this built in (``asyncio.Task(..., eager_start=True)``).
On 3.11 the first step is taken by hand: ``coro.send(None)`` in a copied
context; if the coroutine finishes, no Task is ever created; if it suspends
on a future, a Task adopts it, re-yielding that future so the Task waits on
it exactly as it would have. Either way the caller sees the same behaviour:
``None`` when the work is done, else the Task that finishes it.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["start_eager"]

_BUILTIN_EAGER = sys.version_info >= (3, 12)


def start_eager(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, None]
) -> asyncio.Task[None] | None:
    """Run ``coro`` until it first suspends; return the Task finishing it, or
    ``None`` if it already completed. ``coro`` must not raise (wrap it)."""
    if _BUILTIN_EAGER:  # pragma: no cover - exercised on Python >= 3.12 only
        task: asyncio.Task[None] = asyncio.Task(  # type: ignore[call-arg]  # 3.12 keyword
            coro, loop=loop, eager_start=True
        )
        return None if task.done() else task
    context = contextvars.copy_context()
    try:
        first = context.run(coro.send, None)
    except StopIteration:
        return None
    return loop.create_task(_adopt(coro, first), context=context)


async def _adopt(coro: Coroutine[Any, Any, None], first: Any) -> None:
    await _Resume(coro, first)


class _Resume:
    """Awaitable that continues a coroutine already advanced by one step."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value = self._coro, self._first
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation and throw() go to the coroutine
                try:
                    value = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = coro.send(sent)
                except StopIteration:
                    return
