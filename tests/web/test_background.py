"""Background tasks run after the response is sent."""

from __future__ import annotations

import threading
from typing import Any

from transom.testing import TestClient
from transom.web.application import App
from transom.web.background import BackgroundTask, BackgroundTasks
from transom.web.responses import JSONResponse


def test_background_task_runs_after_response() -> None:
    events: list[str] = []
    app = App()

    async def record(what: str) -> None:
        events.append(what)

    @app.get("/")
    async def handler() -> JSONResponse:
        events.append("handler")
        return JSONResponse({}, background=BackgroundTask(record, "task"))

    TestClient(app).get("/")
    assert events == ["handler", "task"]


def test_background_tasks_run_in_order_sync_in_thread() -> None:
    events: list[Any] = []
    app = App()

    def blocking(n: int) -> None:
        events.append((n, threading.current_thread() is threading.main_thread()))

    async def non_blocking(n: int) -> None:
        events.append((n, "async"))

    @app.get("/")
    async def handler() -> JSONResponse:
        tasks = BackgroundTasks()
        tasks.add_task(blocking, 1)
        tasks.add_task(non_blocking, 2)
        tasks.add_task(blocking, n=3)
        return JSONResponse({"ok": True}, background=tasks)

    assert TestClient(app).get("/").json() == {"ok": True}
    assert events == [(1, False), (2, "async"), (3, False)]
