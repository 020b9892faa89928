"""WebSocket routes through ``TestClient(app).websocket(path)``, as tests of an app write them."""

from __future__ import annotations

import pytest

from tests.web.test_websockets_security import make_app
from transom.exceptions import WebSocketDisconnect, WebSocketHandshakeError
from transom.testing import AsyncTestClient, TestClient
from transom.web.application import App
from transom.web.auth import requires
from transom.web.websockets import WebSocket


def chat_app() -> App:
    app = App()

    @app.websocket("/rooms/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept(subprotocol="chat" if "chat" in ws.subprotocols else None)
        async for message in ws:
            echo = message if isinstance(message, str) else message.hex()
            await ws.send_json({"room": room, "echo": echo, "x": ws.query_params.get("x")})

    @app.websocket("/bye")
    async def bye(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "done")

    @app.websocket("/broken")
    async def broken(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive()
        raise RuntimeError("boom")

    return app


def test_websocket_test_client_echo_with_subprotocol_and_query() -> None:
    with (
        TestClient(chat_app()) as client,
        client.websocket("/rooms/lobby?x=1", subprotocols=["chat"]) as ws,
    ):
        assert ws.subprotocol == "chat"
        assert ws.response.status_code == 101
        ws.send_text("hi")
        ws.send_bytes(b"\x01")
        assert ws.receive_json() == {"room": "lobby", "echo": "hi", "x": "1"}
        assert ws.receive_json() == {"room": "lobby", "echo": "01", "x": "1"}


def test_websocket_test_client_sees_the_apps_close_code() -> None:
    with (
        TestClient(chat_app()).websocket("/bye") as ws,
        pytest.raises(WebSocketDisconnect) as caught,
    ):
        ws.receive()
    assert (caught.value.code, caught.value.reason) == (4000, "done")


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/nothing", {}, 404),
        ("/rooms/lobby", {"Origin": "https://evil.example"}, 403),
    ],
    ids=["no-route", "cross-origin"],
)
def test_websocket_test_client_refusals_raise_with_the_status(
    path: str, headers: dict[str, str], status: int
) -> None:
    client = TestClient(chat_app())
    with pytest.raises(WebSocketHandshakeError) as caught, client.websocket(path, headers=headers):
        pass  # pragma: no cover - the handshake is refused
    assert caught.value.status_code == status


def test_websocket_test_client_raises_the_handler_exception() -> None:
    client = TestClient(chat_app())
    with pytest.raises(RuntimeError, match="boom"), client.websocket("/broken") as ws:
        ws.send_text("x")
        ws.receive()


def test_websocket_test_client_without_raising_sees_1011() -> None:
    client = TestClient(chat_app(), raise_server_exceptions=False)
    with client.websocket("/broken") as ws:
        ws.send_text("x")
        with pytest.raises(WebSocketDisconnect) as caught:
            ws.receive()
    assert caught.value.code == 1011


def test_websocket_test_client_carries_the_session_cookie_of_earlier_requests() -> None:
    app = make_app()

    @app.websocket("/private")
    @requires("login")
    async def private(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.user.username)

    client = TestClient(app)
    with pytest.raises(WebSocketHandshakeError) as caught, client.websocket("/private"):
        pass  # pragma: no cover - refused
    assert caught.value.status_code == 403
    assert client.get("/login/1").status_code == 200  # the client keeps the cookie
    with client.websocket("/private") as ws:
        assert ws.receive_text() == "alice"


def test_websocket_test_client_gets_the_session_cookie_set_before_accept() -> None:
    app = make_app()

    @app.websocket("/remember")
    async def remember(ws: WebSocket) -> None:
        ws.session["room"] = "lobby"
        await ws.accept()
        await ws.send_text("ok")

    client = TestClient(app)
    with client.websocket("/remember") as ws:
        assert ws.receive_text() == "ok"
        assert "session=" in ws.response.headers["set-cookie"]
    assert client.get("/peek").json() == {"room": "lobby"}


async def test_websocket_async_test_client() -> None:
    async with AsyncTestClient(chat_app()) as client, client.websocket("/rooms/a") as ws:
        await ws.send_text("hi")
        assert await ws.receive_json() == {"room": "a", "echo": "hi", "x": None}
