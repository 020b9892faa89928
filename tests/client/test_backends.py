"""The I/O backends: connect and write timeouts, connection errors, for both clients."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from transom.client import AsyncClient, Client, Timeout
from transom.exceptions import ConnectError, ConnectTimeout, WriteTimeout

from .servers import RawServer, read_head


@pytest.fixture
def full_backlog() -> Iterator[tuple[str, int]]:
    """A listening socket whose accept queue is full: new connections hang in SYN."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    address = server.getsockname()
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(address)
        fillers.append(filler)
    yield address
    for filler in fillers:
        filler.close()
    server.close()


async def _get(kind: str, url: str, **kwargs: Any) -> None:
    if kind == "sync":
        with Client(**kwargs) as client:
            client.get(url)
    else:
        async with AsyncClient(**kwargs) as client:
            await client.get(url)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_backend_connect_timeout(full_backlog: tuple[str, int], kind: str) -> None:
    host, port = full_backlog
    with pytest.raises(ConnectTimeout):
        await _get(kind, f"http://{host}:{port}/", timeout=Timeout(5.0, connect=0.2))


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_backend_connect_refused(kind: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectError, match="cannot connect"):
        await _get(kind, f"http://127.0.0.1:{port}/")


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_backend_write_timeout(raw_server: Callable[..., RawServer], kind: str) -> None:
    async def never_reads_body(reader: asyncio.StreamReader, writer: Any) -> None:
        await read_head(reader)
        await asyncio.sleep(10)

    server = raw_server(never_reads_body)
    chunk = b"x" * (1 << 20)

    def body() -> Iterator[bytes]:
        for _ in range(256):  # far more than the socket buffers hold
            yield chunk

    with pytest.raises(WriteTimeout):
        if kind == "sync":
            with Client(timeout=Timeout(5.0, write=0.3)) as client:
                client.post(server.url, content=body())
        else:
            async with AsyncClient(timeout=Timeout(5.0, write=0.3)) as client:
                await client.post(server.url, content=body())


async def test_backend_concurrent_streams_keep_their_own_bytes(
    raw_server: Callable[..., RawServer],
) -> None:
    """Connections on one loop share a receive buffer: interleaved bodies stay apart."""
    size = 300_000  # several receives each, larger than the shared buffer

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        fill = head.split(b" ")[1][-1:]  # "/a" answers a body of b"a"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // 1000):
            writer.write(fill * 1000)
            await writer.drain()
            await asyncio.sleep(0)

    server = raw_server(answer)
    async with AsyncClient() as client:

        async def fetch(letter: str) -> bytes:
            async with client.stream("GET", f"{server.url}/{letter}") as response:
                return b"".join([chunk async for chunk in response.aiter_bytes()])

        bodies = await asyncio.gather(*(fetch(letter) for letter in "abcd"))
    assert bodies == [letter.encode() * size for letter in "abcd"]


def test_backend_runs_on_uvloop(raw_server: Callable[..., RawServer]) -> None:
    """uvloop's transports are not asyncio.Transport subclasses; the stream still works."""
    uvloop = pytest.importorskip("uvloop")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    server = raw_server(answer)

    async def fetch_twice() -> list[bytes]:
        async with AsyncClient() as client:
            return [(await client.get(server.url)).content for _ in range(2)]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(fetch_twice()) == [b"hello", b"hello"]
    assert server.connections == 1
