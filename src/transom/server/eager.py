"""Start a request's coroutine eagerly: its first step runs right now.

An application that never waits on I/O (a health check, a cached page, a
small JSON answer) then finishes inside the ``data_received`` call that
delivered its request. Its response joins the output batch of that call, so
sixteen pipelined requests are answered with one ``transport.write``, and no
event-loop round trip is spent per request.

Python 3.12 has this built in (``asyncio.Task(..., eager_start=True)``).

Python 3.11 has no eager tasks, so the first step is taken by hand:
``coro.send(None)`` in a copied context. Libraries such as anyio (under
Starlette and FastAPI) and ``asyncio.timeout`` look up
``asyncio.current_task()`` on their first line and expect the same task when
they finish, so the first step must already run "inside" the Task that will
continue the coroutine should it suspend. That Task is a *runner*: a
long-lived Task that adopts suspended coroutines and drives them to the end
(re-yielding the future each one waits on, so it waits exactly as a Task
would). Idle runners wait in a pool; the first step runs with a pooled
runner installed as the loop's current task. If the coroutine finishes, the
runner goes straight back to the pool: no Task was created or scheduled for
the request. If it suspends, that runner adopts it and returns to the pool
when it is done.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["EagerStarter"]

_BUILTIN_EAGER = sys.version_info >= (3, 12)
# The dict asyncio.current_task() reads (loop -> running task); a plain C dict on 3.11.
_current_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]] = getattr(
    asyncio.tasks, "_current_tasks", {}
)
_MAX_IDLE_RUNNERS = 256

AppCoroutine = Coroutine[Any, Any, None]


class EagerStarter:
    """Starts coroutines eagerly on one loop (one per server)."""

    __slots__ = ("_idle", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._idle: list[_Runner] = []

    def start(self, coro: AppCoroutine) -> asyncio.Task[Any] | None:
        """Run ``coro`` until it first suspends; return the Task finishing it,
        or ``None`` if it already completed. ``coro`` must not raise (wrap it)."""
        if _BUILTIN_EAGER:  # pragma: no cover - exercised on Python >= 3.12 only
            task: asyncio.Task[None] = asyncio.Task(  # type: ignore[call-arg]  # 3.12 keyword
                coro, loop=self._loop, eager_start=True
            )
            return None if task.done() else task
        idle = self._idle
        runner = idle.pop() if idle else _Runner(self)
        loop = self._loop
        context = contextvars.copy_context()
        previous = _current_tasks.get(loop)
        _current_tasks[loop] = runner.task
        try:
            first = context.run(coro.send, None)
        except StopIteration:
            idle.append(runner)
            return None
        finally:
            if previous is None:
                del _current_tasks[loop]
            else:
                _current_tasks[loop] = previous
        runner.adopt(coro, first, context)
        return runner.task

    def close(self) -> None:
        """Cancel the idle runners (the server is stopping)."""
        for runner in self._idle:
            runner.task.cancel()
        self._idle.clear()

    def _release(self, runner: _Runner) -> bool:
        if len(self._idle) >= _MAX_IDLE_RUNNERS:
            return False
        self._idle.append(runner)
        return True


class _Runner:
    """A Task that finishes coroutines whose first step ran eagerly."""

    __slots__ = ("_job", "_starter", "_wakeup", "task")

    def __init__(self, starter: EagerStarter) -> None:
        self._starter = starter
        self._job: tuple[AppCoroutine, Any, contextvars.Context] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] = starter._loop.create_task(self._main())

    def adopt(self, coro: AppCoroutine, first: Any, context: contextvars.Context) -> None:
        self._job = (coro, first, context)
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _main(self) -> None:
        loop = self._starter._loop
        while True:
            if self._job is None:
                self._wakeup = loop.create_future()
                await self._wakeup  # cancelled while idle: the server is stopping
                self._wakeup = None
            job = self._job
            if job is None:
                continue
            self._job = None
            await _Resume(*job)
            if not self._starter._release(self):
                return


class _Resume:
    """Awaitable that continues a coroutine already advanced by one step,
    each step in the coroutine's own context."""

    __slots__ = ("_context", "_coro", "_first")

    def __init__(self, coro: AppCoroutine, first: Any, context: contextvars.Context) -> None:
        self._coro = coro
        self._first = first
        self._context = context

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value, run = self._coro, self._first, self._context.run
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # cancellation and throw() go to the coroutine
                try:
                    value = run(coro.throw, exc)
                except StopIteration:
                    return
            else:
                try:
                    value = run(coro.send, sent)
                except StopIteration:
                    return
