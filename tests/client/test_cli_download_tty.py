"""``transom http --download`` on a terminal: a progress bar redrawn in place with ``\\r``.

The CLI runs under a pseudo-terminal (its stderr is the pty's slave end), as a
user at a terminal runs it; the non-terminal case (one line per download) is
in ``test_cli.py``.
"""

from __future__ import annotations

import asyncio
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .servers import Handler, RawServer, read_request

pytest.importorskip("pty")  # POSIX only

RawFactory = Callable[[Handler], RawServer]
CHUNK = b"x" * 1000
CHUNKS = 6


async def _slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 6000-byte body in six pieces, 0.15 s apart: the bar is redrawn as it grows."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(CHUNK) * CHUNKS))
    for _ in range(CHUNKS):
        writer.write(CHUNK)
        await writer.drain()
        await asyncio.sleep(0.15)


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str, bytes]:
    """Run the CLI with stderr on a pty: (exit code, what the terminal got, stdout)."""
    master, slave = os.openpty()
    env = {**os.environ, "TRANSOM_CONFIG_DIR": str(cwd / "config"), "COLUMNS": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "transom", "http", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=cwd,
        env=env,
    )
    os.close(slave)  # the child holds the only slave end: EOF (EIO) when it exits
    received = b""
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every slave end is closed
                break
            if not data:
                break
            received += data
        assert process.stdout is not None
        stdout = process.stdout.read()
        code = process.wait(10)
    finally:
        os.close(master)
        if process.poll() is None:  # pragma: no cover - only when the test fails
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    return code, received.decode(), stdout


def test_cli_download_progress_bar_on_a_terminal(raw_server: RawFactory, tmp_path: Path) -> None:
    server = raw_server(_slow_body)
    code, terminal, stdout = _run_on_a_terminal(["--download", server.url + "/big.bin"], tmp_path)
    assert code == 0, terminal
    assert (tmp_path / "big.bin").read_bytes() == CHUNK * CHUNKS
    assert stdout == b""
    # The pty turns "\n" into "\r\n"; the bar's own redraws are "\r[".
    redraws = terminal.split("\r[")[1:]
    assert len(redraws) >= 3, terminal  # redrawn in place as the body arrived, then at 100%
    percents = [int(redraw.split("]")[1].split("%")[0]) for redraw in redraws]
    assert percents == sorted(percents) and percents[-1] == 100
    assert redraws[-1].startswith("#" * 30 + "] 100% 6.0 kB / 6.0 kB ")
    # Each redraw erases what a longer line before it left (13.3 kB/s, then 9.9 kB/s).
    assert all(redraw.endswith("/s\x1b[K") for redraw in redraws[:-1])
    assert "\r\nDone. 6.0 kB in " in terminal and terminal.endswith("-> big.bin\r\n")
    assert "Downloaded" not in terminal  # the one-line report is for non-terminals


def test_cli_download_progress_without_a_length(raw_server: RawFactory, tmp_path: Path) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(CHUNKS):
            writer.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            await writer.drain()
            await asyncio.sleep(0.15)
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    server = raw_server(chunked)
    code, terminal, _ = _run_on_a_terminal(["-d", "-o", "out.bin", server.url], tmp_path)
    assert code == 0, terminal
    sizes = [line.split(" ")[0] for line in terminal.split("\r")[1:] if line.endswith("/s\x1b[K")]
    assert len(sizes) >= 3, terminal  # "\r3.0 kB 19.9 kB/s" and so on, in place
    assert "6.0 kB" in terminal.split("\r\nDone. ")[1]
