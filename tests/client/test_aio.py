"""The asyncio stream's read waiter: a task waiting for data resumes as the data arrives."""

from __future__ import annotations

import asyncio

import pytest

from transom.client._aio import _Arrival


async def test_aio_waiter_resumes_its_task_inside_the_receive_callback() -> None:
    loop = asyncio.get_running_loop()
    arrival = _Arrival(loop)
    order: list[str] = []

    async def reader() -> None:
        order.append(f"got {await arrival!r}")

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)  # the task now waits on the arrival

    def receive() -> None:  # what a protocol callback does: no task is running
        arrival.set_result(b"data")
        order.append("callback done")

    loop.call_soon(receive)
    await task
    # An asyncio.Future would have resumed the task one loop iteration later.
    assert order == ["got b'data'", "callback done"]


async def test_aio_waiter_set_from_a_task_resumes_the_waiter_later() -> None:
    arrival = _Arrival(asyncio.get_running_loop())
    order: list[str] = []

    async def reader() -> None:
        order.append(f"got {await arrival!r}")

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)
    arrival.set_result(b"x")  # from this (running) task: no task may start inside another
    order.append("setter goes on")
    await task
    assert order == ["setter goes on", "got b'x'"]


async def test_aio_waiter_passes_an_error_to_its_task() -> None:
    loop = asyncio.get_running_loop()
    arrival = _Arrival(loop)
    task = asyncio.create_task(asyncio.wait_for(_await(arrival), 5))
    await asyncio.sleep(0)
    loop.call_soon(arrival.set_exception, TimeoutError())
    with pytest.raises(TimeoutError):
        await task
    assert arrival.done() and not arrival.cancelled()


async def test_aio_waiter_is_cancelled_with_its_task() -> None:
    arrival = _Arrival(asyncio.get_running_loop())
    task = asyncio.create_task(_await(arrival))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert arrival.cancelled()
    assert arrival.cancel() is False  # once is enough
    arrival.set_result(b"late")  # ignored: the reader is gone
    with pytest.raises(asyncio.CancelledError):
        arrival.result()


async def test_aio_waiter_callbacks_added_late_or_removed() -> None:
    loop = asyncio.get_running_loop()
    arrival = _Arrival(loop)
    seen: list[object] = []
    arrival.add_done_callback(seen.append)
    assert arrival.remove_done_callback(seen.append) == 1
    with pytest.raises(asyncio.InvalidStateError):
        arrival.result()
    arrival.set_result(b"done")
    assert seen == []  # removed before it was due
    arrival.add_done_callback(seen.append)  # already done: scheduled, as a Future does
    assert seen == []
    await asyncio.sleep(0)
    assert seen == [arrival]
    assert arrival.exception() is None


async def _await(arrival: _Arrival) -> bytes:
    return await arrival
