"""The server's WebSocket timers, flow control, shutdown and settings: keep-alive
pings and their timeout, back-pressure both ways, 1001 on graceful shutdown.

Waits here are for a state to be reached (bounded by WAIT), never for time
to pass; timers use tiny intervals so that they fire promptly.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from transom._types import Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.http.websocket import SERVER_DEFLATE, DeflateOptions, Ping, Pong
from transom.server import Server, ServerConfig, websocket
from transom.server.cli import build_parser
from transom.server.websocket import WebSocketSession

from .rawhttp import WAIT
from .test_websocket import EchoApp, Peer, StartServer, peers, serve_ws, wait_for

__all__ = ["peers", "serve_ws"]  # fixtures, imported to be used here


async def session_of(server: Server) -> WebSocketSession:
    """The server's one accepted WebSocket (waits for the accept)."""

    async def find() -> WebSocketSession:
        while True:
            assert server.state is not None
            for connection in server.state.connections:
                if isinstance(connection, WebSocketSession):
                    return connection
            await asyncio.sleep(0.01)

    return await asyncio.wait_for(find(), WAIT)


async def until(predicate: Any) -> None:
    """Wait (bounded) until ``predicate()`` holds: a state, not a duration."""

    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), WAIT)


# --- keep-alive pings ---------------------------------------------------------


async def test_websocket_flow_pings_answered_keep_the_connection(
    serve_ws: StartServer, peers: Any
) -> None:
    server = await serve_ws(EchoApp(), ws_ping_interval=0.02, ws_ping_timeout=WAIT)
    peer = await peers(server.port)
    for _ in range(3):
        assert isinstance(await peer.event(), Ping)
        peer.answer()  # the pong the core queued
    peer.send_text("still here")
    while (event := await peer.event()) and isinstance(event, Ping):
        peer.answer()
    assert event.data == "still here"  # type: ignore[union-attr]  # a TextMessage


async def test_websocket_flow_ping_timeout_closes_1011(serve_ws: StartServer, peers: Any) -> None:
    app = EchoApp()
    server = await serve_ws(app, ws_ping_interval=0.02, ws_ping_timeout=0.02)
    peer = await peers(server.port)
    assert isinstance(await peer.event(), Ping)  # not answered
    assert (await peer.closed_with()).code == 1011
    assert await peer.tcp_closed()
    await wait_for(app.done)
    assert app.disconnects[0]["code"] == 1011


async def test_websocket_flow_no_pings_when_off(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp(), ws_ping_interval=None)
    peer = await peers(server.port)
    session = await session_of(server)
    assert session.deadline == 0.0
    peer.send_text("x")
    assert await peer.message() == "x"


async def test_websocket_flow_answers_the_peers_ping(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp())
    peer = await peers(server.port)
    peer.send_raw(peer.conn.send_ping(b"are you there"))
    event = await peer.event()
    assert isinstance(event, Pong)
    assert event.payload == b"are you there"


async def test_websocket_flow_app_that_does_not_read_still_gets_pings_answered(
    serve_ws: StartServer, peers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket, "HOLD_GRACE", 0.0)
    app = SlowReader()
    # A short close timeout only to make the tick fine: the hold ends on the tick.
    server = await serve_ws(app, ws_close_timeout=0.04, ws_ping_interval=None)
    peer = await peers(server.port)
    peer.send_raw(peer.conn.send_text("first") + peer.conn.send_ping(b"later"))
    event = await peer.event()  # the app holds "first" and never reacts: released anyway
    assert isinstance(event, Pong)
    assert event.payload == b"later"
    app.go.set()
    peer.close()
    await wait_for(app.done)
    assert app.received == ["first"]


# --- back-pressure -------------------------------------------------------------


class SlowReader:
    """Accepts, then reads nothing until ``go`` is set; then counts messages."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.received: list[str] = []
        self.done = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await self.go.wait()
        while (message := await receive())["type"] == "websocket.receive":
            self.received.append(message["text"])
        self.done.set()


async def test_websocket_flow_reading_pauses_for_a_slow_app(
    serve_ws: StartServer, peers: Any
) -> None:
    app = SlowReader()
    limit = 16 * 1024
    server = await serve_ws(app, ws_max_queue=limit)
    peer = await peers(server.port)
    session = await session_of(server)
    count = 10_000
    # 10,000 frames of 108 bytes (over 1 MiB): far more than the queue may hold.
    peer.send_raw(b"".join(peer.conn.send_text(f"{i:0100d}") for i in range(count)))
    await until(lambda: session._read_paused)
    assert session.conn is not None
    held = session._queued + session.conn.buffered
    assert limit < held <= limit + 256 * 1024  # one read of the transport past the mark
    app.go.set()
    # The app takes the messages: reading resumes, and every message arrives in order.
    await until(lambda: len(app.received) == count)
    assert app.received == [f"{i:0100d}" for i in range(count)]
    assert not session._read_paused
    peer.close()
    await wait_for(app.done)


class FastWriter:
    """Accepts and sends ``count`` messages, recording whether a send() waits."""

    def __init__(self, count: int, size: int) -> None:
        self.count = count
        self.payload = b"z" * size
        self.sent = 0
        self.in_send = False
        self.done = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        for _ in range(self.count):
            self.in_send = True
            await send({"type": "websocket.send", "bytes": self.payload})
            self.in_send = False
            self.sent += 1
        self.done.set()
        await receive()


async def test_websocket_flow_send_waits_for_a_slow_client(
    serve_ws: StartServer, peers: Any
) -> None:
    app = FastWriter(count=64, size=64 * 1024)  # 4 MiB
    server = await serve_ws(app, ws_per_message_deflate=False, ws_ping_interval=None)
    peer = await peers(server.port)
    # Small kernel buffers on both sides, so the transport's own buffer fills soon.
    peer_socket = peer.raw.writer.get_extra_info("socket")
    peer_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    session = await session_of(server)
    session.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    await until(lambda: session.write_paused)
    assert app.in_send  # the app waits in send() while the client reads nothing
    assert app.sent < app.count
    peer_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    for _ in range(app.count):
        assert len(await peer.message()) == 64 * 1024
    await wait_for(app.done)
    assert not session.write_paused


# --- graceful shutdown ------------------------------------------------------------


async def test_websocket_flow_shutdown_closes_1001(peers: Any) -> None:
    app = EchoApp()
    server = Server(ServerConfig(app, port=0, lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(server.started.wait(), WAIT)
        peer = await peers(server.port)
        server.request_shutdown()
        assert (await peer.closed_with()).code == 1001
        assert not task.done()  # it waits for the WebSocket's close handshake
        peer.answer()
        assert await peer.tcp_closed()
        await asyncio.wait_for(task, WAIT)
        assert app.disconnects == [{"type": "websocket.disconnect", "code": 1001, "reason": ""}]
    finally:
        server.request_shutdown()
        await asyncio.wait_for(task, 15)


async def test_websocket_flow_shutdown_drops_a_silent_peer(peers: Any) -> None:
    config = ServerConfig(
        EchoApp(), port=0, lifespan="off", access_log=False, ws_close_timeout=0.05
    )
    server = Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(server.started.wait(), WAIT)
        peer = await peers(server.port)
        server.request_shutdown()
        assert (await peer.closed_with()).code == 1001
        assert await peer.tcp_closed()  # unanswered: dropped after the close timeout
        await asyncio.wait_for(task, WAIT)
    finally:
        server.request_shutdown()
        await asyncio.wait_for(task, 15)


async def test_websocket_flow_handshake_during_shutdown_gets_1001(peers: Any) -> None:
    accepted = asyncio.Event()
    release = asyncio.Event()
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        accepted.set()
        await release.wait()
        await send({"type": "websocket.accept"})
        seen.append(await receive())

    server = Server(ServerConfig(app, port=0, lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        await asyncio.wait_for(server.started.wait(), WAIT)
        opening = asyncio.create_task(Peer.open(server.port))
        await wait_for(accepted)
        server.request_shutdown()
        await asyncio.sleep(0)
        release.set()
        peer = await asyncio.wait_for(opening, WAIT)
        try:
            assert (await peer.closed_with()).code == 1001
            peer.answer()
            await asyncio.wait_for(task, WAIT)
        finally:
            await peer.raw.close()
        assert seen[0]["code"] == 1001
    finally:
        server.request_shutdown()
        await asyncio.wait_for(task, 15)


# --- settings ------------------------------------------------------------------------


async def _noop(scope: Scope, receive: Receive, send: Send) -> None:
    pass


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ws_max_size": 0}, "ws_max_size"),
        ({"ws_max_queue": -1}, "ws_max_queue"),
        ({"ws_max_size": 1.5}, "ws_max_size"),
        ({"ws_ping_interval": 0}, "ws_ping_interval"),
        ({"ws_ping_timeout": -1.0}, "ws_ping_timeout"),
        ({"ws_ping_interval": True}, "ws_ping_interval"),
        ({"ws_close_timeout": 0}, "ws_close_timeout"),
    ],
    ids=[
        "size-0",
        "queue-negative",
        "size-float",
        "ping-0",
        "pong-negative",
        "ping-bool",
        "close-0",
    ],
)
def test_websocket_flow_settings_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ServerConfig(_noop, **options)


def test_websocket_flow_settings_defaults() -> None:
    config = ServerConfig(_noop)
    assert config.ws and config.ws_per_message_deflate
    assert (config.ws_max_size, config.ws_max_queue) == (16 * 1024 * 1024, 1024 * 1024)
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (20.0, 20.0)
    assert config.ws_close_timeout == 5.0
    assert config.ws_limits.max_message_size == config.ws_max_size
    assert config.ws_deflate is SERVER_DEFLATE
    assert (SERVER_DEFLATE.server_max_window_bits, SERVER_DEFLATE.mem_level) == (12, 5)
    assert ServerConfig(_noop, ws_per_message_deflate=False).ws_deflate is None
    options = DeflateOptions(compress_level=6, server_no_context_takeover=True)
    assert ServerConfig(_noop, ws_per_message_deflate=options).ws_deflate is options


@pytest.mark.parametrize("value", ["yes", 1, None, {"compress_level": 6}])
def test_websocket_flow_deflate_setting_is_validated(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="True, False or a DeflateOptions"):
        ServerConfig(_noop, ws_per_message_deflate=value)


def test_websocket_flow_deflate_cli_flags() -> None:
    from transom.server.cli import _deflate

    parse = build_parser().parse_args
    assert _deflate(parse(["m:app"])) is True
    assert _deflate(parse(["m:app", "--no-ws-per-message-deflate"])) is False
    assert _deflate(parse(["m:app", "--ws-deflate-window-bits", "12"])) is True  # the default
    chosen = _deflate(parse(["m:app", "--ws-deflate-level", "6", "--ws-deflate-window-bits", "15"]))
    assert chosen == DeflateOptions(compress_level=6, mem_level=5)  # 15 both ways
    with pytest.raises(ConfigurationError, match=r"9\.\.15"):
        _deflate(parse(["m:app", "--ws-deflate-window-bits", "8"]))


def test_websocket_flow_bad_deflate_flag_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from transom.server.cli import run_command

    assert run_command(["m:app", "--ws-deflate-level", "12"]) == 2
    assert "compress_level must be 0..9, not 12" in capsys.readouterr().err


def test_websocket_flow_short_timers_make_the_tick_finer() -> None:
    assert Server(ServerConfig(_noop, ws_ping_interval=0.04)).tick_interval == 0.01
    assert Server(ServerConfig(_noop)).tick_interval == 1.0


def test_websocket_flow_cli_flags() -> None:
    args = build_parser().parse_args(
        [
            "m:app",
            "--no-ws",
            "--ws-max-size", "1000",
            "--ws-max-queue", "2000",
            "--ws-ping-interval", "0",
            "--ws-ping-timeout", "3.5",
            "--ws-close-timeout", "2",
            "--no-ws-per-message-deflate",
        ]
    )  # fmt: skip
    assert args.ws is False
    assert (args.ws_max_size, args.ws_max_queue) == (1000, 2000)
    assert (args.ws_ping_interval, args.ws_ping_timeout) == (None, 3.5)
    assert args.ws_close_timeout == 2.0
    assert args.ws_per_message_deflate is False
    defaults = build_parser().parse_args(["m:app"])
    assert (defaults.ws, defaults.ws_ping_interval, defaults.ws_per_message_deflate) == (
        True,
        20.0,
        True,
    )
