"""Graceful shutdown over real sockets: the idle grace and the listen queue.

A proxy (nginx with upstream keep-alive) may be writing a request into an
idle connection at the moment a shutdown begins; a POST lost that way cannot
be retried. So an idle connection stays open for a short grace and a request
that arrives meanwhile is answered, with ``Connection: close``; what is still
idle at the end of the grace is closed. Connections the kernel had completed
but the server had not accepted yet are served the same way instead of being
reset with the listener. Each scenario runs on the stdlib loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from transom._types import Receive, Scope, Send
from transom.server import Server, ServerConfig
from transom.server.protocol import SHUTDOWN_GRACE
from transom.server.server import run_loop

from .rawhttp import WAIT, RawClient, get, hello_app


def _loops() -> list[Any]:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ["asyncio", pytest.param("uvloop", marks=pytest.mark.skip("uvloop not installed"))]
    return ["asyncio", "uvloop"]


LOOPS = _loops()


def post(body: bytes = b"") -> bytes:
    """A POST as a proxy sends it: a Content-Length, then the body."""
    return get("/", f"Content-Length: {len(body)}", method="POST") + body


def on_loop(loop: str, scenario: Callable[[], Awaitable[None]]) -> None:
    """Run one scenario on a fresh loop of the given kind."""

    async def main() -> None:
        await asyncio.wait_for(scenario(), 3 * WAIT)

    run_loop(loop, main())


@asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[tuple[Server, asyncio.Task[None]]]:
    """A server on 127.0.0.1:0 in this loop, and the task of its ``serve()``."""
    options.setdefault("access_log", False)
    options.setdefault("port", 0)
    server = Server(ServerConfig(app, **options))
    task = asyncio.create_task(server.serve())
    started = asyncio.create_task(server.started.wait())
    await asyncio.wait({task, started}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()
    try:
        yield server, task
    finally:
        server.request_shutdown()
        server.request_shutdown()  # whatever a failed test left: drop it
        await asyncio.wait_for(task, WAIT)


async def closed_after(client: RawClient, start: float) -> float:
    """Seconds from ``start`` until the server closed ``client``'s connection."""
    assert await client.is_closed(), "the server kept the connection open"
    return time.monotonic() - start


@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_on_an_idle_connection_within_the_grace_is_served(loop: str) -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30) as (server, task):
            client = await RawClient.connect(server.port)
            try:
                assert (await client.request(get("/"))).status == 200  # now idle
                server.request_shutdown()
                await asyncio.sleep(SHUTDOWN_GRACE / 4)
                assert not task.done()
                # A proxy writes a POST into the connection it kept: it is answered.
                client.send(post(b"title=note"))
                response = await client.response()
                assert (response.status, response.body) == (200, b"hello")
                assert response.header(b"connection") == b"close"
                assert await client.is_closed(1.0)
                await asyncio.wait_for(task, 1.0)  # nothing left: the server is done
            finally:
                await client.close()

    on_loop(loop, scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_an_idle_connection_is_closed_when_the_grace_ends(loop: str) -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30) as (server, task):
            client = await RawClient.connect(server.port)
            fresh = await RawClient.connect(server.port)  # connected, sent nothing yet
            try:
                assert (await client.request(get("/"))).status == 200
                start = time.monotonic()
                server.request_shutdown()
                waited = await closed_after(client, start)
                assert SHUTDOWN_GRACE * 0.8 <= waited <= SHUTDOWN_GRACE + 0.5
                assert await fresh.is_closed(0.5)
                await asyncio.wait_for(task, 0.5)
                assert time.monotonic() - start <= SHUTDOWN_GRACE + 0.7
            finally:
                await client.close()
                await fresh.close()

    on_loop(loop, scenario)


def test_the_grace_never_passes_the_keep_alive_deadline() -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=0.2) as (server, task):
            client = await RawClient.connect(server.port)
            try:
                assert (await client.request(get("/"))).status == 200
                start = time.monotonic()
                server.request_shutdown()
                assert await closed_after(client, start) <= 0.2 + 0.2
                await asyncio.wait_for(task, 0.5)
            finally:
                await client.close()

    on_loop("asyncio", scenario)


def test_the_grace_never_passes_the_shutdown_timeout() -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30, shutdown_timeout=0.3) as (
            server,
            task,
        ):
            client = await RawClient.connect(server.port)
            try:
                assert (await client.request(get("/"))).status == 200
                start = time.monotonic()
                server.request_shutdown()
                await asyncio.wait_for(task, 1.0)
                assert time.monotonic() - start <= 0.3 + 0.2
                assert await client.is_closed(0.5)
            finally:
                await client.close()

    on_loop("asyncio", scenario)


def test_shutdown_timeout_zero_closes_idle_connections_at_once() -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30, shutdown_timeout=0) as (
            server,
            task,
        ):
            client = await RawClient.connect(server.port)
            try:
                assert (await client.request(get("/"))).status == 200
                start = time.monotonic()
                server.request_shutdown()
                await asyncio.wait_for(task, 0.5)
                assert await closed_after(client, start) <= 0.2
            finally:
                await client.close()

    on_loop("asyncio", scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_server_without_connections_exits_at_once(loop: str) -> None:
    async def scenario() -> None:
        async with serving(hello_app) as (server, task):
            start = time.monotonic()
            server.request_shutdown()
            await asyncio.wait_for(task, 1.0)
            assert time.monotonic() - start < 0.1

    on_loop(loop, scenario)


def test_shutdown_is_bounded_with_a_busy_and_an_idle_connection() -> None:
    arrived = asyncio.Event()

    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/stuck":
            arrived.set()
            await asyncio.Event().wait()
        await hello_app(scope, receive, send)

    async def scenario() -> None:
        async with serving(stuck, keep_alive_timeout=30, shutdown_timeout=0.5) as (
            server,
            task,
        ):
            idle = await RawClient.connect(server.port)
            busy = await RawClient.connect(server.port)
            try:
                assert (await idle.request(get("/"))).status == 200
                busy.send(get("/stuck"))
                await asyncio.wait_for(arrived.wait(), WAIT)
                start = time.monotonic()
                server.request_shutdown()
                await asyncio.wait_for(task, 2.0)
                assert time.monotonic() - start <= 0.5 + 0.2
                assert await idle.is_closed(0.5)
                assert await busy.read_until_closed() == b""  # dropped at the timeout
            finally:
                await idle.close()
                await busy.close()

    on_loop("asyncio", scenario)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_request_head_under_way_at_shutdown_is_served(loop: str) -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30) as (server, task):
            client = await RawClient.connect(server.port)
            try:
                request = get("/")
                client.send(request[:10])
                await asyncio.sleep(0.05)
                server.request_shutdown()
                await asyncio.sleep(0.05)
                client.send(request[10:])
                response = await client.response()
                assert (response.status, response.header(b"connection")) == (200, b"close")
                assert await client.is_closed(1.0)
                await asyncio.wait_for(task, 1.0)
            finally:
                await client.close()

    on_loop(loop, scenario)


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(WAIT)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


@pytest.mark.parametrize("loop", LOOPS)
def test_connections_in_the_listen_queue_are_served_not_reset(loop: str) -> None:
    async def scenario() -> None:
        async with serving(hello_app, keep_alive_timeout=30) as (server, task):
            port = server.port
            # The kernel completes these connections and takes their requests;
            # the loop does not run before the shutdown begins, so none of them
            # has been accepted by the server yet.
            socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
            try:
                for sock in socks:
                    sock.sendall(post(b"title=note"))
                server.request_shutdown()
                answers = await asyncio.gather(*(asyncio.to_thread(_read_all, s) for s in socks))
                # One answer each, then the server closed (uvloop may have
                # accepted one just before: it is answered keep-alive, and
                # closed at the end of the grace).
                assert [a[:13] + a[-5:] for a in answers] == [b"HTTP/1.1 200 hello"] * 5
                await asyncio.wait_for(task, 1.0)
                with pytest.raises(OSError):  # the listener is closed: refused
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
            finally:
                for sock in socks:
                    sock.close()

    on_loop(loop, scenario)
