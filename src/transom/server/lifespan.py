"""ASGI lifespan: start-up and shut-down messages around the server's life.

The app runs once with a ``lifespan`` scope in its own task. ``startup()``
sends ``lifespan.startup`` and waits for ``.complete`` or ``.failed``;
``shutdown()`` does the same with ``lifespan.shutdown``. The scope's
``state`` dict is what the app fills at start-up; each request scope gets a
shallow copy of it.

``mode="auto"`` treats an app that raises before answering start-up as one
without lifespan support (many plain ASGI apps reject unknown scope types);
``"on"`` makes that an error, ``"off"`` never runs the protocol.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from transom._types import ASGIApp, Message

__all__ = ["Lifespan", "LifespanFailed"]

logger = logging.getLogger("transom.error")


class LifespanFailed(Exception):
    """The app reported (or raised) a start-up or shut-down failure."""


class Lifespan:
    """Drives the lifespan protocol of one app."""

    def __init__(self, app: ASGIApp, mode: str, state: dict[str, Any]) -> None:
        self.app = app
        self.mode = mode
        self.state = state
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._answer: asyncio.Future[Message] | None = None
        self._task: asyncio.Task[None] | None = None
        self._unsupported = mode == "off"
        self._error: BaseException | None = None

    async def startup(self) -> None:
        """Run start-up; raises ``LifespanFailed`` if the app reports failure."""
        if self._unsupported:
            return
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "state": self.state,
        }
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        answer = await self._ask("lifespan.startup")
        if answer is None:
            if self.mode == "on":
                raise LifespanFailed(f"lifespan start-up failed: {self._error!r}")
            logger.info("the app does not support ASGI lifespan; continuing without it")
            self._unsupported = True
            return
        if answer["type"] == "lifespan.startup.failed":
            raise LifespanFailed(f"lifespan start-up failed: {answer.get('message', '')}")

    async def shutdown(self) -> None:
        """Run shut-down; failures are logged, never raised (we are exiting anyway)."""
        if self._unsupported or self._task is None:
            return
        if self._task.done():
            return
        answer = await self._ask("lifespan.shutdown")
        if answer is None:
            logger.error("lifespan shut-down failed: %r", self._error)
        elif answer["type"] == "lifespan.shutdown.failed":
            logger.error("lifespan shut-down failed: %s", answer.get("message", ""))
        await asyncio.wait({self._task}, timeout=5)

    async def _ask(self, message_type: str) -> Message | None:
        """Send ``message_type``; the app's answer, or None if the app ended instead."""
        self._answer = asyncio.get_running_loop().create_future()
        await self._inbox.put({"type": message_type})
        assert self._task is not None  # invariant: startup() created it
        waiting: set[asyncio.Future[Any]] = {self._answer, self._task}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        return self._answer.result() if self._answer.done() else None

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._inbox.get, self._send)
        except Exception as exc:
            self._error = exc
            if self.mode == "on" or (self._answer is not None and self._answer.done()):
                logger.error("Exception in ASGI lifespan", exc_info=exc)
        else:
            self._error = RuntimeError("the app returned from the lifespan scope")

    async def _send(self, message: Message) -> None:
        answer = self._answer
        expected = {
            "lifespan.startup.complete",
            "lifespan.startup.failed",
            "lifespan.shutdown.complete",
            "lifespan.shutdown.failed",
        }
        if answer is None or answer.done() or message["type"] not in expected:
            raise RuntimeError(f"unexpected lifespan message {message['type']!r}")
        answer.set_result(message)
