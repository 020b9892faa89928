"""``transom http --max-headers N``: a response head with more fields fails as it is read."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .servers import Handler, RawServer, read_request

RawFactory = Callable[[Handler], RawServer]


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSOM_CONFIG_DIR", str(tmp_path / "config"))


def http(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def _serving(fields: int, hung_up: list[bool]) -> Handler:
    """A head of ``fields`` fields and a body that never comes; notes the client's close."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        lines = b"".join(b"X-Field-%d: %d\r\n" % (n, n) for n in range(fields - 1))
        writer.write(b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 100\r\n\r\n")
        await writer.drain()
        if await reader.read() == b"":
            hung_up.append(True)

    return handler


def test_cli_max_headers_refuses_more_fields(raw_server: RawFactory) -> None:
    hung_up: list[bool] = []
    server = raw_server(_serving(6, hung_up))
    started = time.monotonic()
    result = http("--timeout", "20", "--max-headers", "5", server.url)
    assert result.returncode == 1
    assert "got more than 5 headers in the response" in result.stderr
    assert time.monotonic() - started < 15  # not waiting for the body, nor the timeout
    time.sleep(0.1)
    assert hung_up == [True]


def test_cli_max_headers_allows_as_many(raw_server: RawFactory) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    server = raw_server(handler)
    result = http("--max-headers", "2", server.url)
    assert (result.returncode, result.stdout) == (0, "ok")


def test_cli_max_headers_negative_is_usage_error() -> None:
    result = http("--max-headers", "-1", ":1/x")
    assert result.returncode == 2
    assert "--max-headers wants a number >= 0" in result.stderr
