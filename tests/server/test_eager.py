"""Eager start: a coroutine that never suspends finishes without a Task."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator

import anyio
import pytest

from transom.server.eager import EagerStarter

marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")


def ignore(exc: BaseException | None) -> None:
    pass


@pytest.fixture
async def starter() -> AsyncIterator[EagerStarter]:
    starter = EagerStarter(asyncio.get_running_loop())
    yield starter
    starter.close()
    await asyncio.sleep(0)


async def test_eager_synchronous_coroutine_completes_at_once(starter: EagerStarter) -> None:
    done: list[bool] = []

    async def work() -> None:
        done.append(True)

    assert starter.start(work(), ignore) is None
    assert done == [True]


async def test_eager_suspending_coroutine_continues_in_task(starter: EagerStarter) -> None:
    steps: list[str] = []
    gate = asyncio.Event()

    async def work() -> None:
        steps.append("first")
        await gate.wait()
        steps.append("second")

    task = starter.start(work(), ignore)
    assert steps == ["first"] and task is not None
    gate.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert steps == ["first", "second"]


async def test_eager_first_step_sees_the_task_that_continues_it(starter: EagerStarter) -> None:
    seen: list[asyncio.Task[object] | None] = []

    async def work() -> None:
        seen.append(asyncio.current_task())
        await asyncio.sleep(0.01)
        seen.append(asyncio.current_task())

    job = starter.start(work(), ignore)
    assert job is not None
    while not job.done():
        await asyncio.sleep(0)
    assert seen[0] is not None
    assert seen[0] is seen[1]


async def test_eager_anyio_cancel_scope_across_suspension(starter: EagerStarter) -> None:
    finished: list[bool] = []

    async def work() -> None:
        with anyio.CancelScope():
            await anyio.sleep(0.01)
        with anyio.move_on_after(0.01):
            await anyio.sleep(5)
        finished.append(True)

    starter.start(work(), ignore)
    await asyncio.sleep(0.2)
    assert finished == [True]


async def test_eager_cancellation_reaches_coroutine(starter: EagerStarter) -> None:
    cancelled: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)

    task = starter.start(work(), ignore)
    assert task is not None
    await asyncio.sleep(0)
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    assert cancelled == [True]


async def test_eager_context_changes_do_not_leak(starter: EagerStarter) -> None:
    async def work() -> None:
        marker.set("changed")

    starter.start(work(), ignore)
    assert marker.get() == "unset"


async def test_eager_context_kept_across_suspension(starter: EagerStarter) -> None:
    values: list[str] = []

    async def work() -> None:
        marker.set("request")
        await asyncio.sleep(0)
        values.append(marker.get())

    starter.start(work(), ignore)
    for _ in range(5):
        await asyncio.sleep(0)
    assert values == ["request"]


async def test_eager_cancelled_coroutine_that_swallows_it_still_ends() -> None:
    starter = EagerStarter(asyncio.get_running_loop())
    gate = asyncio.Event()

    async def stubborn() -> None:
        with contextlib.suppress(BaseException):  # an app that swallows the cancellation
            await gate.wait()

    job = starter.start(stubborn(), ignore)
    assert job is not None
    tasks = starter.close()
    _done, pending = await asyncio.wait(tasks, timeout=10)
    assert pending == set()
    assert job.done()


async def test_eager_cancelling_a_finished_job_spares_the_runner(starter: EagerStarter) -> None:
    first_gate, second_gate = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def work(name: str, gate: asyncio.Event) -> None:
        await gate.wait()
        finished.append(name)

    first = starter.start(work("first", first_gate), ignore)
    assert first is not None
    first_gate.set()
    while not first.done():
        await asyncio.sleep(0)
    # The runner went back to the pool and may now carry another request.
    second = starter.start(work("second", second_gate), ignore)
    assert second is not None
    assert first.cancel() is False  # the old handle must not hit the new request
    second_gate.set()
    while not second.done():
        await asyncio.sleep(0)
    assert finished == ["first", "second"]


async def test_eager_cancelled_runner_is_not_reused(starter: EagerStarter) -> None:
    gate = asyncio.Event()
    seen: list[asyncio.Task[object] | None] = []

    async def swallow() -> None:
        seen.append(asyncio.current_task())
        with contextlib.suppress(asyncio.CancelledError):
            await gate.wait()

    job = starter.start(swallow(), ignore)
    assert job is not None
    job.cancel()
    while not job.done():
        await asyncio.sleep(0)

    async def later() -> None:
        seen.append(asyncio.current_task())
        async with asyncio.timeout(5):  # would misfire on a task with a pending cancel count
            await asyncio.sleep(0)

    nxt = starter.start(later(), ignore)
    if nxt is not None:
        while not nxt.done():
            await asyncio.sleep(0)
    assert len(seen) == 2
    assert seen[0] is not seen[1]


async def test_eager_reports_a_coroutine_that_returns_at_once(starter: EagerStarter) -> None:
    ended: list[BaseException | None] = []

    async def work() -> None:
        pass

    assert starter.start(work(), ended.append) is None
    assert ended == [None]


async def test_eager_reports_what_the_first_step_raised(starter: EagerStarter) -> None:
    ended: list[BaseException | None] = []

    async def work() -> None:
        raise KeyError("boom")

    assert starter.start(work(), ended.append) is None
    assert len(ended) == 1 and isinstance(ended[0], KeyError)
    # The runner went back to the pool: the next coroutine runs as before.
    assert starter.start(work(), ended.append) is None
    assert len(ended) == 2


@pytest.mark.parametrize("error", [ValueError("late"), SystemExit(3), None])
async def test_eager_reports_how_a_suspended_coroutine_ended(
    starter: EagerStarter, error: BaseException | None
) -> None:
    ended: list[BaseException | None] = []

    async def work() -> None:
        await asyncio.sleep(0)
        if error is not None:
            raise error

    job = starter.start(work(), ended.append)
    assert job is not None and ended == []
    while not job.done():
        await asyncio.sleep(0)
    assert ended == [error]
    # A runner survives whatever its coroutine raised.
    again = starter.start(work(), ended.append)
    assert again is not None
    while not again.done():
        await asyncio.sleep(0)
    assert len(ended) == 2


async def test_eager_reports_a_cancellation(starter: EagerStarter) -> None:
    ended: list[BaseException | None] = []

    async def work() -> None:
        await asyncio.sleep(10)

    job = starter.start(work(), ended.append)
    assert job is not None
    await asyncio.sleep(0)
    job.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(ended) == 1 and isinstance(ended[0], asyncio.CancelledError)
