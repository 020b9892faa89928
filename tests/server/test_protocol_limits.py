"""Every bound on what a client may do: sizes, times, connection count."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from transom._types import Receive, Scope, Send

from .rawhttp import RawClient, get, hello_app, scope_app


@pytest.fixture(params=["llhttp", "python"])
def serve(request: pytest.FixtureRequest, serve: Any) -> Any:
    """Every test here runs on both parser backends of the connection core."""

    async def start(app: Any, **options: Any) -> Any:
        options.setdefault("http_parser", request.param)
        return await serve(app, **options)

    return start


@pytest.mark.parametrize(
    ("options", "request_bytes", "status"),
    [
        pytest.param({"max_request_line": 100}, get("/" + "a" * 200), 414, id="request-line-414"),
        pytest.param(
            {"max_header_bytes": 1000}, get("/", "X-Big: " + "b" * 2000), 431, id="head-bytes-431"
        ),
        pytest.param(
            {"max_header_count": 5},
            get("/", *(f"X-{i}: v" for i in range(10))),
            431,
            id="header-count-431",
        ),
        pytest.param(
            {"max_body_size": 10},
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nxxxxxxxxxxx",
            413,
            id="body-size-413",
        ),
    ],
)
async def test_limits_breach_answered_with_status_and_close(
    serve: Any, client_factory: Any, options: dict[str, int], request_bytes: bytes, status: int
) -> None:
    server = await serve(scope_app, **options)
    client = await client_factory(server.port)
    client.send(request_bytes)
    data = await client.read_until_closed()
    assert data.startswith(f"HTTP/1.1 {status} ".encode())


async def test_limits_chunked_body_over_limit_is_413(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app, max_body_size=10)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    client.send(b"8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n")
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 413 ")


async def test_limits_slow_header_client_cut_off_despite_trickle(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(hello_app, header_timeout=0.3)
    client = await client_factory(server.port)

    async def trickle() -> None:
        client.send(b"GET / HTTP/1.1\r\nX-Slow: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(200):  # one byte every 50 ms: each byte must not reset the clock
                client.send(b"a")
                await asyncio.sleep(0.05)

    task = asyncio.create_task(trickle())
    try:
        data = await client.read_until_closed()
    finally:
        task.cancel()
    assert data.startswith(b"HTTP/1.1 408 ")


async def test_limits_silent_connection_closed_quietly(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app, header_timeout=0.2)
    client = await client_factory(server.port)
    assert await client.read_until_closed() == b""


async def test_limits_body_timeout_between_chunks(serve: Any, client_factory: Any) -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return

    server = await serve(app, body_timeout=0.3)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert seen[-1] == "http.disconnect"


async def test_limits_keep_alive_idle_connection_closed(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app, keep_alive_timeout=0.3)
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).status == 200
    assert await client.read_until_closed() == b""


async def test_limits_max_connections_answers_503(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app, max_connections=2)
    first = await client_factory(server.port)
    second = await client_factory(server.port)
    assert (await first.request(get("/"))).status == 200
    assert (await second.request(get("/"))).status == 200
    third = await client_factory(server.port)
    data = await third.read_until_closed()
    assert data.startswith(b"HTTP/1.1 503 ")


async def test_limits_pipelined_flood_pauses_reading(serve: Any) -> None:
    release = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/block":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    server = await serve(app, read_high_water=1024)
    client = await RawClient.connect(server.port)
    client.send(get("/block") + get("/next") * 2000)  # ~70 kB queued behind a busy app
    await asyncio.sleep(0.2)
    (protocol,) = server.state.connections
    assert protocol._read_paused
    release.set()
    statuses = [(await client.response()).status for _ in range(2001)]
    assert set(statuses) == {200}
    await client.close()


async def test_limits_client_not_reading_is_dropped(serve: Any, client_factory: Any) -> None:
    outcome: asyncio.Queue[str] = asyncio.Queue()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"x" * 65536
        try:
            for _ in range(100_000):  # far more than socket buffers hold
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except OSError:
            outcome.put_nowait("dropped")
            raise
        outcome.put_nowait("sent everything")

    server = await serve(app, write_timeout=0.3)
    client = await client_factory(server.port)
    client.send(get("/"))  # ...and never read
    assert await asyncio.wait_for(outcome.get(), 20) == "dropped"
