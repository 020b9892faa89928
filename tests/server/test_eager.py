"""Eager start: a coroutine that never suspends finishes without a Task."""

from __future__ import annotations

import asyncio
import contextvars

from transom.server.eager import start_eager

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


async def test_eager_synchronous_coroutine_needs_no_task() -> None:
    done: list[bool] = []

    async def work() -> None:
        done.append(True)

    assert start_eager(asyncio.get_running_loop(), work()) is None
    assert done == [True]


async def test_eager_suspending_coroutine_continues_in_task() -> None:
    steps: list[str] = []
    gate = asyncio.Event()

    async def work() -> None:
        steps.append("first")
        await gate.wait()
        steps.append("second")

    task = start_eager(asyncio.get_running_loop(), work())
    assert steps == ["first"] and task is not None
    gate.set()
    await asyncio.wait_for(task, 5)
    assert steps == ["first", "second"]


async def test_eager_cancellation_reaches_coroutine() -> None:
    cancelled: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    task = start_eager(asyncio.get_running_loop(), work())
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert cancelled == [True]


async def test_eager_context_changes_do_not_leak() -> None:
    async def work() -> None:
        marker.set("changed")

    start_eager(asyncio.get_running_loop(), work())
    assert marker.get() == "unset"
