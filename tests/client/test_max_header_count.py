"""A per-request limit on response header fields, enforced by the connection as it parses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from transom.client import AsyncClient, Client
from transom.client._http11 import MAX_HEADERS_EXTENSION
from transom.exceptions import ConfigurationError, RemoteProtocolError

from .servers import Handler, RawServer, read_request

RawFactory = Callable[[Handler], RawServer]


def _head(fields: int) -> bytes:
    lines = b"".join(b"X-Field-%d: %d\r\n" % (n, n) for n in range(fields - 1))
    return b"HTTP/1.1 200 OK\r\n" + lines + b"Content-Length: 2\r\n\r\n"


def _answering(fields: int, closed: list[bool]) -> Handler:
    """Answer each request with ``fields`` header fields; note when the client hangs up."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                closed.append(True)
                return
            writer.write(_head(fields) + b"ok")
            await writer.drain()

    return handler


def _limited(limit: int) -> dict[str, object]:
    return {MAX_HEADERS_EXTENSION: limit}


async def test_max_header_count_refuses_a_head_with_more_fields(raw_server: RawFactory) -> None:
    closed: list[bool] = []
    server = raw_server(_answering(5, closed))
    async with AsyncClient() as client:
        with pytest.raises(RemoteProtocolError, match="got more than 4 headers") as caught:
            await client.get(server.url, extensions=_limited(4))
        assert caught.value.status_code == 431
        await asyncio.sleep(0.1)
        assert closed == [True]  # the connection was closed, not pooled
        assert (await client.get(server.url, extensions=_limited(5))).text == "ok"


def test_max_header_count_sync_client(raw_server: RawFactory) -> None:
    closed: list[bool] = []
    server = raw_server(_answering(3, closed))
    with Client() as client:
        assert client.get(server.url, extensions=_limited(3)).text == "ok"
        with pytest.raises(RemoteProtocolError, match="got more than 2 headers"):
            client.get(server.url, extensions=_limited(2))


async def test_max_header_count_fails_before_the_body(raw_server: RawFactory) -> None:
    async def head_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(_head(10).replace(b"Content-Length: 2", b"Content-Length: 1000"))
        await writer.drain()
        await reader.read()  # the body never comes

    server = raw_server(head_only)
    async with AsyncClient(timeout=5) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(RemoteProtocolError, match="got more than 3 headers"):
            await client.get(server.url, extensions=_limited(3))
        assert loop.time() - started < 2


async def test_max_header_count_connections_are_not_shared(raw_server: RawFactory) -> None:
    closed: list[bool] = []
    server = raw_server(_answering(3, closed))
    async with AsyncClient() as client:
        await client.get(server.url, extensions=_limited(3))
        await client.get(server.url, extensions=_limited(3))
        assert server.connections == 1
        plain = await client.get(server.url)  # no limit of its own: another connection
        assert plain.connection is not None and not plain.connection.reused
        assert server.connections == 2


async def test_max_header_count_default_limit_in_the_message(raw_server: RawFactory) -> None:
    server = raw_server(_answering(300, []))
    async with AsyncClient() as client:
        with pytest.raises(RemoteProtocolError, match="got more than 256 headers"):
            await client.get(server.url)


async def test_max_header_count_may_be_raised(raw_server: RawFactory) -> None:
    server = raw_server(_answering(300, []))
    async with AsyncClient() as client:
        response = await client.get(server.url, extensions=_limited(300))
    assert len(response.headers.raw) == 300


async def test_max_header_count_negative_is_refused(raw_server: RawFactory) -> None:
    server = raw_server(_answering(1, []))
    async with AsyncClient() as client:
        with pytest.raises(ConfigurationError, match="max_header_count"):
            await client.get(server.url, extensions=_limited(-1))
        assert (await client.get(server.url)).text == "ok"  # the slot was given back
