"""The bounded thread pool that runs blocking code off the event loop.

Plain ``def`` handlers, synchronous iterators given to ``StreamingResponse``
and large ``UploadFile`` disk writes run here, so one slow call never stalls
the event loop. The pool is one per process and bounded (40 threads by
default, the same bound Starlette inherits from anyio): a flood of blocking
requests queues for a thread instead of spawning threads without end.

Each call runs inside a copy of the caller's ``contextvars`` context, so
context variables set by middleware are visible in the thread.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar, cast

from transom.exceptions import ConfigurationError

__all__ = ["DEFAULT_MAX_THREADS", "configure", "iterate_in_threadpool", "run_sync"]

DEFAULT_MAX_THREADS = 40

_P = ParamSpec("_P")
_T = TypeVar("_T")

_max_threads = DEFAULT_MAX_THREADS
_executor: ThreadPoolExecutor | None = None


def configure(max_threads: int) -> None:
    """Set the pool's bound; call it before the first blocking call is made.

    >>> configure(max_threads=80)
    """
    global _max_threads
    if not isinstance(max_threads, int) or max_threads < 1:
        raise ConfigurationError(f"max_threads must be a positive int, got {max_threads!r}")
    if _executor is not None:
        raise ConfigurationError(
            "the thread pool is already running: call configure() before serving requests"
        )
    _max_threads = max_threads


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's threads: a pool inherited from it would
    queue work that no thread ever runs. The child makes its own on first use."""
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _get_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(_max_threads, thread_name_prefix="transom-sync")
    return _executor


async def run_sync(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``func(*args, **kwargs)`` in the pool and await its result.

    >>> data = await run_sync(path.read_bytes)
    """
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_get_executor(), call)


_EXHAUSTED = object()


def _next_or_sentinel(iterator: Iterator[_T]) -> _T | object:
    return next(iterator, _EXHAUSTED)


async def iterate_in_threadpool(iterator: Iterator[_T]) -> AsyncIterator[_T]:
    """Iterate a blocking iterator, each ``next()`` in the pool."""
    while True:
        item = await run_sync(_next_or_sentinel, iterator)
        if item is _EXHAUSTED:
            return
        yield cast(_T, item)
