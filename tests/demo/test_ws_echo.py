"""``/ws/echo`` and the live page's greeting socket: in-process with ``TestClient``, then over a
real ``transom demo`` with Transom's client and with the ``websockets`` library's.

What is checked: text and binary messages come back as sent, with their type; a page of another
origin is refused with 403 before the handler runs (RFC 6455 §10.2); a message over the demo's
limit closes the connection with 1009 (RFC 6455 §7.4.1), from the handler in-process and from
the server itself under ``transom demo``; the greeting socket knows the user from the session
cookie sent with the handshake and refuses anyone else with 403.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.typing import Origin

from transom import App, Request, WebSocket
from transom.client import AsyncClient, Client
from transom.client import WebSocket as SyncWebSocket
from transom.demo.site.live import MAX_MESSAGE_SIZE
from transom.exceptions import WebSocketDisconnect, WebSocketHandshakeError
from transom.testing import TestClient
from transom.web import Templates, render

from .conftest import DemoProcess, clean_env, running_demo
from .test_site_support import SiteUser, make_app

WAIT = 10.0
MESSAGES: list[str | bytes] = ["hi", "κόσμε ☃", "", "t" * 5000, b"\x00\xff", b"", os.urandom(4096)]
TOO_BIG: dict[str, str | bytes] = {
    "binary": b"b" * (MAX_MESSAGE_SIZE + 1),
    "text": "t" * (MAX_MESSAGE_SIZE + 1),
    # Fewer characters than the limit, more UTF-8 bytes: the limit counts bytes.
    "text-multibyte": "€" * (MAX_MESSAGE_SIZE // 3 + 1),
}


def send(ws: SyncWebSocket, message: str | bytes) -> None:
    if isinstance(message, str):
        ws.send_text(message)
    else:
        ws.send_bytes(message)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path / "data")) as test_client:
        yield test_client


# --- in-process -------------------------------------------------------------------------------


def test_ws_echo_returns_text_and_binary_messages_with_their_type(client: TestClient) -> None:
    with client.websocket("/ws/echo") as ws:
        for message in MESSAGES:
            send(ws, message)
            echoed = ws.receive()
            assert type(echoed) is type(message)
            assert echoed == message


def test_ws_echo_takes_a_message_of_exactly_the_limit(client: TestClient) -> None:
    with client.websocket("/ws/echo") as ws:
        ws.send_bytes(b"x" * MAX_MESSAGE_SIZE)
        assert ws.receive_bytes() == b"x" * MAX_MESSAGE_SIZE


@pytest.mark.parametrize("message", TOO_BIG.values(), ids=TOO_BIG.keys())
def test_ws_echo_closes_with_1009_past_the_limit(client: TestClient, message: str | bytes) -> None:
    with client.websocket("/ws/echo") as ws:
        send(ws, "before")
        assert ws.receive_text() == "before"
        send(ws, message)
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
    assert info.value.code == 1009
    assert str(MAX_MESSAGE_SIZE) in info.value.reason


@pytest.mark.parametrize(
    "origin", ["http://testserver", None], ids=["same-origin", "no-origin (not a browser)"]
)
def test_ws_echo_lets_in_the_same_origin_and_non_browsers(
    client: TestClient, origin: str | None
) -> None:
    headers = {} if origin is None else {"Origin": origin}
    with client.websocket("/ws/echo", headers=headers) as ws:
        ws.send_text("in")
        assert ws.receive_text() == "in"


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://testserver:8080", "http://testserver.evil", "null"]
)
def test_ws_echo_refuses_other_origins_with_403(client: TestClient, origin: str) -> None:
    with (
        pytest.raises(WebSocketHandshakeError) as info,
        client.websocket("/ws/echo", headers={"Origin": origin}),
    ):
        pass
    assert info.value.status_code == 403


def test_live_hello_greets_the_user_of_the_session_cookie(client: TestClient) -> None:
    alice = SiteUser(client, "alice")
    assert alice.register().status_code == 303  # registering logs in
    with client.websocket("/site/live/hello") as ws:
        assert ws.receive_text() == "Hello, alice."
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
    assert info.value.code == 1000


def test_live_hello_refuses_a_visitor_not_logged_in_with_403(client: TestClient) -> None:
    with pytest.raises(WebSocketHandshakeError) as info, client.websocket("/site/live/hello"):
        pass
    assert info.value.status_code == 403


def test_live_page_points_its_script_at_the_echo_socket(client: TestClient) -> None:
    page = client.get("/site/live")
    assert page.status_code == 200
    assert 'data-socket="/ws/echo"' in page.text
    assert "data-hello" not in page.text  # only for a logged-in visitor
    assert "/static/live.js" in page.text
    assert "<script>" not in page.text  # no inline script: a CSP can forbid them
    script = client.get("/static/live.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))

    SiteUser(client, "bob").register()
    assert 'data-hello="/site/live/hello"' in client.get("/site/live").text


def test_index_and_nav_list_the_echo_socket_and_the_live_page(client: TestClient) -> None:
    index = client.get("/").text
    assert "<code>/ws/echo</code>" in index
    assert 'href="http://testserver/site/live"' in index  # the nav, on every page
    assert "/ws/echo" not in client.get("/openapi.json").text  # OpenAPI has no WebSockets


def test_template_url_for_of_a_websocket_route_is_a_ws_url(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("{{ url_for('sock') }}")
    app = App(templates=Templates(tmp_path))

    @app.websocket("/sock", name="sock")
    async def sock(ws: WebSocket) -> None:
        await ws.accept()

    @app.get("/")
    async def page(request: Request) -> object:
        return render(request, "page.html")

    @app.get("/request")
    async def from_request(request: Request) -> str:
        return str(request.url_for("sock"))

    client = TestClient(app)
    assert client.get("/request").text == "ws://testserver/sock"
    assert client.get("/").text == "ws://testserver/sock"


# --- over a real `transom demo` ---------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    root = tmp_path_factory.mktemp("demo-ws")
    argv = [sys.executable, "-m", "transom", "demo", "--port", "0", "--data-dir", str(root / "d")]
    with running_demo(
        argv, cwd=root, env=clean_env(root / "home"), ready_path="/healthz"
    ) as process:
        yield process


def ws_url(demo: DemoProcess, path: str = "/ws/echo") -> str:
    return f"ws://127.0.0.1:{demo.port}{path}"


async def test_demo_ws_echo_with_transom_async_client(demo: DemoProcess) -> None:
    async with (
        AsyncClient(trust_env=False) as client,
        client.websocket(ws_url(demo), headers={"Origin": demo.url}) as ws,
    ):
        extensions = ws.response.headers.get("sec-websocket-extensions", "")
        assert extensions.startswith("permessage-deflate")
        for message in [*MESSAGES, "z" * MAX_MESSAGE_SIZE]:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_bytes(message)
            assert await asyncio.wait_for(ws.receive(), WAIT) == message


@pytest.mark.parametrize("message", TOO_BIG.values(), ids=TOO_BIG.keys())
def test_demo_ws_echo_closes_with_1009_past_the_limit(
    demo: DemoProcess, message: str | bytes
) -> None:
    with Client(trust_env=False, timeout=WAIT) as client, client.websocket(ws_url(demo)) as ws:
        send(ws, message)
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive()
    assert info.value.code == 1009


def test_demo_ws_echo_refuses_another_origin_with_403(demo: DemoProcess) -> None:
    with (
        Client(trust_env=False, timeout=WAIT) as client,
        pytest.raises(WebSocketHandshakeError) as info,
        client.websocket(ws_url(demo), headers={"Origin": "http://evil.example"}),
    ):
        pass
    assert info.value.status_code == 403


def test_demo_live_hello_rides_on_the_session_cookie(demo: DemoProcess) -> None:
    with Client(base_url=demo.url, trust_env=False, timeout=WAIT) as client:
        with pytest.raises(WebSocketHandshakeError) as info, client.websocket("/site/live/hello"):
            pass
        assert info.value.status_code == 403
        assert SiteUser(client, "carol").register().status_code == 303
        with client.websocket("/site/live/hello", headers={"Origin": demo.url}) as ws:
            assert ws.receive_text() == "Hello, carol."


async def test_demo_ws_echo_with_the_websockets_library(demo: DemoProcess) -> None:
    async with connect(ws_url(demo), origin=Origin(demo.url), open_timeout=WAIT) as ws:
        assert [extension.name for extension in ws.protocol.extensions] == ["permessage-deflate"]
        for message in MESSAGES:
            await ws.send(message)
            echoed = await asyncio.wait_for(ws.recv(), WAIT)
            assert type(echoed) is type(message)
            assert echoed == message
        await ws.send(["frag", "mented"])  # one message in several frames
        assert await asyncio.wait_for(ws.recv(), WAIT) == "fragmented"


@pytest.mark.parametrize("compression", ["deflate", None], ids=["deflate", "plain"])
async def test_demo_ws_echo_websockets_library_past_the_limit(
    demo: DemoProcess, compression: str | None
) -> None:
    async with connect(ws_url(demo), compression=compression, open_timeout=WAIT) as ws:
        # Compresses to a few hundred bytes: the limit holds after inflating (RFC 7692 §8).
        await ws.send(b"\x00" * (MAX_MESSAGE_SIZE + 1))
        with pytest.raises(ConnectionClosedError) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert info.value.rcvd is not None
    assert info.value.rcvd.code == 1009


async def test_demo_ws_echo_websockets_library_refused_from_another_origin(
    demo: DemoProcess,
) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(ws_url(demo), origin=Origin("http://evil.example"), open_timeout=WAIT):
            pass
    assert info.value.response.status_code == 403
