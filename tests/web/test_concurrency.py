"""The bounded thread pool for blocking code."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import warnings

import pytest

from transom.exceptions import ConfigurationError
from transom.web import concurrency
from transom.web.concurrency import iterate_in_threadpool, run_sync

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def test_run_sync_runs_off_the_event_loop_thread() -> None:
    assert await run_sync(threading.current_thread) is not threading.current_thread()


async def test_run_sync_copies_context_variables() -> None:
    var.set("from caller")
    assert await run_sync(var.get) == "from caller"


async def test_run_sync_passes_arguments_and_raises() -> None:
    assert await run_sync(pow, 2, 10) == 1024
    with pytest.raises(ZeroDivisionError):
        await run_sync(divmod, 1, 0)


async def test_iterate_in_threadpool_yields_every_item() -> None:
    assert [item async for item in iterate_in_threadpool(iter(range(5)))] == [0, 1, 2, 3, 4]


async def test_pool_is_bounded_by_default() -> None:
    await run_sync(int)
    executor = concurrency._get_executor()
    assert executor._max_workers == concurrency.DEFAULT_MAX_THREADS == 40


def test_configure_after_start_is_refused() -> None:
    concurrency._get_executor()
    with pytest.raises(ConfigurationError, match="already running"):
        concurrency.configure(max_threads=8)


@pytest.mark.parametrize("bad", [0, -1, 2.5], ids=["zero", "negative", "float"])
def test_configure_rejects_bad_bound(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="positive int"):
        concurrency.configure(max_threads=bad)  # type: ignore[arg-type]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_run_sync_works_in_a_child_forked_after_the_pool_started() -> None:
    assert asyncio.run(run_sync(lambda: 1)) == 1  # the parent's pool now has threads
    with warnings.catch_warnings():  # 3.12+ warns about forking a process that has threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: exit 0 only if a blocking call completes
        try:
            ok = asyncio.run(asyncio.wait_for(run_sync(lambda: 2), 5)) == 2
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
