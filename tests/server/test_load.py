"""A short load test: 200 connections x 50 keep-alive requests, no errors."""

from __future__ import annotations

import asyncio
from typing import Any

from .rawhttp import RawClient, get, hello_app

CONNECTIONS = 200
REQUESTS = 50


async def test_load_many_keep_alive_connections(serve: Any) -> None:
    server = await serve(hello_app)
    request = get("/")

    async def worker() -> int:
        client = await RawClient.connect(server.port)
        ok = 0
        try:
            for _ in range(REQUESTS):
                response = await client.request(request)
                ok += response.status == 200 and response.body == b"hello"
        finally:
            await client.close()
        return ok

    results = await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(CONNECTIONS))), 50)
    assert sum(results) == CONNECTIONS * REQUESTS
