"""WebSockets through ``ASGITransport``: an ASGI app in this process, both clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest

from transom._types import Receive, Scope, Send
from transom.client import ASGITransport, AsyncClient, Client
from transom.exceptions import WebSocketDisconnect, WebSocketHandshakeError

DISCONNECTS: list[tuple[int, str]] = []


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """A raw ASGI websocket app: what it does depends on the path."""
    assert scope["type"] == "websocket"
    path = scope["path"]
    assert (await receive())["type"] == "websocket.connect"
    if path == "/deny":
        await send(
            {"type": "websocket.http.response.start", "status": 401, "headers": [(b"x-why", b"1")]}
        )
        await send({"type": "websocket.http.response.body", "body": b"no", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"pe"})
        return
    if path == "/close-first":
        await send({"type": "websocket.close"})
        return
    if path == "/fail-first":
        raise RuntimeError("failed before accept")
    offered = scope["subprotocols"]
    await send(
        {
            "type": "websocket.accept",
            "subprotocol": offered[0] if offered else None,
            "headers": [(b"x-accepted", b"yes")],
        }
    )
    if path == "/echo":
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                DISCONNECTS.append((message["code"], message.get("reason", "")))
                return
            text = message.get("text")
            await send({"type": "websocket.send", "text": text, "bytes": message.get("bytes")})
    elif path == "/scope":
        info = {k: scope[k] for k in ("scheme", "path", "query_string", "subprotocols")}
        info["query_string"] = info["query_string"].decode()
        info["headers"] = {k.decode(): v.decode() for k, v in scope["headers"]}
        info["extensions"] = sorted(scope["extensions"])
        await send({"type": "websocket.send", "text": json.dumps(info)})
        await send({"type": "websocket.close", "code": 1000})
    elif path == "/close":
        await send({"type": "websocket.send", "bytes": b"last"})
        await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
    elif path == "/fail":
        raise RuntimeError("failed after accept")
    # "/return": returns without closing


@asynccontextmanager
async def async_client(**kwargs: Any) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app, **kwargs)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@contextmanager
def sync_client(**kwargs: Any) -> Iterator[Client]:
    transport = ASGITransport(app, **kwargs)
    with Client(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_asgi_websocket_echo_and_disconnect_code() -> None:
    async with async_client() as client, client.websocket("/echo") as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["x-accepted"] == "yes"
        await ws.send_text("hi")
        assert await ws.receive_text() == "hi"
        await ws.send_bytes(b"\x01")
        assert await ws.receive_bytes() == b"\x01"
        await ws.ping()
        await ws.close(4001, "done")
    assert DISCONNECTS[-1] == (4001, "done")


def test_asgi_websocket_sync_echo() -> None:
    with sync_client() as client, client.websocket("ws://testserver/echo") as ws:
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"n": 1}
    assert DISCONNECTS[-1] == (1000, "")


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_asgi_websocket_scope(kind: str) -> None:
    if kind == "sync":
        with (
            sync_client() as client,
            client.websocket(
                "wss://testserver/scope?a=1", subprotocols=["chat"], headers={"x-h": "v"}
            ) as ws,
        ):
            info = ws.receive_json()
            assert ws.subprotocol == "chat"
    else:
        async with (
            async_client() as client,
            client.websocket(
                "wss://testserver/scope?a=1", subprotocols=["chat"], headers={"x-h": "v"}
            ) as ws,
        ):
            info = await ws.receive_json()
    assert info["scheme"] == "wss"
    assert info["path"] == "/scope"
    assert info["query_string"] == "a=1"
    assert info["subprotocols"] == ["chat"]
    assert info["headers"]["x-h"] == "v"
    assert info["headers"]["upgrade"] == "websocket"
    assert "sec-websocket-key" in info["headers"]
    assert info["extensions"] == ["websocket.http.response"]


async def test_asgi_websocket_close_from_the_app() -> None:
    async with async_client() as client, client.websocket("/close") as ws:
        assert [message async for message in _until_error(ws)] == [b"last"]
        assert (ws.close_code, ws.close_reason) == (4000, "bye")


async def _until_error(ws: Any) -> AsyncIterator[Any]:
    try:
        while True:
            yield await ws.receive()
    except WebSocketDisconnect as exc:
        assert (exc.code, exc.reason) == (4000, "bye")


async def test_asgi_websocket_app_returning_closes_with_1000() -> None:
    async with async_client() as client, client.websocket("/return") as ws:
        assert [message async for message in ws] == []
        assert ws.close_code == 1000


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [("/deny", 401, b"nope"), ("/close-first", 403, b"")],
    ids=["denial-response", "close-before-accept"],
)
async def test_asgi_websocket_refused(path: str, status: int, body: bytes) -> None:
    async with async_client() as client:
        with pytest.raises(WebSocketHandshakeError) as info:
            await client.websocket(path).__aenter__()
    assert info.value.status_code == status
    assert info.value.body == body


def test_asgi_websocket_denial_headers_sync() -> None:
    with sync_client() as client, pytest.raises(WebSocketHandshakeError) as info:
        client.websocket("/deny").__enter__()
    assert (b"x-why", b"1") in info.value.headers


async def test_asgi_websocket_app_exception_is_raised() -> None:
    async with async_client() as client:
        with pytest.raises(RuntimeError, match="before accept"):
            await client.websocket("/fail-first").__aenter__()
        with pytest.raises(RuntimeError, match="after accept"):
            async with client.websocket("/fail") as ws:
                await ws.receive()


async def test_asgi_websocket_app_exception_hidden() -> None:
    async with async_client(raise_app_exceptions=False) as client:
        with pytest.raises(WebSocketHandshakeError) as info:
            await client.websocket("/fail-first").__aenter__()
        assert info.value.status_code == 500
        async with client.websocket("/fail") as ws:
            with pytest.raises(WebSocketDisconnect) as closed:
                await ws.receive()
            assert closed.value.code == 1011


def test_asgi_websocket_app_exception_sync() -> None:
    with (
        sync_client() as client,
        pytest.raises(RuntimeError, match="after accept"),
        client.websocket("/fail") as ws,
    ):
        ws.receive()


async def deaf(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts, then waits on something else for ever: it never hears the disconnect."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "tick"})
    try:
        await asyncio.Event().wait()
    finally:
        CANCELLED.append(True)


CANCELLED: list[bool] = []


async def test_asgi_websocket_app_deaf_to_the_disconnect_is_cancelled_after_close_timeout() -> None:
    CANCELLED.clear()
    transport = ASGITransport(deaf)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        async with client.websocket("/", close_timeout=0.2) as ws:
            assert await ws.receive_text() == "tick"
        assert CANCELLED == [True]
        assert ws.close_code == 1000


def test_asgi_websocket_app_deaf_to_the_disconnect_is_cancelled_sync() -> None:
    CANCELLED.clear()
    transport = ASGITransport(deaf)
    with (
        Client(transport=transport, base_url="http://testserver") as client,
        client.websocket("/", close_timeout=0.2) as ws,
    ):
        assert ws.receive_text() == "tick"
    assert CANCELLED == [True]
