"""The client's WebSocket over the network, against the ``websockets`` library's server."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.sync.server import serve as sync_serve

from transom.client import AsyncClient, Client
from transom.exceptions import ConnectError, WebSocketDisconnect, WebSocketHandshakeError

from .servers import RawServer
from .test_proxies import ProxyLog, make_proxy

Handler = Callable[[ServerConnection], Awaitable[None]]


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


@asynccontextmanager
async def ws_server(handler: Handler = echo, **kwargs: Any) -> AsyncIterator[int]:
    """A ``websockets`` server on this loop; yields its port."""
    async with serve(handler, "127.0.0.1", 0, **kwargs) as server:
        yield server.sockets[0].getsockname()[1]


def sync_echo(ws: Any) -> None:
    for message in ws:
        ws.send(message)


@contextmanager
def thread_server(handler: Callable[[Any], None] = sync_echo, **kwargs: Any) -> Iterator[int]:
    """A ``websockets`` server in a thread, for the blocking client and the CLI."""
    with sync_serve(handler, "127.0.0.1", 0, **kwargs) as server:
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            yield server.socket.getsockname()[1]
        finally:
            server.shutdown()
            thread.join()


async def test_websocket_echoes_text_bytes_and_json() -> None:
    async with (
        ws_server() as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}/echo") as ws,
    ):
        assert ws.response.status_code == 101
        await ws.send_text("héllo")
        assert await ws.receive_text() == "héllo"
        await ws.send_bytes(b"\x00\x01")
        assert await ws.receive_bytes() == b"\x00\x01"
        await ws.send_json({"a": [1, 2]})
        assert await ws.receive_json() == {"a": [1, 2]}
    assert ws.close_code == 1000


async def test_websocket_accepts_http_scheme_and_base_url() -> None:
    async with (
        ws_server() as port,
        AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        client.websocket("/echo", params={"q": "1"}) as ws,
    ):
        await ws.send_text("x")
        assert await ws.receive() == "x"


async def test_websocket_iteration_ends_on_a_normal_close() -> None:
    async def two_then_close(ws: ServerConnection) -> None:
        await ws.send("one")
        await ws.send(b"two")
        await ws.close()

    async with (
        ws_server(two_then_close) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}") as ws,
    ):
        assert [message async for message in ws] == ["one", b"two"]
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive()
    assert info.value.code == 1000


async def test_websocket_negotiates_a_subprotocol() -> None:
    async with (
        ws_server(subprotocols=["chat", "superchat"]) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}", subprotocols=["superchat", "chat"]) as ws,
    ):
        assert ws.subprotocol == "chat"  # the server's preference among those offered
        assert ws.response.headers["sec-websocket-protocol"] == "chat"


@pytest.mark.parametrize("compression", ["deflate", None])
async def test_websocket_compression(compression: str | None) -> None:
    async with (
        ws_server() as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}", compression=compression) as ws,
    ):
        extensions = ws.response.headers.get("sec-websocket-extensions", "")
        assert ("permessage-deflate" in extensions) == (compression is not None)
        big = "abc" * 50_000
        await ws.send_text(big)
        assert await ws.receive_text() == big


async def test_websocket_server_close_code_and_reason() -> None:
    async def closer(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.close(4000, "bye")

    async with (
        ws_server(closer) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}") as ws,
    ):
        await ws.send_text("go")
        with pytest.raises(WebSocketDisconnect) as info:
            await ws.receive()
        assert (info.value.code, info.value.reason) == (4000, "bye")
        assert (ws.close_code, ws.close_reason) == (4000, "bye")
        with pytest.raises(WebSocketDisconnect):
            await ws.send_text("too late")


async def test_websocket_client_close_code_reaches_the_server() -> None:
    seen: asyncio.Queue[tuple[int | None, str | None]] = asyncio.Queue()

    async def recorder(ws: ServerConnection) -> None:
        await ws.wait_closed()
        await seen.put((ws.close_code, ws.close_reason))

    async with (
        ws_server(recorder) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}") as ws,
    ):
        await ws.close(4001, "done")
        assert ws.close_code == 4001  # the server echoes our close
        assert await seen.get() == (4001, "done")


async def test_websocket_ping_returns_when_the_pong_arrives() -> None:
    async with (
        ws_server() as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}") as ws,
    ):
        await ws.ping(b"abc")
        await ws.ping()
        await ws.send_text("after")
        assert await ws.receive() == "after"


async def test_websocket_answers_server_pings_while_the_caller_is_idle() -> None:
    ponged = asyncio.Event()

    async def pinger(ws: ServerConnection) -> None:
        await (await ws.ping(b"are you there"))
        ponged.set()
        await ws.wait_closed()

    async with (
        ws_server(pinger) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}"),
    ):
        await ponged.wait()  # nobody receives: the keeper answers


async def test_websocket_keepalive_pings_the_server() -> None:
    async def silent(ws: ServerConnection) -> None:
        await ws.wait_closed()

    pings: list[bytes] = []
    async with (
        ws_server(silent, ping_interval=None) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}", ping_interval=0.01) as ws,
    ):
        session: Any = ws._session
        original = session._keep_alive

        async def counting() -> None:
            before = session._keepalive
            await original()
            if session._keepalive is not None and session._keepalive != before:
                pings.append(session._keepalive)

        session._keep_alive = counting
        while len(pings) < 2:  # each one answered, or the next would not go out
            await asyncio.sleep(0.01)


async def test_websocket_refused_handshake_raises_with_status_and_body() -> None:
    def refuse(connection: Any, request: Any) -> Any:
        return connection.respond(HTTPStatus.FORBIDDEN, "not you\n")

    async with ws_server(process_request=refuse) as port, AsyncClient() as client:
        with pytest.raises(WebSocketHandshakeError) as info:
            await client.websocket(f"ws://127.0.0.1:{port}").__aenter__()
    assert info.value.status_code == 403
    assert info.value.body == b"not you\n"


async def test_websocket_handshake_carries_cookies_auth_and_headers() -> None:
    seen: list[Any] = []

    def record(connection: Any, request: Any) -> None:
        seen.append(request.headers)

    async with (
        ws_server(process_request=record) as port,
        AsyncClient(cookies={"sid": "42"}, auth=("alice", "pw")) as client,
        client.websocket(f"ws://127.0.0.1:{port}", headers={"X-Test": "1"}),
    ):
        pass
    headers = seen[0]
    assert headers["Cookie"] == "sid=42"
    assert headers["Authorization"].startswith("Basic ")
    assert headers["X-Test"] == "1"


async def test_websocket_over_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    async with ws_server(ssl=server_context) as port:
        async with (
            AsyncClient(verify=str(ca_path)) as client,
            client.websocket(f"wss://localhost:{port}/tls") as ws,
        ):
            await ws.send_text("secure")
            assert await ws.receive_text() == "secure"
        async with AsyncClient() as client:  # the system store does not know this CA
            with pytest.raises(ConnectError, match="certificate"):
                await client.websocket(f"wss://localhost:{port}/tls").__aenter__()


async def test_websocket_through_a_proxy_tunnel(
    raw_server: Callable[..., RawServer],
) -> None:
    log = ProxyLog()
    proxy = raw_server(make_proxy(log))
    async with (
        ws_server() as port,
        AsyncClient(proxy=f"http://127.0.0.1:{proxy.port}") as client,
        client.websocket(f"ws://127.0.0.1:{port}/via") as ws,
    ):
        await ws.send_text("tunnelled")
        assert await ws.receive_text() == "tunnelled"
    assert log.heads[0].startswith(f"CONNECT 127.0.0.1:{port} ".encode())


def test_websocket_sync_client_echo() -> None:
    with (
        thread_server() as port,
        Client() as client,
        client.websocket(f"ws://127.0.0.1:{port}") as ws,
    ):
        assert ws.response.status_code == 101
        ws.send_text("sync")
        assert ws.receive_text() == "sync"
        ws.send_bytes(b"\xff")
        assert ws.receive_bytes() == b"\xff"
        ws.ping(b"p")
    assert ws.close_code == 1000


def test_websocket_sync_client_refused() -> None:
    def refuse(connection: Any, request: Any) -> Any:
        return connection.respond(HTTPStatus.NOT_FOUND, "nothing here\n")

    with (
        thread_server(process_request=refuse) as port,
        Client() as client,
        pytest.raises(WebSocketHandshakeError) as info,
    ):
        client.websocket(f"ws://127.0.0.1:{port}").__enter__()
    assert info.value.status_code == 404


def test_websocket_sync_client_answers_pings_while_idle() -> None:
    ponged = threading.Event()

    def pinger(ws: Any) -> None:
        if ws.ping(b"idle?").wait(10):
            ponged.set()
        for _ in ws:
            pass

    with (
        thread_server(pinger) as port,
        Client() as client,
        client.websocket(f"ws://127.0.0.1:{port}"),
    ):
        assert ponged.wait(10)  # nobody receives: the keeper thread answers


async def test_websocket_unread_messages_stay_bounded() -> None:
    sent = asyncio.Event()

    async def flood(ws: ServerConnection) -> None:
        for n in range(64):
            await ws.send(b"%04d" % n + b"x" * 1020)
        sent.set()
        await ws.wait_closed()

    async with (
        ws_server(flood, compression=None) as port,
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}", max_queue=8192) as ws,
    ):
        await sent.wait()
        session: Any = ws._session
        assert session._queued <= 8192 + 1024  # the keeper stops past max_queue
        received = [await ws.receive_bytes() for _ in range(64)]
        assert [message[:4] for message in received] == [b"%04d" % n for n in range(64)]
