"""The connection pool: keep-alive reuse, stale connections, limits and waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from transom.client import AsyncClient, Client, Limits, Timeout
from transom.exceptions import PoolTimeout, RemoteProtocolError

from .servers import Handler, RawServer, ServerThread, read_request

RawFactory = Callable[[Handler], RawServer]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _answering(close_after: int | None = None, drop_next_on_first: bool = False) -> Handler:
    """Answer OK to each request; optionally close after ``close_after`` answers, or
    (on the first connection only) read one more request and close without answering."""
    first = True

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal first
        is_first, first = first, False
        answered = 0
        while True:
            await read_request(reader)
            if drop_next_on_first and is_first and answered == 1:
                return  # the server gave up on the idle connection just as it was reused
            writer.write(OK)
            await writer.drain()
            answered += 1
            if close_after is not None and answered >= close_after:
                return

    return handler


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_pool_reuses_kept_alive_connection(raw_server: RawFactory, kind: str) -> None:
    server = raw_server(_answering())
    if kind == "sync":
        with Client() as client:
            texts = [client.get(server.url).text for _ in range(5)]
    else:
        async with AsyncClient() as client:
            texts = [(await client.get(server.url)).text for _ in range(5)]
    assert texts == ["ok"] * 5
    assert server.connections == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_pool_detects_connection_closed_while_idle(raw_server: RawFactory, kind: str) -> None:
    server = raw_server(_answering(close_after=1))
    if kind == "sync":
        with Client() as client:
            client.get(server.url)
            await asyncio.sleep(0.2)  # the server's close reaches us
            assert client.get(server.url).text == "ok"
    else:
        async with AsyncClient() as client:
            await client.get(server.url)
            await asyncio.sleep(0.2)
            assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_pool_retries_idempotent_request_on_stale_connection(
    raw_server: RawFactory, kind: str
) -> None:
    server = raw_server(_answering(drop_next_on_first=True))
    if kind == "sync":
        with Client() as client:
            client.get(server.url)
            assert client.get(server.url).text == "ok"
    else:
        async with AsyncClient() as client:
            await client.get(server.url)
            assert (await client.get(server.url)).text == "ok"
    assert server.connections == 2


async def test_pool_does_not_retry_post_on_stale_connection(raw_server: RawFactory) -> None:
    server = raw_server(_answering(drop_next_on_first=True))
    async with AsyncClient() as client:
        await client.get(server.url)
        with pytest.raises(RemoteProtocolError, match="kept-alive"):
            await client.post(server.url, content=b"once")
    assert server.connections == 1


async def test_pool_waits_for_a_free_connection(uvicorn_server: ServerThread) -> None:
    async with AsyncClient(limits=Limits(max_connections=1)) as client:
        responses = await asyncio.gather(
            *(client.get(uvicorn_server.url + "/slow", params={"delay": "0.05"}) for _ in range(3))
        )
        assert [r.text for r in responses] == ["slow"] * 3
        assert client._transport.pool._total == 1


async def test_pool_timeout_when_no_connection_frees(uvicorn_server: ServerThread) -> None:
    timeout = Timeout(5.0, pool=0.1)
    async with AsyncClient(limits=Limits(max_connections=1), timeout=timeout) as client:
        slow = asyncio.ensure_future(client.get(uvicorn_server.url + "/slow?delay=1"))
        await asyncio.sleep(0.05)
        with pytest.raises(PoolTimeout):
            await client.get(uvicorn_server.url + "/plaintext")
        assert (await slow).text == "slow"


def test_pool_per_host_limit_blocks_only_that_host(
    uvicorn_server: ServerThread, transom_server: ServerThread
) -> None:
    limits = Limits(max_connections=10, max_connections_per_host=1)
    with Client(limits=limits, timeout=Timeout(5.0, pool=0.2)) as client:
        with client.stream("GET", uvicorn_server.url + "/stream?n=3") as response:
            # the only connection to this origin is busy; another origin is free
            assert client.get(transom_server.url + "/plaintext").text == "Hello, World!"
            with pytest.raises(PoolTimeout):
                client.get(uvicorn_server.url + "/plaintext")
            response.read()
        assert client.get(uvicorn_server.url + "/plaintext").status_code == 200


def test_pool_expires_idle_connections(raw_server: RawFactory) -> None:
    server = raw_server(_answering())
    with Client(limits=Limits(keepalive_expiry=0.05)) as client:
        client.get(server.url)
        import time

        time.sleep(0.1)
        client.get(server.url)
    assert server.connections == 2


async def test_pool_close_releases_connections(raw_server: RawFactory) -> None:
    server = raw_server(_answering())
    client = AsyncClient()
    await client.get(server.url)
    assert client._transport.pool._total == 1
    await client.aclose()
    assert client._transport.pool._total == 0


def test_pool_shared_by_threads(transom_server: ServerThread) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with Client(limits=Limits(max_connections=4)) as client:

        def work(_: int) -> list[str]:
            return [client.get(transom_server.url + "/plaintext").text for _ in range(10)]

        with ThreadPoolExecutor(8) as pool:
            results = [text for texts in pool.map(work, range(8)) for text in texts]
        assert results == ["Hello, World!"] * 80
        assert client._transport.pool._total <= 4
