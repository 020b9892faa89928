"""A coroutine run by a Task of its own that its owner may also step directly.

A long-lived coroutine (a WebSocket app) is not started eagerly but
*driven* (``EagerStarter.spawn``, ``Driven``): its Task runs a small driver
that steps the coroutine and re-yields what it waits on, so that its owner
may also step it directly. When the coroutine waits on a future its owner
made (a WebSocket app parked in ``receive()``) and the owner has the value
that future would bring (a message, in ``data_received``), ``Driven.step``
sends the value in at once, with the Task installed as the current task:
no ``set_result``, no loop iteration, no Task wake-up. If the coroutine
then waits on that same future again (the app answered and came back for
more), the Task never noticed anything. If it waits on something else, or
ends, the owner's future is resolved and the driver, woken by it, takes
over: it yields the new awaitable to the Task, or reports the end, without
touching the coroutine.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Generator
from typing import Any, Final

from transom.server.eager import AppCoroutine, Done

__all__ = ["Driven"]

# Install and remove the task asyncio.current_task() returns (C functions on 3.11-3.13).
_enter_task = asyncio.tasks._enter_task
_leave_task = asyncio.tasks._leave_task
# What a direct step left for the driver (Driven._relay): yield a value, or end.
_YIELD: Final = 0
_END: Final = 1
# What the driver's next step is when the coroutine has ended.
_ENDED: Final[Any] = object()


class Driven:
    """A coroutine run by a Task of its own that its owner may also step
    directly, from a protocol callback (see the module docstring).

    ``done`` is called once with ``None`` (the coroutine returned) or what it
    raised; a ``CancelledError``, ``KeyboardInterrupt`` or ``SystemExit`` is
    raised on afterwards, so that the Task ends as it would have.
    """

    __slots__ = (
        "_done",
        "_outcome",
        "_relay",
        "_run",
        "_send",
        "_stepping",
        "context",
        "coro",
        "declined",
        "loop",
        "stepped",
        "task",
        "waiting_on",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: AppCoroutine, done: Done) -> None:
        self.loop = loop
        self.coro = coro
        self._done = done
        self.context = context = contextvars.copy_context()
        self._run = context.run
        self._send = coro.send
        #: What the Task waits on: the driver's last yield.
        self.waiting_on: Any = None
        self._relay: tuple[int, Any] | None = None
        self._outcome: BaseException | None = None  # how the coroutine ended
        self._stepping = False
        #: How many values ``step`` sent in directly, and how many it left to
        #: the Task (diagnostics; the tests read them).
        self.stepped = 0
        self.declined = 0
        self.task: asyncio.Task[None] = loop.create_task(_drive(self), context=self.context)

    def step(self, future: asyncio.Future[Any], value: Any) -> bool:
        """Send ``value`` into the coroutine now, in place of ``future``'s result.

        ``future`` must be pending (the caller checks). Only while the Task
        waits on it for this very coroutine (the driver's last yield: not a
        child task's receive), with no cancellation pending, no step under
        way and no task running (a call from inside a task, or from the
        coroutine itself, must not re-enter it). Returns ``False`` if it did
        not step: the caller then resolves ``future`` as usual. After a step
        the coroutine waits on ``future`` again (nothing else to do), or
        ``future`` was resolved to wake the Task, whose driver takes over
        (``_relay``; until it does, ``waiting_on`` is stale but ``future`` is
        done, so no step can follow).
        """
        task = self.task
        if self.waiting_on is not future or self._stepping or task.cancelling():
            self.declined += 1
            return False
        loop = self.loop
        try:
            _enter_task(loop, task)
        except RuntimeError:  # another task is running: not from a callback
            self.declined += 1
            return False
        self.stepped += 1
        self._stepping = True
        try:
            result = self._run(self._send, value)
        except StopIteration:
            self._relay = (_END, None)
        except BaseException as exc:  # reported by the driver, as it would have been
            self._relay = (_END, exc)
        else:
            if result is future:
                return True  # back on the same future: the Task still waits on it
            self._relay = (_YIELD, result)
        finally:
            self._stepping = False
            _leave_task(loop, task)
        if not future.done():
            future.set_result(None)  # wake the Task: its driver takes over
        return True

    def __await__(self) -> Generator[Any, Any, None]:
        """The driver: what the Task runs (in ``context``, the Task's own)."""
        coro = self.coro
        send, throw = coro.send, coro.throw
        try:
            value = send(None)
            while True:
                self.waiting_on = value
                try:
                    yield value
                except GeneratorExit:
                    raise
                except BaseException as exc:  # a cancellation: it goes to the coroutine
                    value = throw(exc) if self._relay is None else self._take_over(exc)
                else:
                    value = send(None) if self._relay is None else self._take_over(None)
                if value is _ENDED:
                    break
        except StopIteration:
            self._outcome = None
        except GeneratorExit:
            raise  # the Task is being closed: the coroutine went with it
        except BaseException as exc:
            self._outcome = exc
        self.waiting_on = None
        outcome = self._outcome
        self._done(outcome)
        if outcome is not None and not isinstance(outcome, Exception):
            raise outcome  # cancelled, KeyboardInterrupt, SystemExit: as a Task would end

    def _take_over(self, thrown: BaseException | None) -> Any:
        """Go on from where a direct step left the coroutine (``_relay``):
        what the Task waits on next, or ``_ENDED``. ``thrown``: a cancellation
        that came before the driver woke up."""
        relay = self._relay
        assert relay is not None  # invariant: checked by the caller
        self._relay = None
        kind, value = relay
        if kind != _YIELD:
            self._outcome = value  # it had ended: a cancellation finds nothing to cancel
            return _ENDED
        if thrown is None:
            return self.coro.send(None) if value is None else value  # None: a bare yield
        # A Task cancels the future it waits on, then waits for it to finish.
        cancel = getattr(value, "cancel", None)
        message = thrown.args[0] if thrown.args else None
        if isinstance(thrown, asyncio.CancelledError) and cancel is not None and cancel(message):
            return value
        return self.coro.throw(thrown)


async def _drive(driven: Driven) -> None:
    await driven
