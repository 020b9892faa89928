"""transom.client functions for the shared client benchmark (client_compare.py).

Each makes ``n`` GETs of ``url`` with at most ``concurrency`` in flight,
checks every response, and closes its client.
"""

from __future__ import annotations

import asyncio

BODY = b"Hello, World!"


def _shares(n: int, concurrency: int) -> list[int]:
    return [n // concurrency + (1 if i < n % concurrency else 0) for i in range(concurrency)]


def _check(status: int, body: bytes) -> None:
    if status != 200 or body != BODY:
        raise RuntimeError(f"bad response: status {status}, body {body[:60]!r}")


async def transom_async_get(url: str, n: int, concurrency: int) -> None:
    """One AsyncClient, ``concurrency`` tasks sharing its pool."""
    from transom.client import AsyncClient, Limits

    limits = Limits(max_connections=max(concurrency, 1), max_keepalive=max(concurrency, 1))
    async with AsyncClient(limits=limits) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                response = await client.get(url)
                _check(response.status_code, response.content)

        await asyncio.gather(*(worker(k) for k in _shares(n, concurrency)))


def transom_sync_get(url: str, n: int, concurrency: int) -> None:
    """One Client; with concurrency > 1, that many threads share it."""
    from concurrent.futures import ThreadPoolExecutor

    from transom.client import Client, Limits

    limits = Limits(max_connections=max(concurrency, 1), max_keepalive=max(concurrency, 1))
    with Client(limits=limits) as client:

        def worker(count: int) -> None:
            for _ in range(count):
                response = client.get(url)
                _check(response.status_code, response.content)

        if concurrency <= 1:
            worker(n)
            return
        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(worker, k) for k in _shares(n, concurrency)]:
                future.result()
