"""Drive a coroutine to completion without an event loop.

This is how ``Client`` (sync) and ``AsyncClient`` share one implementation.
Every step of a request (building it, auth flows, cookies, redirects, the
pool, the HTTP/1.1 exchange) is written once, as coroutines. ``AsyncClient``
awaits them on the running loop over asyncio I/O. ``Client`` runs the very
same coroutines over *blocking* I/O (``_blocking.py``): with blocking sockets
nothing inside ever waits on a future, so a coroutine finishes on its first
``send(None)`` and ``run_sync`` collects the result from ``StopIteration``.
No thread hop, no loop per call: the sync path costs what blocking code costs.

If a coroutine does suspend (an ``async def`` event hook, an async iterator
as a request body, a streaming response of an ``AsyncClient`` read with
``read()``), the sync caller asked for something only an event loop can do:
``run_sync`` closes the coroutine and says so.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["run_sync"]

_T = TypeVar("_T")


def run_sync(awaitable: Awaitable[_T]) -> _T:
    """Run ``awaitable`` to completion; it must not suspend."""
    step = awaitable.__await__()
    try:
        step.send(None)
    except StopIteration as stop:
        result: _T = stop.value
        return result
    close = getattr(step, "close", None)
    if close is not None:
        close()
    raise RuntimeError(
        "this call needs an event loop: it awaited something asynchronous "
        "(an async event hook, an async iterator body, or an AsyncClient response). "
        "Use AsyncClient and the a-prefixed methods (aread, aiter_bytes, aclose) instead"
    )
