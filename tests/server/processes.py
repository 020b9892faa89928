"""Helpers for tests that run ``transom run`` as a subprocess (signals, workers, reload)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

WAIT = 15.0

SLOW_APP = """
import asyncio, os

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    delay = float(scope["query_string"] or b"0")
    await asyncio.sleep(delay)
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
"""


class ServerProcess:
    """A ``transom run`` child; ``port`` comes from its start-up log line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.port = 0
        self.lines: list[str] = []

    @classmethod
    async def start(cls, cwd: Path, *args: str, ready: str = "serving on") -> ServerProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "transom",
            "run",
            *args,
            cwd=cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        server = cls(process)
        await server.wait_for_line(ready)
        return server

    async def wait_for_line(self, text: str) -> str:
        """The next stderr line containing ``text`` (records the port it names)."""

        async def scan() -> str:
            assert self.process.stderr is not None
            while True:
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError("server exited:\n" + "".join(self.lines))
                line = raw.decode()
                self.lines.append(line)
                match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
                if match and "serving on" in line:
                    self.port = int(match.group(1))
                if text in line:
                    return line

        return await asyncio.wait_for(scan(), WAIT)

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.process.send_signal(signum)

    async def wait(self) -> int:
        return await asyncio.wait_for(self.process.wait(), WAIT)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def run_to_exit(cwd: Path, *args: str) -> tuple[int, str]:
    """Run ``transom run ARGS`` expecting it to exit by itself; (code, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "transom",
        "run",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode is not None
    return process.returncode, err.decode()
