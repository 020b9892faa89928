"""``response.connection``: the peer address, and whether the pool reused the connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from transom.client import ASGITransport, AsyncClient, Client, MockTransport, Response
from transom.client.models import ConnectionInfo

from .servers import RawServer, ServerThread, read_request

RawFactory = Callable[..., RawServer]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def _answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_connection_info_sync_new_then_reused(raw_server: RawFactory) -> None:
    server = raw_server(_answer_ok)
    with Client() as client:
        first, second = client.get(server.url), client.get(server.url)
    peer = ("127.0.0.1", server.port)
    assert first.connection == ConnectionInfo(peer=peer, reused=False)
    assert second.connection == ConnectionInfo(peer=peer, reused=True)


async def test_connection_info_async_new_then_reused(raw_server: RawFactory) -> None:
    server = raw_server(_answer_ok)
    async with AsyncClient() as client:
        first = await client.get(server.url)
        second = await client.get(server.url)
    assert first.connection is not None and second.connection is not None
    assert first.connection.peer == second.connection.peer == ("127.0.0.1", server.port)
    assert (first.connection.reused, second.connection.reused) == (False, True)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_connection_info_of_a_streamed_response(raw_server: RawFactory, kind: str) -> None:
    async def slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"cd")
        await reader.read()

    server = raw_server(slow_body)
    expected = ConnectionInfo(peer=("127.0.0.1", server.port), reused=False)
    if kind == "sync":
        with Client() as client, client.stream("GET", server.url) as response:
            assert response.read() == b"abcd"
    else:
        async with AsyncClient() as client, client.stream("GET", server.url) as response:
            assert await response.aread() == b"abcd"
    assert response.connection == expected  # still known after the connection closed


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_connection_info_ipv6_peer(raw_server: RawFactory) -> None:
    server = raw_server(_answer_ok, host="::1")
    with Client() as client:
        response = client.get(server.url)
    assert response.connection == ConnectionInfo(peer=("::1", server.port), reused=False)


def test_connection_info_of_each_redirect(transom_server: ServerThread) -> None:
    with Client(follow_redirects=True) as client:
        response = client.get(transom_server.url + "/redirect/302?to=/plaintext")
        warm = client.get(transom_server.url + "/plaintext")
    (hop,) = response.history
    assert hop.connection is not None and response.connection is not None
    assert hop.connection.peer == ("127.0.0.1", transom_server.port)
    assert response.connection.reused  # the redirect went over the same kept-alive connection
    assert warm.connection is not None and warm.connection.reused


def test_connection_info_is_none_without_a_network() -> None:
    with Client(transport=MockTransport(lambda request: Response(204))) as client:
        assert client.get("http://example.org/").connection is None

    async def app(scope: object, receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    with Client(transport=ASGITransport(app)) as client:
        assert client.get("http://testserver/").connection is None
    assert Response(200).connection is None
