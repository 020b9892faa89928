"""ASGI lifespan: start-up state, failures, apps without lifespan support."""

from __future__ import annotations

from typing import Any

import pytest

from transom._types import Message, Receive, Scope, Send
from transom.server.lifespan import Lifespan, LifespanFailed


def lifespan_app(startup: str = "complete", events: list[str] | None = None) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        message = await receive()
        assert message["type"] == "lifespan.startup"
        scope["state"]["ready"] = True
        reply: Message = {"type": f"lifespan.startup.{startup}"}
        if startup == "failed":
            reply["message"] = "database unreachable"
        await send(reply)
        message = await receive()
        if events is not None:
            events.append(message["type"])
        await send({"type": "lifespan.shutdown.complete"})

    return app


async def test_lifespan_startup_fills_state_and_shutdown_runs() -> None:
    state: dict[str, Any] = {}
    events: list[str] = []
    lifespan = Lifespan(lifespan_app(events=events), "auto", state)
    await lifespan.startup()
    assert state == {"ready": True}
    await lifespan.shutdown()
    assert events == ["lifespan.shutdown"]


async def test_lifespan_startup_failed_raises_with_message() -> None:
    lifespan = Lifespan(lifespan_app("failed"), "auto", {})
    with pytest.raises(LifespanFailed, match="database unreachable"):
        await lifespan.startup()


async def rejecting_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        raise ValueError(f"unsupported scope {scope['type']}")


async def test_lifespan_auto_tolerates_app_without_support() -> None:
    lifespan = Lifespan(rejecting_app, "auto", {})
    await lifespan.startup()
    await lifespan.shutdown()


async def test_lifespan_on_requires_support() -> None:
    lifespan = Lifespan(rejecting_app, "on", {})
    with pytest.raises(LifespanFailed):
        await lifespan.startup()


async def test_lifespan_off_never_calls_app() -> None:
    calls: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["type"])

    lifespan = Lifespan(app, "off", {})
    await lifespan.startup()
    await lifespan.shutdown()
    assert calls == []
