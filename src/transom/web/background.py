"""Work that runs after the response has been sent.

Attach a ``BackgroundTask`` (or several, as ``BackgroundTasks``) to a
response; the response calls it once its last byte has been handed to the
server, so the client is not kept waiting::

    async def index(request):
        tasks = BackgroundTasks()
        tasks.add_task(send_welcome_email, to="ada@example.com")
        return JSONResponse({"ok": True}, background=tasks)

A plain ``def`` task runs in the thread pool, an ``async def`` one on the
event loop. Tasks run in order; an exception stops the remaining ones and
propagates to the server, which logs it (the response is already sent).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from transom.web.concurrency import run_sync

__all__ = ["BackgroundTask", "BackgroundTasks"]


class BackgroundTask:
    """One call, ``func(*args, **kwargs)``, made after the response is sent."""

    __slots__ = ("args", "func", "is_async", "kwargs")

    def __init__(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = inspect.iscoroutinefunction(func)

    async def __call__(self) -> None:
        if self.is_async:
            await self.func(*self.args, **self.kwargs)
        else:
            await run_sync(self.func, *self.args, **self.kwargs)


class BackgroundTasks(BackgroundTask):
    """An ordered list of background tasks, run one after another."""

    __slots__ = ("tasks",)

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks = list(tasks) if tasks else []

    def add_task(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Queue ``func(*args, **kwargs)`` to run after the earlier tasks."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        for task in self.tasks:
            await task()
