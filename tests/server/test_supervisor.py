"""``--workers N``: shared port, worker restart, signals passed on."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from .processes import SLOW_APP, ServerProcess, run_to_exit
from .rawhttp import RawClient, get


async def worker_pid(port: int) -> int:
    client = await RawClient.connect(port)
    try:
        return int((await client.request(get("/", "Connection: close"))).body)
    finally:
        await client.close()


async def pids_seen(port: int, want: int, attempts: int = 60) -> set[int]:
    seen: set[int] = set()
    for _ in range(attempts):
        seen.add(await worker_pid(port))
        if len(seen) >= want:
            break
    return seen


async def test_supervisor_restarts_killed_worker(tmp_path: Path) -> None:
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    server = await ServerProcess.start(
        tmp_path, "slowapp:app", "--port", "0", "--workers", "2", "--no-access-log"
    )
    try:
        await server.wait_for_line("serving on")  # the second worker
        before = await pids_seen(server.port, 2)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        await server.wait_for_line("died")
        await server.wait_for_line("serving on")
        after = await pids_seen(server.port, 2)
        assert victim not in after
        assert len(after) == 2
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0
    finally:
        await server.stop()


async def test_supervisor_sigterm_finishes_in_flight_requests(tmp_path: Path) -> None:
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    server = await ServerProcess.start(
        tmp_path, "slowapp:app", "--port", "0", "--workers", "2", "--no-access-log"
    )
    clients = [await RawClient.connect(server.port) for _ in range(4)]
    try:
        for client in clients:
            client.send(get("/?0.5"))
        await asyncio.sleep(0.2)
        server.signal(signal.SIGTERM)
        responses = await asyncio.gather(*(client.response() for client in clients))
        assert [r.status for r in responses] == [200] * 4
        assert await server.wait() == 0
    finally:
        for client in clients:
            await client.close()
        await server.stop()


async def test_supervisor_stops_when_workers_cannot_start(tmp_path: Path) -> None:
    (tmp_path / "nostart.py").write_text(
        "async def app(scope, receive, send):\n"
        "    await receive()\n"
        "    await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n"
    )
    code, err = await run_to_exit(tmp_path, "nostart:app", "--port", "0", "--workers", "2")
    assert code == 3
    assert "no database" in err
