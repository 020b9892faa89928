"""The HTTP/1.1 exchange against raw servers: framing, HTTP/1.0, broken responses."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from transom.client import AsyncClient, Client, Response, Timeout
from transom.exceptions import ReadTimeout, RemoteProtocolError

from .servers import Handler, RawServer, ServerThread, read_head, read_request

RawFactory = Callable[[Handler], RawServer]


def canned(*responses: bytes, close: bool = False) -> Handler:
    """A handler answering each request on a connection with the next canned bytes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for response in responses:
            await read_request(reader)
            writer.write(response)
            await writer.drain()
        if close:
            writer.close()
            return
        await reader.read()  # keep the connection until the client closes it

    return handler


async def test_http11_reads_chunked_body(raw_server: RawFactory) -> None:
    server = raw_server(
        canned(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
    )
    async with AsyncClient() as client:
        response = await client.get(server.url)
    assert response.text == "hello world"


async def test_http11_reads_close_delimited_body(raw_server: RawFactory) -> None:
    server = raw_server(canned(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", close=True))
    async with AsyncClient() as client:
        response = await client.get(server.url)
        assert response.text == "until the end"
        again = await client.get(server.url)  # the closed connection is not reused
    assert again.text == "until the end"
    assert server.connections == 2


def test_http11_talks_to_http10_server(raw_server: RawFactory) -> None:
    server = raw_server(canned(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold", close=True))
    with Client() as client:
        first = client.get(server.url)
        second = client.get(server.url)
    assert first.http_version == "HTTP/1.0"
    assert (first.text, second.text) == ("old", "old")
    assert server.connections == 2  # HTTP/1.0 without keep-alive: one connection each


async def test_http11_skips_interim_responses(raw_server: RawFactory) -> None:
    server = raw_server(
        canned(
            b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        )
    )
    async with AsyncClient() as client:
        response = await client.get(server.url)
    assert (response.status_code, response.text) == (200, "ok")


async def test_http11_head_response_has_no_body(raw_server: RawFactory) -> None:
    server = raw_server(
        canned(
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )
    )
    async with AsyncClient() as client:
        head = await client.head(server.url)
        get = await client.get(server.url)
    assert head.content == b""
    assert head.headers["content-length"] == "100"
    assert get.text == "ok"
    assert server.connections == 1


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"NOTHTTP 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
        b"",
    ],
    ids=[
        "bad-status",
        "bad-version",
        "bad-chunk-size",
        "short-body",
        "two-lengths",
        "oversized-head",
        "cut-head",
        "no-response",
    ],
)
async def test_http11_malformed_response_raises(raw_server: RawFactory, response: bytes) -> None:
    server = raw_server(canned(response, close=True))
    async with AsyncClient() as client:
        with pytest.raises(RemoteProtocolError):
            await client.get(server.url)
        assert client._transport.pool._total == 0  # the broken connection is discarded


def test_http11_malformed_response_raises_sync(raw_server: RawFactory) -> None:
    server = raw_server(canned(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", close=True))
    with Client() as client, pytest.raises(RemoteProtocolError):
        client.get(server.url)


async def test_http11_read_timeout_fires(raw_server: RawFactory) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server = raw_server(silent)
    async with AsyncClient(timeout=0.2) as client:
        with pytest.raises(ReadTimeout):
            await client.get(server.url)


def test_http11_read_timeout_fires_sync(raw_server: RawFactory) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server = raw_server(silent)
    with Client(timeout=0.2) as client, pytest.raises(ReadTimeout):
        client.get(server.url)


async def test_http11_unread_stream_closes_connection(raw_server: RawFactory) -> None:
    body = b"x" * 3_000_000
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n"
    server = raw_server(canned(head + body, head + body))
    async with AsyncClient() as client:
        async with client.stream("GET", server.url) as response:
            await anext(response.aiter_raw())
        # closed mid-body: that connection is unusable and was dropped
        response = await client.get(server.url)
    assert len(response.content) == 3_000_000
    assert server.connections == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_http11_early_response_beats_write_error(raw_server: RawFactory, kind: str) -> None:
    async def refuse_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(
            b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
            b"Content-Length: 8\r\n\r\ntoo big!"
        )
        await writer.drain()
        writer.write_eof()
        await asyncio.sleep(0.2)  # the answer and the FIN reach the client first
        writer.transport.abort()  # then a reset: the client's next writes fail

    server = raw_server(refuse_body)
    chunk = b"x" * (1 << 20)

    def body() -> Any:
        for _ in range(64):
            yield chunk

    if kind == "sync":
        with Client() as client:
            response = client.post(server.url, content=body())
    else:
        async with AsyncClient() as client:
            response = await client.post(server.url, content=body())
    assert (response.status_code, response.text) == (413, "too big!")


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_http11_ipv6_literal_host(raw_server: Callable[..., RawServer], kind: str) -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        seen.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nv6")
        await writer.drain()

    server = raw_server(handler, host="::1")
    if kind == "sync":
        with Client() as client:
            assert client.get(server.url + "/x").text == "v6"
    else:
        async with AsyncClient() as client:
            assert (await client.get(server.url + "/x")).text == "v6"
    assert f"host: [::1]:{server.port}\r\n".encode() in seen[0]


# --- Expect: 100-continue (RFC 9110 §10.1.1) ------------------------------------------------


async def _expect_app(scope: Any, receive: Any, send: Any) -> None:
    """``/refuse`` answers 413 without reading the body; anything else echoes it."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/refuse":
        body = b"too big!"
        status = 413
    else:
        body = b"got "
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = 200
    headers = [(b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def expect_server() -> Iterator[ServerThread]:
    """Transom's server: it sends ``100 Continue`` only when the app reads the body."""
    server = ServerThread("transom", _expect_app)
    yield server
    server.stop()


class _Body:
    """A streamed body that notes whether it was read."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.was_read = False

    def __iter__(self) -> Iterator[bytes]:
        self.was_read = True
        return iter(self.chunks)


async def _post(kind: str, url: str, body: Any, *, expect: float | None = 10.0) -> Response:
    """POST ``body`` with ``Expect: 100-continue`` from a sync or an async client."""
    options: dict[str, Any] = {
        "content": body,
        "headers": {"expect": "100-Continue"},  # the expectation is case-insensitive
        "timeout": Timeout(5.0, expect=expect),
    }
    if kind == "sync":
        with Client() as client:
            return client.post(url, **options)
    async with AsyncClient() as client:
        return await client.post(url, **options)


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("body", ["bytes", "stream"])
async def test_http11_expect_continue_sends_body_after_100(
    expect_server: ServerThread, kind: str, body: str
) -> None:
    content: Any = b"hello" if body == "bytes" else _Body(b"hel", b"lo")
    started = time.monotonic()
    response = await _post(kind, expect_server.url + "/echo", content, expect=10.0)
    assert (response.status_code, response.text) == (200, "got hello")
    # The body went out on the server's 100, not when the 10 s wait ran out.
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_http11_expect_continue_early_final_response_skips_body(
    expect_server: ServerThread, kind: str
) -> None:
    body = _Body(b"x" * 1000)
    started = time.monotonic()
    response = await _post(kind, expect_server.url + "/refuse", body, expect=10.0)
    assert (response.status_code, response.text) == (413, "too big!")
    assert not body.was_read
    assert time.monotonic() - started < 5


async def test_http11_expect_continue_early_response_closes_connection(
    raw_server: RawFactory,
) -> None:
    after_head: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 2\r\n\r\nno")
        await writer.drain()
        after_head.append(await reader.read())  # until the client closes the connection

    server = raw_server(refuse)
    async with AsyncClient() as client:
        response = await client.post(
            server.url, content=b"payload", headers={"expect": "100-continue"}
        )
        assert (response.status_code, response.text) == (413, "no")
        assert client._transport.pool._total == 0  # our request was cut short: not reusable
    for _ in range(100):
        if after_head:
            break
        await asyncio.sleep(0.02)
    assert after_head == [b""]  # the body never went out


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_http11_expect_continue_sends_body_after_timeout(
    raw_server: RawFactory, kind: str
) -> None:
    async def ignores_expect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, body = await read_request(reader)  # waits for the body without a 100
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        await reader.read()

    server = raw_server(ignores_expect)
    started = time.monotonic()
    response = await _post(kind, server.url, b"patience", expect=0.3)
    assert (response.status_code, response.text) == (200, "patience")
    assert time.monotonic() - started >= 0.3


async def test_http11_expect_continue_head_waits_for_100(raw_server: RawFactory) -> None:
    """The body waits for the 100 (other interim responses do not release it)."""
    early: list[bytes] = []

    async def hints_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        await writer.drain()
        with contextlib.suppress(TimeoutError):  # nothing may follow the head before our 100
            early.append(await asyncio.wait_for(reader.read(1), 0.3))
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        body = await reader.readexactly(4)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + body)
        await writer.drain()
        await reader.read()

    server = raw_server(hints_first)
    started = time.monotonic()
    response = await _post("async", server.url, b"body", expect=10.0)
    assert (response.status_code, response.text) == (200, "body")
    assert early == []
    assert time.monotonic() - started < 5


async def test_http11_expect_continue_none_waits_for_the_server(raw_server: RawFactory) -> None:
    async def late_continue(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.sleep(1.2)  # past the default 1 s wait
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        body = await reader.readexactly(4)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + body)
        await writer.drain()
        await reader.read()

    server = raw_server(late_continue)
    response = await _post("async", server.url, b"body", expect=None)
    assert (response.status_code, response.text) == (200, "body")


async def test_http11_expect_none_raises_read_timeout_when_server_is_silent(
    raw_server: RawFactory,
) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()

    server = raw_server(silent)
    async with AsyncClient(timeout=Timeout(0.3, expect=None)) as client:
        with pytest.raises(ReadTimeout):
            await client.post(server.url, content=b"body", headers={"expect": "100-continue"})


async def test_http11_expect_on_bodiless_request_does_not_wait(raw_server: RawFactory) -> None:
    server = raw_server(canned(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
    started = time.monotonic()
    async with AsyncClient(timeout=Timeout(5.0, expect=10.0)) as client:
        response = await client.get(server.url, headers={"expect": "100-continue"})
    assert response.text == "ok"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_http11_expect_continue_417_is_repeated_without_the_expectation(
    raw_server: RawFactory, kind: str
) -> None:
    heads: list[bytes] = []

    async def no_expectations(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        heads.append(head)
        if b"expect:" in head.lower():
            writer.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    server = raw_server(no_expectations)
    response = await _post(kind, server.url, b"payload", expect=10.0)
    assert (response.status_code, response.content) == (200, b"payload")
    assert len(heads) == 2
    assert b"expect" in heads[0].lower() and b"expect" not in heads[1].lower()
