"""Fixtures for the server tests: an in-process server on port 0 and raw clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from transom.server import Server, ServerConfig

from .rawhttp import WAIT, RawClient

StartServer = Callable[..., Awaitable[Server]]


@pytest.fixture
async def serve() -> AsyncIterator[StartServer]:
    """``server = await serve(app, **config)``: a Server on 127.0.0.1:0 in this loop."""
    running: list[tuple[Server, asyncio.Task[None]]] = []

    async def start(app: Any, **options: Any) -> Server:
        options.setdefault("access_log", False)
        options.setdefault("port", 0)
        server = Server(ServerConfig(app, **options))
        task = asyncio.create_task(server.serve())
        started = asyncio.create_task(server.started.wait())
        await asyncio.wait({task, started}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            started.cancel()
            task.result()
        running.append((server, task))
        return server

    yield start
    for server, task in running:
        server.request_shutdown()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[..., Awaitable[RawClient]]]:
    clients: list[RawClient] = []

    async def connect(*args: Any, **kwargs: Any) -> RawClient:
        client = await RawClient.connect(*args, **kwargs)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        await client.close()
