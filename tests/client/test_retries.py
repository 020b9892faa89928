"""The opt-in Retry policy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest

from transom.client import AsyncClient, Client, Response, Retry

from .servers import RawServer, read_request

RawFactory = Callable[..., RawServer]


def flaky(statuses: list[bytes]) -> tuple[Callable[..., object], list[bytes]]:
    """Answer the listed heads in turn, then 200; records each request's method."""
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, _ = await read_request(reader)
            seen.append(head.split(b" ", 1)[0])
            status = statuses[len(seen) - 1] if len(seen) <= len(statuses) else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    return handler, seen


def test_retry_repeats_idempotent_request_on_listed_status(raw_server: RawFactory) -> None:
    handler, seen = flaky([b"503 Service Unavailable", b"502 Bad Gateway"])
    server = raw_server(handler)
    with Client(retries=Retry(3, backoff_factor=0, jitter=0)) as client:
        response = client.get(server.url)
    assert response.status_code == 200
    assert seen == [b"GET"] * 3


async def test_retry_gives_up_after_total(raw_server: RawFactory) -> None:
    handler, seen = flaky([b"503 Service Unavailable"] * 5)
    server = raw_server(handler)
    async with AsyncClient(retries=Retry(2, backoff_factor=0, jitter=0)) as client:
        response = await client.get(server.url)
    assert response.status_code == 503
    assert len(seen) == 3


async def test_retry_never_repeats_post(raw_server: RawFactory) -> None:
    handler, seen = flaky([b"503 Service Unavailable"])
    server = raw_server(handler)
    async with AsyncClient(retries=Retry(3, backoff_factor=0)) as client:
        response = await client.post(server.url, content=b"x")
    assert response.status_code == 503
    assert seen == [b"POST"]


def test_retry_honours_retry_after_seconds(raw_server: RawFactory) -> None:
    handler, _ = flaky([b"429 Too Many Requests\r\nRetry-After: 1"])
    server = raw_server(handler)
    started = time.monotonic()
    with Client(retries=Retry(1, backoff_factor=0, jitter=0)) as client:
        assert client.get(server.url).status_code == 200
    assert time.monotonic() - started >= 0.9


def test_retry_no_retry_by_default(raw_server: RawFactory) -> None:
    handler, seen = flaky([b"503 Service Unavailable"])
    server = raw_server(handler)
    with Client() as client:
        assert client.get(server.url).status_code == 503
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("100", 30.0), ("soon", None), (None, None)],
    ids=["seconds", "capped", "garbage", "absent"],
)
def test_retry_after_values(header: str | None, expected: float | None) -> None:
    headers = {"retry-after": header} if header else {}
    assert Retry(backoff_max=30).retry_after(Response(503, headers=headers)) == expected


def test_retry_after_http_date() -> None:
    when = formatdate(time.time() + 20, usegmt=True)
    wait = Retry().retry_after(Response(503, headers={"retry-after": when}))
    assert wait is not None and 15 < wait <= 20


def test_retry_backoff_grows_and_caps() -> None:
    retry = Retry(backoff_factor=0.5, backoff_max=3, jitter=0)
    assert [retry.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3]


def test_retry_backoff_jitter_bounded() -> None:
    retry = Retry(backoff_factor=1, jitter=0.25)
    assert all(1 <= retry.backoff(1) <= 1.25 for _ in range(50))


def test_retry_connect_errors_then_fail() -> None:
    import socket

    from transom.exceptions import ConnectError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        Client(retries=Retry(2, backoff_factor=0, jitter=0)) as client,
        pytest.raises(ConnectError),
    ):
        client.get(f"http://127.0.0.1:{port}/")
