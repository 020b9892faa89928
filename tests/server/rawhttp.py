"""Helpers for the server tests: a raw HTTP client and small ASGI apps.

The raw client speaks bytes over asyncio streams, so a test sees exactly
what the server wrote (framing, headers, how many responses, when it closed).
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

from transom._types import Receive, Scope, Send

WAIT = 5.0


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    head: bytes = field(default=b"", repr=False)

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


class RawClient:
    """One connection; ``send`` bytes, read ``response()`` objects back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(
        cls, port: int = 0, *, uds: str | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> RawClient:
        if uds:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(uds), WAIT)
        else:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    "127.0.0.1", port, ssl=ssl_context, limit=1 << 20,
                    server_hostname="localhost" if ssl_context else None,
                ),
                WAIT,
            )  # fmt: skip
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def request(self, data: bytes, *, head: bool = False) -> RawResponse:
        self.send(data)
        return await self.response(head=head)

    async def response(self, *, head: bool = False) -> RawResponse:
        return await asyncio.wait_for(self._response(head), WAIT)

    async def _response(self, head_only: bool) -> RawResponse:
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.append((name.strip().lower(), value.strip()))
        response = RawResponse(status, headers, head=head)
        if head_only or status < 200 or status in (204, 304):
            return response
        length = response.header(b"content-length")
        if length is not None:
            response.body = await self.reader.readexactly(int(length))
        elif response.header(b"transfer-encoding") == b"chunked":
            response.body = await self._chunked()
        else:
            response.body = await self.reader.read()
        return response

    async def _chunked(self) -> bytes:
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return body
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    async def read_until_closed(self) -> bytes:
        """Everything up to EOF (raises TimeoutError if the server keeps it open)."""
        return await asyncio.wait_for(self.reader.read(), WAIT)

    async def is_closed(self, wait: float = WAIT) -> bool:
        """True when the server closed the connection within ``wait`` seconds."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), wait)
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), WAIT)


def get(path: str = "/", *extra: str, version: str = "1.1", method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: test", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def hello_app(scope: Scope, receive: Receive, send: Send) -> None:
    """200 ``hello``; a lifespan-less plain app."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})


async def scope_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the request scope as JSON (bytes as latin-1 text), and echoes the body length."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.decode("latin-1")
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    data = plain({k: v for k, v in scope.items() if k != "state"})
    data["state"] = sorted(scope["state"])
    data["body_size"] = size
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
