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

A long-lived coroutine (a WebSocket app) is not started eagerly but
*driven* (``EagerStarter.spawn``): see ``driven.py``.

This module stays pure Python in the compiled build too: a compiled function
adds a traceback entry to every exception that passes through it, even one it
catches at once, and the StopIteration that ends each eagerly finished
coroutine would pay for it (measured: 1,400 more instructions per request).
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from transom.server.driven import Driven

__all__ = ["EagerStarter", "Started"]

_BUILTIN_EAGER: Final = sys.version_info >= (3, 12)
# The dict asyncio.current_task() reads (loop -> running task); a plain C dict on 3.11.
_current_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task[Any]] = getattr(
    asyncio.tasks, "_current_tasks", {}
)
_MAX_IDLE_RUNNERS: Final = 256

AppCoroutine = Coroutine[Any, Any, None]
Done = Callable[[BaseException | None], None]


class Started(Protocol):
    """A coroutine being finished: an ``asyncio.Task`` or a runner's job."""

    def done(self) -> bool: ...

    def cancel(self) -> bool: ...


class EagerStarter:
    """Starts coroutines eagerly on one loop (one per server)."""

    __slots__ = ("_busy", "_idle", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._idle: list[_Runner] = []
        # Tasks finishing a suspended coroutine, so that close() can end them.
        self._busy: set[asyncio.Task[Any]] = set()

    def start(self, coro: AppCoroutine, done: Done) -> Started | None:
        """Run ``coro`` until it first suspends; return what finishes it (to
        cancel it), or ``None`` if it already ended. When it ends, ``done`` is
        called with ``None`` (it returned) or with what it raised, whatever
        that was (a request never ends the worker); ``done`` must not raise."""
        if _BUILTIN_EAGER:  # pragma: no cover - exercised on Python >= 3.12 only
            task: asyncio.Task[None] = asyncio.Task(  # type: ignore[call-arg]  # 3.12 keyword
                _reporting(coro, done), loop=self._loop, eager_start=True
            )
            if task.done():
                return None
            self._busy.add(task)
            task.add_done_callback(self._busy.discard)
            return task
        idle = self._idle
        runner = idle.pop() if idle else None
        if runner is None or runner.task.done():
            runner = self._idle_runner()
        loop = self._loop
        context = contextvars.copy_context()
        previous = _current_tasks.get(loop)
        _current_tasks[loop] = runner.task
        try:
            first = context.run(coro.send, None)
        except StopIteration:
            idle.append(runner)
            done(None)
            return None
        except BaseException as exc:
            idle.append(runner)
            done(exc)
            return None
        finally:
            if previous is None:
                del _current_tasks[loop]
            else:
                _current_tasks[loop] = previous
        runner.adopt(coro, first, context, done)
        self._busy.add(runner.task)
        return _Job(runner, coro)

    def spawn(self, coro: AppCoroutine, done: Done) -> Driven:
        """Run ``coro`` in a Task of its own, not eagerly, driven so that it
        may also be stepped directly (``Driven.step``): for a long-lived
        coroutine (a WebSocket app). ``close()`` cancels it too."""
        from transom.server.driven import Driven  # here: driven.py imports this module

        driven = Driven(self._loop, coro, done)
        task = driven.task
        self._busy.add(task)
        task.add_done_callback(self._busy.discard)
        return driven

    def close(self) -> list[asyncio.Task[Any]]:
        """The server is stopping: cancel every runner and every coroutine still
        running (an app whose connection is gone may still be at work); returns
        the tasks to wait for."""
        tasks = [runner.task for runner in self._idle]
        tasks.extend(self._busy)
        self._idle.clear()
        self._busy.clear()
        for task in tasks:
            task.cancel()
        return tasks

    def _idle_runner(self) -> _Runner:
        idle = self._idle
        while idle:
            runner = idle.pop()
            if not runner.task.done():
                return runner
        return _Runner(self)

    def _release(self, runner: _Runner) -> bool:
        self._busy.discard(runner.task)
        if len(self._idle) >= _MAX_IDLE_RUNNERS or runner.task.cancelling():
            # A runner that was cancelled keeps that count (Task.cancelling());
            # asyncio.timeout in a later request would misread it: retire it.
            return False
        self._idle.append(runner)
        return True


class _Runner:
    """A Task that finishes coroutines whose first step ran eagerly."""

    __slots__ = ("_current", "_job", "_starter", "_wakeup", "task")

    def __init__(self, starter: EagerStarter) -> None:
        self._starter = starter
        self._job: tuple[AppCoroutine, Any, contextvars.Context, Done] | None = None
        self._current: AppCoroutine | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] = starter._loop.create_task(self._main())

    def job_is(self, coro: AppCoroutine) -> bool:
        """Whether this runner is (about to be) finishing ``coro``."""
        job = self._job
        return self._current is coro or (job is not None and job[0] is coro)

    def adopt(
        self, coro: AppCoroutine, first: Any, context: contextvars.Context, done: Done
    ) -> None:
        self._job = (coro, first, context, done)
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
            self._current = job[0]
            try:
                await _Resume(*job)
            finally:
                self._current = None
            if not self._starter._release(self):
                return


class _Job:
    """One coroutine a runner finishes. Cancelling it cancels the runner's task
    only while that runner is still on this coroutine: a runner moves on to
    other requests, which must not be hit."""

    __slots__ = ("_coro", "_runner")

    def __init__(self, runner: _Runner, coro: AppCoroutine) -> None:
        self._runner = runner
        self._coro = coro

    def done(self) -> bool:
        return self._runner.task.done() or not self._runner.job_is(self._coro)

    def cancel(self) -> bool:
        if self.done():
            return False
        return self._runner.task.cancel()


class _Resume:
    """Awaitable that continues a coroutine already advanced by one step,
    each step in the coroutine's own context, and reports how it ended."""

    __slots__ = ("_context", "_coro", "_done", "_first")

    def __init__(
        self, coro: AppCoroutine, first: Any, context: contextvars.Context, done: Done
    ) -> None:
        self._coro = coro
        self._first = first
        self._context = context
        self._done = done

    def __await__(self) -> Generator[Any, Any, None]:
        coro, value, run = self._coro, self._first, self._context.run
        while True:
            try:
                try:
                    sent = yield value
                except BaseException as exc:  # cancellation and throw() go to the coroutine
                    value = run(coro.throw, exc)
                else:
                    value = run(coro.send, sent)
            except StopIteration:
                self._done(None)
                return
            except GeneratorExit:
                raise  # this runner is being closed: the coroutine went with it
            except BaseException as exc:  # the coroutine raised: report it, go on serving
                self._done(exc)
                return


async def _reporting(coro: AppCoroutine, done: Done) -> None:  # pragma: no cover - 3.12+
    try:
        await coro
    except GeneratorExit:
        raise
    except BaseException as exc:
        done(exc)
    else:
        done(None)
