"""Server-side sessions across real server processes (``transom run``).

- two servers on one ``RedisStore``: a session written through one is read
  through the other;
- ``SQLiteStore`` keeps a session across a server restart;
- ``--workers 2`` on one SQLite file: concurrent requests writing sessions,
  each request on a new connection so the workers take turns; no error, no
  lost write.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from tests.server.processes import ServerProcess
from transom.client import AsyncClient

REDIS_URL = "redis://127.0.0.1:6379/0"

APP = """
import os
from transom import App, Request
from transom.web.sessions import RedisStore, SQLiteStore

app = App(secret_key="sessions-across-processes", session_store=STORE, csrf=False)


@app.get("/append/{value}")
async def append(request: Request, value: str):
    request.session["items"] = [*request.session.get("items", []), value]
    return {"pid": os.getpid()}


@app.get("/session")
async def show(request: Request):
    return {"pid": os.getpid(), "items": request.session.get("items", [])}
"""


def write_app(directory: Path, store: str) -> str:
    (directory / "sessionapp.py").write_text(APP.replace("STORE", store))
    return "sessionapp:app"


async def start(directory: Path, *args: str) -> ServerProcess:
    return await ServerProcess.start(
        directory, "sessionapp:app", "--port", "0", "--no-access-log", *args
    )


async def stop(server: ServerProcess) -> None:
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


async def get_json(client: AsyncClient, port: int, path: str) -> Any:
    response = await client.get(f"http://127.0.0.1:{port}{path}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"transom-test:{secrets.token_hex(8)}:"
    yield prefix
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=prefix + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_sessions_shared_by_two_servers_on_one_redis(
    tmp_path: Path, redis_prefix: str
) -> None:
    write_app(tmp_path, f"RedisStore({REDIS_URL!r}, prefix={redis_prefix!r})")
    first = await start(tmp_path)
    second = await start(tmp_path)
    try:
        async with AsyncClient(timeout=10) as client:  # one cookie jar for 127.0.0.1
            written = await get_json(client, first.port, "/append/one")
            read = await get_json(client, second.port, "/session")
            assert read["pid"] != written["pid"]
            assert read["items"] == ["one"]
            await get_json(client, second.port, "/append/two")
            assert (await get_json(client, first.port, "/session"))["items"] == ["one", "two"]
        await stop(first)
        await stop(second)
    finally:
        await first.stop()
        await second.stop()


async def test_sessions_in_sqlite_survive_server_restart(tmp_path: Path) -> None:
    write_app(tmp_path, f"SQLiteStore({str(tmp_path / 'sessions.db')!r})")
    async with AsyncClient(timeout=10) as client:
        server = await start(tmp_path)
        try:
            await get_json(client, server.port, "/append/kept")
            await stop(server)
        finally:
            await server.stop()
        server = await start(tmp_path)
        try:
            assert (await get_json(client, server.port, "/session"))["items"] == ["kept"]
            await stop(server)
        finally:
            await server.stop()


async def append_many(port: int, tag: str, count: int) -> tuple[list[str], set[int]]:
    """One browser: ``count`` writes to its session, each on a new connection."""
    pids: set[int] = set()
    close = {"connection": "close"}
    async with AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
        for n in range(count):
            response = await client.get(f"/append/{tag}{n}", headers=close)
            assert response.status_code == 200, response.text
            pids.add(response.json()["pid"])
        response = await client.get("/session", headers=close)
        assert response.status_code == 200, response.text
        return response.json()["items"], pids


async def test_sessions_in_sqlite_with_two_workers_writing_at_once(tmp_path: Path) -> None:
    write_app(tmp_path, f"SQLiteStore({str(tmp_path / 'sessions.db')!r})")
    server = await start(tmp_path, "--workers", "2")
    try:
        await server.wait_for_line("serving on")  # the second worker
        results = await asyncio.gather(*(append_many(server.port, f"c{c}-", 25) for c in range(8)))
        for c, (items, _) in enumerate(results):
            assert items == [f"c{c}-{n}" for n in range(25)]
        assert len(set().union(*(pids for _, pids in results))) == 2
        await stop(server)
    finally:
        await server.stop()
