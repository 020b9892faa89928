"""``transom.serve()``: embedding the server in a program of one's own."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

from .processes import WAIT

PROGRAM = """
import sys
import transom

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"embedded"})

raise SystemExit(transom.serve(app, uds=sys.argv[1], log_level=%r))
"""


async def answered(path: Path) -> bool:
    try:
        reader, writer = await asyncio.open_unix_connection(str(path))
    except OSError:
        return False
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return (await reader.read()).endswith(b"embedded")
    finally:
        writer.close()


async def stderr_of(tmp_path: Path, level: str | None) -> str:
    """What the program writes to stderr from start to SIGTERM (it must serve, and exit 0)."""
    script, sock = tmp_path / "embedded.py", tmp_path / "embedded.sock"
    script.write_text(PROGRAM % level)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), str(sock), stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        deadline = time.monotonic() + WAIT
        while not await answered(sock):
            assert time.monotonic() < deadline, "the program did not serve"
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        output = await asyncio.wait_for(process.stderr.read(), WAIT)
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return output.decode()


async def test_serve_with_a_log_level_logs_to_stderr(tmp_path: Path) -> None:
    assert "serving on http+unix://" in await stderr_of(tmp_path, "info")


async def test_serve_without_a_log_level_leaves_logging_alone(tmp_path: Path) -> None:
    assert "serving on" not in await stderr_of(tmp_path, None)
