"""``--reload``: an edited module is served by a restarted process."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from pathlib import Path

from transom.server.reload import _poll

from .processes import ServerProcess
from .rawhttp import RawClient, get

APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"%s"})
"""


async def fetch(port: int) -> bytes:
    client = await RawClient.connect(port)
    try:
        return (await client.request(get("/", "Connection: close"))).body
    finally:
        await client.close()


async def test_reload_serves_edited_module(tmp_path: Path) -> None:
    module = tmp_path / "reloadapp.py"
    module.write_text(APP % "first")
    server = await ServerProcess.start(
        tmp_path, "reloadapp:app", "--port", "0", "--reload", "--no-access-log"
    )
    try:
        assert await fetch(server.port) == b"first"
        await asyncio.sleep(0.6)  # let the watcher take its first look
        module.write_text(APP % "second")
        await server.wait_for_line("change detected")
        await server.wait_for_line("serving on")
        assert await fetch(server.port) == b"second"
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0
    finally:
        await server.stop()


async def test_reload_answers_503_while_the_app_cannot_start(tmp_path: Path) -> None:
    module = tmp_path / "brokenapp.py"
    module.write_text("raise RuntimeError('not today')\n")
    server = await ServerProcess.start(
        tmp_path,
        "brokenapp:app",
        "--port",
        "0",
        "--reload",
        "--no-access-log",
        ready="reloading on changes",
    )
    try:
        await server.wait_for_line("the server exited")
        port = await _listening_port(server)
        client = await RawClient.connect(port)
        try:
            response = await asyncio.wait_for(client.request(get("/")), 5)
        finally:
            await client.close()
        assert response.status == 503
        assert b"failed to start" in response.body
        module.write_text(APP % "fixed")
        await server.wait_for_line("change detected")
        await server.wait_for_line("serving on")
        assert await fetch(port) == b"fixed"
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0
    finally:
        await server.stop()


async def _listening_port(server: ServerProcess) -> int:
    for line in server.lines:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
    raise AssertionError("the reloader did not say where it listens:\n" + "".join(server.lines))


def test_reload_polling_fallback_sees_a_change(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("x = 1\n")
    stop = threading.Event()
    changes = _poll([tmp_path], stop)
    assert next(changes) is False
    source.write_text("x = 2\n")
    import os

    os.utime(source, (source.stat().st_atime, source.stat().st_mtime + 5))
    assert next(changes) is True
    stop.set()
