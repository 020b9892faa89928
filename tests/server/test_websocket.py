"""The server's WebSocket support over real sockets: the opening handshake,
its refusals, messages and the close handshake (RFC 6455, ASGI websocket).

``Peer`` is a raw client: its bytes go over a socket, and the sans-IO core
in the client role builds and parses its frames, so a test can also send
frames no well-behaved client would. The other WebSocket test modules
import it from here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from transom._types import Message, Receive, Scope, Send
from transom.exceptions import ClientDisconnected, LocalProtocolError
from transom.http.websocket import (
    BytesMessage,
    CloseReceived,
    DeflateOptions,
    Event,
    TextMessage,
    WebSocketConnection,
    check_response,
    client_request,
)
from transom.http.websocket.frames import OP_TEXT, build_frame
from transom.server import Server

from .rawhttp import WAIT, RawClient, RawResponse

StartServer = Callable[..., Awaitable[Server]]
MASK = b"\x11\x22\x33\x44"


def upgrade_request(
    path: str = "/ws", headers: list[tuple[bytes, bytes]] | None = None, version: str = "1.1"
) -> bytes:
    if headers is None:
        headers = client_request()[1]
    lines = [f"GET {path} HTTP/{version}".encode(), b"Host: test"]
    lines += [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


class Peer:
    """One WebSocket client connection, raw."""

    def __init__(self, raw: RawClient, conn: WebSocketConnection, response: RawResponse) -> None:
        self.raw = raw
        self.conn = conn
        self.response = response
        self.eof = False

    @classmethod
    async def open(
        cls,
        port: int,
        path: str = "/ws",
        *,
        subprotocols: tuple[str, ...] = (),
        deflate: DeflateOptions | None = None,
        extensions: bytes | None = None,
    ) -> Peer:
        key, headers = client_request(subprotocols=subprotocols, deflate=deflate)
        if extensions is not None:
            headers.append((b"sec-websocket-extensions", extensions))
        raw = await RawClient.connect(port)
        raw.send(upgrade_request(path, headers))
        response = await raw.response(head=True)
        assert response.status == 101, response
        _, conn = check_response(
            101, response.headers, key=key, subprotocols=subprotocols, deflate=deflate
        )
        return cls(raw, conn, response)

    def send_text(self, text: str) -> None:
        self.raw.send(self.conn.send_text(text))

    def send_bytes(self, data: bytes) -> None:
        self.raw.send(self.conn.send_bytes(data))

    def send_raw(self, data: bytes) -> None:
        self.raw.send(data)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.raw.send(self.conn.send_close(code, reason))

    def answer(self) -> None:
        """Send what the core queued by itself (pongs, the close echo)."""
        wire = self.conn.data_to_send()
        if wire:
            self.raw.send(wire)

    async def event(self) -> Event:
        """The next event from the server (bounded by WAIT; EOFError at EOF)."""
        return await asyncio.wait_for(self._event(), WAIT)

    async def _event(self) -> Event:
        while True:
            event = self.conn.next_event()
            if event is not None:
                return event
            if self.eof:
                raise EOFError("the server closed the connection")
            try:
                data = await self.raw.reader.read(65536)
            except ConnectionError:
                data = b""
            if not data:
                self.eof = True
            self.conn.receive_data(data)

    async def message(self) -> str | bytes:
        event = await self.event()
        assert isinstance(event, TextMessage | BytesMessage), event
        return event.data

    async def closed_with(self) -> CloseReceived:
        """The server's close frame, then its TCP close."""
        event = await self.event()
        assert isinstance(event, CloseReceived), event
        return event

    async def tcp_closed(self) -> bool:
        if self.eof:
            return True
        return await self.raw.is_closed()


class EchoApp:
    """Accepts (with the first offered subprotocol when the path says so),
    echoes every message, and records what it saw."""

    def __init__(self) -> None:
        self.runs = 0
        self.scopes: list[Scope] = []
        self.disconnects: list[Message] = []
        self.done = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await _plain(scope, send)
            return
        self.runs += 1
        self.scopes.append(scope)
        try:
            assert (await receive())["type"] == "websocket.connect"
            subprotocol = scope["subprotocols"][0] if scope["path"] == "/pick" else None
            await send({"type": "websocket.accept", "subprotocol": subprotocol})
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    self.disconnects.append(message)
                    return
                if message.get("text") == "close-please":
                    await send({"type": "websocket.close", "code": 4000, "reason": "asked"})
                    continue
                reply = {k: v for k, v in message.items() if k in ("text", "bytes")}
                await send({"type": "websocket.send", **reply})
        finally:
            self.done.set()


async def _plain(scope: Scope, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = f"plain {scope['type']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def wait_for(flag: asyncio.Event) -> None:
    await asyncio.wait_for(flag.wait(), WAIT)


@pytest.fixture
def serve_ws(serve: StartServer) -> StartServer:
    """``serve`` without lifespan: the apps here answer websocket scopes only."""

    async def start(app: Any, **options: Any) -> Server:
        options.setdefault("lifespan", "off")
        return await serve(app, **options)

    return start


@pytest.fixture
async def peers() -> Any:
    opened: list[Peer] = []

    async def open_peer(*args: Any, **kwargs: Any) -> Peer:
        peer = await Peer.open(*args, **kwargs)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        await peer.raw.close()


# --- the opening handshake ---------------------------------------------------


async def test_websocket_scope(serve_ws: StartServer, peers: Any) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    peer = await peers(server.port, "/pick?room=1", subprotocols=("chat", "superchat"))
    peer.send_text("hi")
    assert await peer.message() == "hi"
    scope = app.scopes[0]
    assert scope["type"] == "websocket"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["scheme"] == "ws"
    assert scope["http_version"] == "1.1"
    assert scope["path"] == "/pick"
    assert scope["raw_path"] == b"/pick"
    assert scope["query_string"] == b"room=1"
    assert scope["root_path"] == ""
    assert scope["subprotocols"] == ["chat", "superchat"]
    assert scope["extensions"] == {"websocket.http.response": {}}
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ("127.0.0.1", server.port)
    assert (b"host", b"test") in scope["headers"]
    assert "method" not in scope
    assert scope["state"] == {}


async def test_websocket_handshake_answers_101(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp())
    peer = await peers(server.port)
    assert peer.response.header(b"upgrade") == b"websocket"
    assert peer.response.header(b"sec-websocket-protocol") is None
    assert peer.response.header(b"date") is not None


async def test_websocket_subprotocol_is_the_apps_choice(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp())
    peer = await peers(server.port, "/pick", subprotocols=("superchat", "chat"))
    assert peer.response.header(b"sec-websocket-protocol") == b"superchat"


async def test_websocket_accept_headers_reach_the_101(serve_ws: StartServer, peers: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept", "headers": [(b"x-room", b"7")]})
        await receive()

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert peer.response.header(b"x-room") == b"7"


async def test_websocket_close_before_accept_is_403(
    serve_ws: StartServer, client_factory: Any
) -> None:
    ran = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        ran.set()
        await send({"type": "websocket.close"})
        assert (await receive())["type"] == "websocket.disconnect"

    server = await serve_ws(app)
    client = await client_factory(server.port)
    response = await client.request(upgrade_request())
    assert response.status == 403
    assert response.header(b"connection") == b"close"
    assert await client.is_closed()
    assert ran.is_set()


async def test_websocket_denial_response(serve_ws: StartServer, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        start = {"type": "websocket.http.response.start", "status": 401, "headers": []}
        await send({**start, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"who ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"are you?"})

    server = await serve_ws(app)
    client = await client_factory(server.port)
    response = await client.request(upgrade_request())
    assert (response.status, response.body) == (401, b"who are you?")
    assert await client.is_closed()


async def test_websocket_denial_response_in_one_body(
    serve_ws: StartServer, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"no room"})

    server = await serve_ws(app)
    client = await client_factory(server.port)
    response = await client.request(upgrade_request())
    assert (response.status, response.body) == (404, b"no room")
    assert response.header(b"content-length") == b"7"
    assert await client.is_closed()


def _without(name: bytes) -> list[tuple[bytes, bytes]]:
    return [(n, v) for n, v in client_request()[1] if n != name]


def _replaced(name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    return [*_without(name), (name, value)]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (upgrade_request(headers=_without(b"connection")), 400),
        (upgrade_request(headers=_without(b"sec-websocket-key")), 400),
        (upgrade_request(headers=_replaced(b"sec-websocket-key", b"short")), 400),
        (upgrade_request(headers=_replaced(b"sec-websocket-version", b"8")), 426),
        (upgrade_request(headers=_without(b"sec-websocket-version")), 426),
        (upgrade_request(version="1.0"), 400),
        (
            upgrade_request(headers=[*client_request()[1], (b"content-length", b"2")]) + b"hi",
            400,
        ),
    ],
    ids=["no-connection", "no-key", "bad-key", "version-8", "no-version", "http10", "body"],
)
async def test_websocket_bad_handshake_is_refused_without_the_app(
    serve_ws: StartServer, client_factory: Any, request_bytes: bytes, status: int
) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    client = await client_factory(server.port)
    response = await client.request(request_bytes)
    assert response.status == status
    if status == 426:
        assert response.header(b"sec-websocket-version") == b"13"
    assert await client.is_closed()
    assert app.runs == 0


async def test_websocket_off_serves_upgrades_as_http(
    serve_ws: StartServer, client_factory: Any
) -> None:
    server = await serve_ws(EchoApp(), ws=False)
    client = await client_factory(server.port)
    response = await client.request(upgrade_request())
    assert (response.status, response.body) == (200, b"plain http")


async def test_websocket_app_error_before_accept_is_500(
    serve_ws: StartServer, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        raise RuntimeError("boom")

    server = await serve_ws(app)
    client = await client_factory(server.port)
    with caplog.at_level(logging.ERROR, "transom.error"):
        response = await client.request(upgrade_request())
        assert response.status == 500
        assert await client.is_closed()
    assert "Exception in ASGI application" in caplog.text


async def test_websocket_app_returning_without_accept_is_500(
    serve_ws: StartServer, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    server = await serve_ws(app)
    client = await client_factory(server.port)
    response = await client.request(upgrade_request())
    assert response.status == 500
    assert await client.is_closed()


async def test_websocket_handshake_gets_an_access_log_line(
    serve_ws: StartServer, peers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve_ws(EchoApp(), access_log=True)
    with caplog.at_level(logging.INFO, "transom.access"):
        peer = await peers(server.port, "/ws?x=1")
        peer.send_text("a")
        await peer.message()
    assert '"GET /ws?x=1 HTTP/1.1" 101 0' in caplog.text


# --- messages ----------------------------------------------------------------


async def test_websocket_echoes_text_and_bytes(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp())
    peer = await peers(server.port)
    for message in ("hello", "κόσμε", "", "x" * 70000):
        peer.send_text(message)
        assert await peer.message() == message
    for data in (b"\x00\xff", b"", bytes(range(256)) * 300):
        peer.send_bytes(data)
        assert await peer.message() == data


async def test_websocket_messages_keep_their_order(serve_ws: StartServer, peers: Any) -> None:
    server = await serve_ws(EchoApp())
    peer = await peers(server.port)
    peer.send_raw(b"".join(peer.conn.send_text(str(i)) for i in range(200)))
    assert [await peer.message() for _ in range(200)] == [str(i) for i in range(200)]


async def test_websocket_message_is_answered_before_a_close_behind_it(
    serve_ws: StartServer, peers: Any
) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_raw(peer.conn.send_text("last words") + peer.conn.send_close(1000))
    assert await peer.message() == "last words"
    assert (await peer.closed_with()).code == 1000
    await wait_for(app.done)
    assert app.disconnects[0]["code"] == 1000


async def test_websocket_frames_after_the_handshake_in_one_write(serve_ws: StartServer) -> None:
    server = await serve_ws(EchoApp())
    raw = await RawClient.connect(server.port)
    try:
        frame = build_frame(OP_TEXT, b"early", mask=MASK)
        raw.send(upgrade_request() + frame)
        head = await asyncio.wait_for(raw.reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head.startswith(b"HTTP/1.1 101 ")
        reply = await asyncio.wait_for(raw.reader.readexactly(7), WAIT)
        assert reply == b"\x81\x05early"
    finally:
        await raw.close()


# --- closing -----------------------------------------------------------------


async def test_websocket_client_close(serve_ws: StartServer, peers: Any) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.close(1001, "bye")
    assert (await peer.closed_with()).code == 1001
    assert await peer.tcp_closed()
    await wait_for(app.done)
    assert app.disconnects == [{"type": "websocket.disconnect", "code": 1001, "reason": "bye"}]


async def test_websocket_client_close_without_code(serve_ws: StartServer, peers: Any) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_raw(build_frame(0x8, b"", mask=MASK))
    assert (await peer.closed_with()).code == 1005
    await wait_for(app.done)
    assert app.disconnects[0]["code"] == 1005


async def test_websocket_server_close(serve_ws: StartServer, peers: Any) -> None:
    app = EchoApp()
    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_text("close-please")
    close = await peer.closed_with()
    assert (close.code, close.reason) == (4000, "asked")
    peer.answer()  # the core queued the echo of the close
    assert await peer.tcp_closed()
    await wait_for(app.done)
    assert app.disconnects[0]["code"] == 4000


async def test_websocket_close_timeout_drops_a_silent_peer(
    serve_ws: StartServer, peers: Any
) -> None:
    server = await serve_ws(EchoApp(), ws_close_timeout=0.05)
    peer = await peers(server.port)
    peer.send_text("close-please")
    assert (await peer.closed_with()).code == 4000
    # No answer: the server drops the TCP connection once the close timeout passes.
    assert await peer.tcp_closed()


async def test_websocket_app_returning_closes_1000(serve_ws: StartServer, peers: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": "only this"})

    server = await serve_ws(app)
    peer = await peers(server.port)
    assert await peer.message() == "only this"
    assert (await peer.closed_with()).code == 1000


async def test_websocket_app_error_after_accept_closes_1011(
    serve_ws: StartServer, peers: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise RuntimeError("boom")

    server = await serve_ws(app)
    peer = await peers(server.port)
    with caplog.at_level(logging.ERROR, "transom.error"):
        peer.send_text("go")
        assert (await peer.closed_with()).code == 1011
    assert "Exception in ASGI application" in caplog.text


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"type": "websocket.send", "text": b"x"}, "'text' must be str"),
        ({"type": "websocket.send", "bytes": "x"}, "'bytes' must be bytes"),
        ({"type": "websocket.send"}, "needs 'text' or 'bytes'"),
        ({"type": "websocket.close", "code": "1000"}, "'code' must be int"),
        ({"type": "websocket.close", "code": 1000, "reason": b"bye"}, "'reason' must be str"),
        ({"type": "websocket.close", "code": 1006}, "may not be sent"),
    ],
    ids=["text-bytes", "bytes-str", "no-data", "code-str", "reason-bytes", "code-1006"],
)
async def test_websocket_bad_app_values_raise_local_protocol_error(
    serve_ws: StartServer, peers: Any, message: Message, says: str
) -> None:
    """What an app sends is judged by the server, the same way in every build:
    a LocalProtocolError naming the field, then the app's error closes 1011."""
    outcome: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        try:
            await send(message)
        except Exception as exc:
            outcome.append(exc)
            raise

    server = await serve_ws(app)
    peer = await peers(server.port)
    peer.send_text("go")
    assert (await peer.closed_with()).code == 1011
    assert len(outcome) == 1
    assert type(outcome[0]) is LocalProtocolError, outcome
    assert says in str(outcome[0])


async def test_websocket_send_after_the_client_left_raises(
    serve_ws: StartServer, peers: Any
) -> None:
    outcome: list[BaseException] = []
    left = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        assert (await receive())["type"] == "websocket.disconnect"
        try:
            await send({"type": "websocket.send", "text": "too late"})
        except ClientDisconnected as exc:
            outcome.append(exc)
        await send({"type": "websocket.close"})  # closing again is harmless
        left.set()

    server = await serve_ws(app)
    peer = await peers(server.port)
    await peer.raw.close()
    await wait_for(left)
    assert len(outcome) == 1


async def test_websocket_client_leaving_before_accept(
    serve_ws: StartServer, client_factory: Any
) -> None:
    seen: list[Message] = []
    done = asyncio.Event()
    arrived = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        arrived.set()
        seen.append(await receive())
        with pytest.raises(ClientDisconnected):
            await send({"type": "websocket.accept"})
        done.set()

    server = await serve_ws(app)
    client = await client_factory(server.port)
    client.send(upgrade_request())
    await wait_for(arrived)
    await client.close()
    await wait_for(done)
    assert seen == [{"type": "websocket.disconnect", "code": 1006, "reason": ""}]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (build_frame(OP_TEXT, b"unmasked"), 1002),
        (build_frame(OP_TEXT, b"\xff\xfe", mask=MASK), 1007),
        (build_frame(OP_TEXT, b"x", rsv2=True, mask=MASK), 1002),
        (build_frame(0x3, b"", mask=MASK), 1002),
        (build_frame(0x9, b"p" * 126, mask=MASK), 1002),
        (build_frame(OP_TEXT, b"y" * 2000, mask=MASK), 1009),
    ],
    ids=["unmasked", "bad-utf8", "rsv2", "reserved-opcode", "long-ping", "too-big"],
)
async def test_websocket_protocol_violation_fails_the_connection(
    serve_ws: StartServer, peers: Any, caplog: pytest.LogCaptureFixture, frame: bytes, code: int
) -> None:
    app = EchoApp()
    server = await serve_ws(app, ws_max_size=1000)
    peer = await peers(server.port)
    with caplog.at_level(logging.DEBUG, "transom"):
        peer.send_raw(frame)
        assert (await peer.closed_with()).code == code
        assert await peer.tcp_closed()
        await wait_for(app.done)
    assert app.disconnects[0]["code"] == code
    assert "Traceback" not in caplog.text
    state = server.state
    assert state is not None

    async def freed() -> None:
        while state.connections:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(freed(), WAIT)  # the connection is freed


async def test_websocket_scope_is_json_friendly(serve_ws: StartServer, peers: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        plain = {k: v for k, v in scope.items() if isinstance(v, str | int | list | dict)}
        await send({"type": "websocket.send", "text": json.dumps(plain, default=repr)})
        await receive()

    server = await serve_ws(app)
    peer = await peers(server.port)
    data = json.loads(await peer.message())
    assert data["type"] == "websocket"
    assert data["scheme"] == "ws"
