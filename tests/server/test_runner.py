"""``transom.serve()``: embedding the server in a program of one's own."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from .processes import WAIT

PROGRAM = """
import transom

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"embedded"})

raise SystemExit(transom.serve(app, port=0, log_level=%r))
"""


async def stderr_of(tmp_path: Path, level: str | None) -> str:
    """What the program writes to stderr from start to SIGTERM (it must exit 0)."""
    script = tmp_path / "embedded.py"
    script.write_text(PROGRAM % level)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        await asyncio.sleep(2)  # time to start and say so (or not)
        process.send_signal(signal.SIGTERM)
        output = await asyncio.wait_for(process.stderr.read(), WAIT)
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return output.decode()


async def test_serve_with_a_log_level_logs_to_stderr(tmp_path: Path) -> None:
    assert "serving on http://127.0.0.1:" in await stderr_of(tmp_path, "info")


async def test_serve_without_a_log_level_leaves_logging_alone(tmp_path: Path) -> None:
    assert "serving on" not in await stderr_of(tmp_path, None)
