"""The server against the ``websockets`` library's client: another
implementation's view of our handshake, framing, permessage-deflate (RFC
7692), pings, close codes, and WebSockets over TLS (wss)."""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from transom._types import Receive, Scope, Send
from transom.http.websocket import DeflateOptions

from .rawhttp import WAIT
from .test_websocket import EchoApp, StartServer, serve_ws, wait_for
from .test_websocket_flow import session_of, until

__all__ = ["serve_ws"]  # a fixture, imported to be used here


@pytest.fixture(scope="module")
def certificate() -> Iterator[tuple[trustme.CA, str, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        certfile, keyfile = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(certfile)
        cert.private_key_pem.write_to_path(keyfile)
        yield ca, certfile, keyfile


def url(port: int, path: str = "/ws", scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{port}{path}"


async def test_websocket_interop_echo(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    async with connect(url(server.port), compression=None, open_timeout=WAIT) as ws:
        assert ws.protocol.extensions == []
        for message in ("hello", "κόσμε", "", "t" * 100_000):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), WAIT) == message
        for data in (b"\x00", b"", os.urandom(200_000)):
            await ws.send(data)
            assert await asyncio.wait_for(ws.recv(), WAIT) == data


async def test_websocket_interop_fragmented_message(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        await ws.send(["frag", "mented ", "text"])
        assert await asyncio.wait_for(ws.recv(), WAIT) == "fragmented text"


async def test_websocket_interop_permessage_deflate(serve_ws: StartServer) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
        session = await session_of(server)
        assert session.conn is not None and session.conn.deflate is not None
        for message in ("x" * 50_000, "short", "y" * 3000, "x" * 50_000):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), WAIT) == message
        payload = b"abc" * 40_000
        await ws.send(payload)
        assert await asyncio.wait_for(ws.recv(), WAIT) == payload


async def test_websocket_interop_deflate_off(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp(), ws_per_message_deflate=False)
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        assert ws.protocol.extensions == []
        await ws.send("z" * 10_000)
        assert await asyncio.wait_for(ws.recv(), WAIT) == "z" * 10_000


async def test_websocket_interop_default_deflate_windows_are_small(
    serve_ws: StartServer,
) -> None:
    # SERVER_DEFLATE: 4 KiB windows both ways (the client offered client_max_window_bits).
    server = await serve_ws(EchoApp())
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        [extension] = ws.protocol.extensions
        assert extension.remote_max_window_bits == 12  # type: ignore[attr-defined]
        assert extension.local_max_window_bits == 12  # type: ignore[attr-defined]
        session = await session_of(server)
        assert session.conn is not None and session.conn.deflate is not None
        deflate = session.conn.deflate
        assert (deflate.send_max_window_bits, deflate.receive_max_window_bits) == (12, 12)
        message = "a JSON-like message, repeated " * 400  # 12 KB: past one 4 KiB window
        for _ in range(3):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), WAIT) == message


async def test_websocket_interop_deflate_options(serve_ws: StartServer) -> None:
    # A smaller window (less memory per connection) and every message compressed.
    options = DeflateOptions(server_max_window_bits=10, compress_level=9, min_size=0)
    server = await serve_ws(EchoApp(), ws_per_message_deflate=options)
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        [extension] = ws.protocol.extensions
        assert extension.name == "permessage-deflate"
        assert extension.remote_max_window_bits == 10  # type: ignore[attr-defined]
        session = await session_of(server)
        assert session.conn is not None and session.conn.deflate is not None
        assert session.conn.deflate.send_max_window_bits == 10
        for message in ("short", "x" * 50_000, "κόσμε " * 1000):
            await ws.send(message)
            assert await asyncio.wait_for(ws.recv(), WAIT) == message


async def test_websocket_interop_subprotocol(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    async with connect(
        url(server.port, "/pick"), subprotocols=["chat", "other"], open_timeout=WAIT
    ) as ws:
        assert ws.subprotocol == "chat"


async def test_websocket_interop_client_ping(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        pong = await ws.ping(b"hey")
        await asyncio.wait_for(pong, WAIT)


async def test_websocket_interop_server_pings_are_answered(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp(), ws_ping_interval=0.02, ws_ping_timeout=WAIT)
    async with connect(url(server.port), ping_interval=None, open_timeout=WAIT) as ws:
        session = await session_of(server)
        seen: set[bytes] = set()

        def pinged_thrice() -> bool:
            seen.add(session._ping_payload)
            return len(seen - {b""}) >= 3

        await until(pinged_thrice)  # each new ping needs the pong of the one before
        await ws.send("alive")
        assert await asyncio.wait_for(ws.recv(), WAIT) == "alive"


async def test_websocket_interop_close_codes(serve_ws: StartServer) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        await ws.close(4001, "done here")
    await wait_for(app.done)
    assert app.disconnects[0]["code"] == 4001
    assert app.disconnects[0]["reason"] == "done here"


async def test_websocket_interop_server_close(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    async with connect(url(server.port), open_timeout=WAIT) as ws:
        await ws.send("close-please")
        with pytest.raises(ConnectionClosedError) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "asked")


async def test_websocket_interop_refused_handshake(serve_ws: StartServer) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.close"})

    server = await serve_ws(app)
    with pytest.raises(InvalidStatus) as info:
        async with connect(url(server.port), open_timeout=WAIT):
            pass
    assert info.value.response.status_code == 403


async def test_websocket_interop_over_tls(serve_ws: StartServer, certificate: Any) -> None:
    ca, certfile, keyfile = certificate
    app = EchoApp()
    server = await serve_ws(app, ssl_certfile=certfile, ssl_keyfile=keyfile)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with connect(url(server.port, scheme="wss"), ssl=context, open_timeout=WAIT) as ws:
        await ws.send("secret")
        assert await asyncio.wait_for(ws.recv(), WAIT) == "secret"
        await ws.send(b"q" * 300_000)
        assert await asyncio.wait_for(ws.recv(), WAIT) == b"q" * 300_000
    assert app.scopes[0]["scheme"] == "wss"
