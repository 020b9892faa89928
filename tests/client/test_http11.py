"""The HTTP/1.1 exchange against raw servers: framing, HTTP/1.0, broken responses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from transom.client import AsyncClient, Client
from transom.exceptions import ReadTimeout, RemoteProtocolError

from .servers import Handler, RawServer, read_head, read_request

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
