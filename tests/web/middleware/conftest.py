"""Drive an ASGI app directly: one request in, the response messages out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from transom._types import ASGIApp, Message
from transom.http.headers import Headers


@dataclass
class Result:
    status: int
    headers: Headers
    body: bytes
    messages: list[Message] = field(default_factory=list)


Call = Callable[..., Awaitable[Result]]


async def call_app(
    app: ASGIApp,
    method: str = "GET",
    path: str = "/",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    scheme: str = "http",
    query_string: bytes = b"",
    scope_type: str = "http",
    extensions: dict[str, Any] | None = None,
) -> Result:
    """Call ``app`` once; the Host defaults to testserver."""
    raw = Headers(headers or {}).raw
    if not any(k == b"host" for k, _ in raw):
        raw.insert(0, (b"host", b"testserver"))
    scope = {
        "type": scope_type,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": raw,
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "extensions": extensions or {},
    }
    messages: list[Message] = []
    sent_request = False

    async def receive() -> Message:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, send)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages if m["type"].endswith("body"))
    return Result(
        start.get("status", 0), Headers(raw=list(start.get("headers", []))), body, messages
    )


@pytest.fixture
def call() -> Call:
    return call_app
