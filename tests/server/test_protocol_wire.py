"""What the server does with the bytes a client sends, sent over a real socket:
slow bodies, chunk extensions, versions, list syntax, fragments, many
headers, and a graceful shutdown with idle and busy connections."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from transom._types import Receive, Scope, Send

from .rawhttp import RawClient, get, hello_app, scope_app

CHUNKED_POST = b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"


@pytest.fixture(params=["llhttp", "python"])
def serve(request: pytest.FixtureRequest, serve: Any) -> Any:
    """Every test here runs on both parser backends of the connection core."""

    async def start(app: Any, **options: Any) -> Any:
        options.setdefault("http_parser", request.param)
        return await serve(app, **options)

    return start


def body_reader(seen: list[str]) -> Any:
    """An app that reads its whole body, noting each message, then answers 200."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        while True:
            message = await receive()
            seen.append(message["type"])
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    return app


async def trickle(client: RawClient, data: bytes, piece: int, pause: float) -> None:
    with contextlib.suppress(ConnectionError):
        for start in range(0, len(data), piece):
            client.send(data[start : start + piece])
            await asyncio.sleep(pause)


# --- a body read timeout -------------------------------------------------------
async def test_wire_body_trickled_below_the_minimum_rate_gets_408(
    serve: Any, client_factory: Any
) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen), body_timeout=0.3, body_min_rate=100)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
    # One byte every 50 ms: never an idle gap of body_timeout, but 20 bytes/s.
    task = asyncio.create_task(trickle(client, b"x" * 1000, 1, 0.05))
    try:
        data = await client.read_until_closed()
    finally:
        task.cancel()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in data.lower()
    assert seen[-1] == "http.disconnect"


async def test_wire_chunked_body_trickled_below_the_minimum_rate_gets_408(
    serve: Any, client_factory: Any
) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen), body_timeout=0.3, body_min_rate=100)
    client = await client_factory(server.port)
    client.send(CHUNKED_POST + b"3e8\r\n")  # a 1000-byte chunk, announced at once
    task = asyncio.create_task(trickle(client, b"x" * 1000, 1, 0.05))
    try:
        data = await client.read_until_closed()
    finally:
        task.cancel()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert seen[-1] == "http.disconnect"


async def test_wire_body_above_the_minimum_rate_is_read(serve: Any, client_factory: Any) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen), body_timeout=1.0, body_min_rate=100)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 300\r\n\r\n")
    # 10 bytes every 50 ms (200 bytes/s) for 1.5 s: slow, but fast enough.
    await trickle(client, b"x" * 300, 10, 0.05)
    response = await client.response()
    assert response.status == 200
    assert "http.disconnect" not in seen


async def test_wire_body_rate_check_can_be_turned_off(serve: Any, client_factory: Any) -> None:
    seen: list[str] = []
    # At 100 bytes/s after 1 s of grace, this body would be cut off at about 1.25 s.
    server = await serve(body_reader(seen), body_timeout=1.0, body_min_rate=0)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 30\r\n\r\n")
    await trickle(client, b"x" * 30, 1, 0.05)  # 20 bytes/s for 1.5 s
    assert (await client.response()).status == 200


async def test_wire_body_idle_gap_still_gets_408(serve: Any, client_factory: Any) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen), body_timeout=0.3, body_min_rate=0)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 408 ")


async def test_wire_slow_body_after_the_response_started_is_closed(
    serve: Any, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"early", "more_body": True})
        while (await receive())["type"] != "http.disconnect":
            pass

    server = await serve(app, body_timeout=0.3, body_min_rate=100)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
    task = asyncio.create_task(trickle(client, b"x" * 1000, 1, 0.05))
    try:
        data = await client.read_until_closed()
    finally:
        task.cancel()
    # No 408 can follow a started response: the cut-short body says it.
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"408" not in data
    assert not data.endswith(b"0\r\n\r\n")


# --- chunk extensions -------------------------------------------------------------
async def send_until_answered(
    client: RawClient, wire: bytes, piece: int = 16384
) -> tuple[bytes, int]:
    """Send ``wire`` a piece at a time, stopping at the server's first answer
    (sending on would only meet a reset); returns the answer and bytes sent."""
    for start in range(0, len(wire), piece):
        client.send(wire[start : start + piece])
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(client.reader.read(65536), 0.2), start + piece
    return b"", len(wire)


async def test_wire_megabyte_of_extensions_on_one_chunk_gets_400(
    serve: Any, client_factory: Any
) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen))
    client = await client_factory(server.port)
    wire = CHUNKED_POST + b"1" + b";ext=value" * 104_858 + b"\r\nx\r\n0\r\n\r\n"  # 1 MiB
    answer, sent = await send_until_answered(client, wire)
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert sent <= 32768  # refused as soon as the line passed its bound
    assert await client.is_closed()
    assert "http.request" not in seen  # the app never got a byte of body


async def test_wire_extensions_spread_over_many_chunks_get_413(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(body_reader([]))
    client = await client_factory(server.port)
    # 1-byte chunks, each with 4000 bytes of extensions: past the 64 KiB head limit.
    wire = CHUNKED_POST + (b"1;ext=" + b"v" * 3994 + b"\r\nx\r\n") * 256 + b"0\r\n\r\n"
    answer, sent = await send_until_answered(client, wire)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert sent <= 65536 + 32768
    assert await client.is_closed()


async def test_wire_ordinary_chunk_extensions_pass(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    body = b'3;name=value;q="a b"\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n'
    response = await client.request(CHUNKED_POST + body)
    assert response.status == 200
    assert response.json()["body_size"] == 5


# --- versions, list syntax, fragments, header counts --------------------------------
async def test_wire_http12_is_served_as_http11(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    response = await client.request(get("/one", version="1.2"))
    assert response.status == 200
    assert response.head.startswith(b"HTTP/1.1 200 ")
    assert response.json()["http_version"] == "1.1"
    # Kept alive, as HTTP/1.1 is.
    assert (await client.request(get("/two", version="1.2"))).json()["path"] == "/two"


@pytest.mark.parametrize("version", ["2.0", "3.0", "0.9"])
async def test_wire_other_major_versions_get_505(
    serve: Any, client_factory: Any, version: str
) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    client.send(get("/", version=version))
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 505 ")


@pytest.mark.parametrize(
    "value", [b", chunked", b"chunked,", b" , ,chunked , "], ids=["leading", "trailing", "many"]
)
async def test_wire_transfer_encoding_with_empty_elements_is_accepted(
    serve: Any, client_factory: Any, value: bytes
) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    wire = CHUNKED_POST.replace(b"chunked", value) + b"5\r\nhello\r\n0\r\n\r\n"
    response = await client.request(wire)
    assert response.status == 200
    assert response.json()["body_size"] == 5


@pytest.mark.parametrize(
    ("value", "status"),
    [(b", ,", 400), (b", chunked, gzip", 400), (b"chunked, , chunked", 400), (b", gzip,", 400)],
    ids=["only-empty", "chunked-not-last", "chunked-twice", "gzip"],
)
async def test_wire_transfer_encoding_still_needs_a_final_chunked(
    serve: Any, client_factory: Any, value: bytes, status: int
) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    client.send(CHUNKED_POST.replace(b"chunked", value) + b"0\r\n\r\n")
    data = await client.read_until_closed()
    assert data.startswith(f"HTTP/1.1 {status} ".encode())


@pytest.mark.parametrize("target", ["/a#b", "/a?q=1#frag", "/#", "http://t/a#b"])
async def test_wire_target_with_a_fragment_gets_400(
    serve: Any, client_factory: Any, target: str
) -> None:
    seen: list[str] = []
    server = await serve(body_reader(seen))
    client = await client_factory(server.port)
    client.send(get(target))
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 400 ")
    assert seen == []  # the app never saw it


async def test_wire_encoded_hash_in_a_path_reaches_the_app(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    response = await client.request(get("/a%23b"))
    assert response.json()["path"] == "/a#b"


async def test_wire_a_hundred_ordinary_headers_pass(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    fields = [f"X-Corporate-Proxy-Field-{i}: value-{i}-{'v' * 40}" for i in range(99)]
    response = await client.request(get("/", *fields))
    assert response.status == 200
    assert len(response.json()["headers"]) == 100


async def test_wire_header_count_limit_is_256_and_settable(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    assert (await client.request(get("/", *(["X: y"] * 255)))).status == 200
    client.send(get("/", *(["X: y"] * 256)))  # 257 with Host
    assert (await client.read_until_closed()).startswith(b"HTTP/1.1 431 ")
    server = await serve(scope_app, max_header_count=20)
    client = await client_factory(server.port)
    client.send(get("/", *(["X: y"] * 20)))
    assert (await client.read_until_closed()).startswith(b"HTTP/1.1 431 ")


async def test_wire_head_byte_limit_bounds_many_headers(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app, max_header_bytes=4096)
    client = await client_factory(server.port)
    client.send(get("/", *(f"X-{i}: {'v' * 60}" for i in range(100))))  # ~7 kB
    assert (await client.read_until_closed()).startswith(b"HTTP/1.1 431 ")


# --- graceful shutdown ----------------------------------------------------------------
async def test_wire_shutdown_closes_idle_and_finishes_busy_connections(serve: Any) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/slow":
            arrived.set()
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    server = await serve(app)
    idle = await RawClient.connect(server.port)
    busy = await RawClient.connect(server.port)
    try:
        assert (await idle.request(get("/"))).status == 200  # now idle, kept alive
        busy.send(get("/slow"))
        await asyncio.wait_for(arrived.wait(), 5)
        server.request_shutdown()
        assert await idle.is_closed()  # the idle connection goes at once
        release.set()
        response = await busy.response()
        assert response.status == 200
        assert response.body == b"done"
        assert response.header(b"connection") == b"close"
        assert await busy.is_closed()
    finally:
        await idle.close()
        await busy.close()


async def test_wire_shutdown_closes_a_streaming_response_after_it_ends(serve: Any) -> None:
    # The head went out before the shutdown: no Connection: close can be added,
    # so the connection is closed after the response instead.
    release = asyncio.Event()
    started = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part ", "more_body": True})
        started.set()
        await release.wait()
        await send({"type": "http.response.body", "body": b"end"})

    server = await serve(app)
    client = await RawClient.connect(server.port)
    try:
        client.send(get("/") + get("/pipelined"))
        await asyncio.wait_for(started.wait(), 5)
        server.request_shutdown()
        release.set()
        response = await client.response()
        assert response.body == b"part end"
        assert await client.is_closed()  # the pipelined request is not served
    finally:
        await client.close()


async def test_wire_shutdown_500_for_a_failing_app_says_close(serve: Any) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        arrived.set()
        await release.wait()
        raise RuntimeError("broken during shutdown")

    server = await serve(app)
    client = await RawClient.connect(server.port)
    try:
        client.send(get("/"))
        await asyncio.wait_for(arrived.wait(), 5)
        server.request_shutdown()
        release.set()
        response = await client.response()
        assert response.status == 500
        assert response.header(b"connection") == b"close"
        assert await client.is_closed()
    finally:
        await client.close()
