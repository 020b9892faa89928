"""WebSocket routes: converters, routers, mounts, url_for, refusals and handler errors."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from tests.web.test_websockets import echo_app, talk
from transom._types import Message, Receive, Scope, Send
from transom.exceptions import ConfigurationError, HTTPError
from transom.testing import TestClient
from transom.web.application import App, Middleware
from transom.web.requests import Request
from transom.web.responses import PlainTextResponse
from transom.web.routing import Router
from transom.web.staticfiles import StaticFiles
from transom.web.websockets import WebSocket

# -- routes --------------------------------------------------------------------


async def test_websocket_route_converts_path_parameters() -> None:
    app = App()

    @app.websocket("/rooms/{room}/{seat:int}/{key:uuid}")
    async def room(ws: WebSocket, room: str, seat: int, key: uuid.UUID) -> None:
        await ws.accept()
        await ws.send_json([room, seat, str(key), ws.path_params["seat"]])

    key = uuid.uuid4()
    outcome = await talk(app, f"/rooms/lobby/7/{key}")
    assert outcome.messages == [f'["lobby",7,"{key}",7]']
    # A value the converter refuses matches no route.
    assert (await talk(app, f"/rooms/lobby/seven/{key}")).status == 404


async def test_websocket_route_handler_takes_the_socket_by_name() -> None:
    app = App()

    async def by_name(websocket, n):  # type: ignore[no-untyped-def]  # no annotations at all
        await websocket.accept()
        await websocket.send_text(n)

    app.add_websocket_route("/a/{n}", by_name)
    assert (await talk(app, "/a/x")).messages == ["x"]


async def test_websocket_static_route_beats_a_dynamic_one() -> None:
    app = App()

    @app.websocket("/ws/{name}")
    async def dynamic(ws: WebSocket, name: str) -> None:
        await ws.accept()
        await ws.send_text("dynamic")

    @app.websocket("/ws/me")
    async def static(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("static")

    assert (await talk(app, "/ws/me")).messages == ["static"]
    assert (await talk(app, "/ws/you")).messages == ["dynamic"]


async def test_websocket_router_routes_take_the_prefix_when_included() -> None:
    chat = Router(prefix="/chat")

    @chat.websocket("/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(room)

    app = App()
    app.include(chat)
    assert (await talk(app, "/chat/lobby")).messages == ["lobby"]
    assert app.url_for("room", room="lobby") == "/chat/lobby"


def test_websocket_handler_must_be_async_and_take_the_socket() -> None:
    app = App()

    def sync(ws: WebSocket) -> None: ...

    async def no_socket() -> None: ...

    with pytest.raises(ConfigurationError, match="must be an async def"):
        app.add_websocket_route("/a", sync)
    with pytest.raises(ConfigurationError, match="does not take the WebSocket"):
        app.add_websocket_route("/b", no_socket)
    with pytest.raises(ConfigurationError, match="does not take path parameter"):
        app.add_websocket_route("/c/{room}", echo_handler)


async def echo_handler(ws: WebSocket) -> None:
    await ws.accept()


async def room_handler(ws: WebSocket, room: str) -> None:
    await ws.accept()


def test_websocket_route_may_share_a_path_with_an_http_route_but_not_a_name() -> None:
    app = App()
    app.add_route("/chat", lambda: "page", name="chat")
    with pytest.raises(ConfigurationError, match="route name 'chat' is already used"):
        app.add_websocket_route("/chat", echo_handler, name="chat")
    app.add_websocket_route("/chat", echo_handler, name="chat_socket")
    with pytest.raises(
        ConfigurationError, match="WebSocket '/chat' is already served by <WebSocketRoute '/chat'"
    ):
        app.add_websocket_route("/chat", echo_handler, name="other")


async def test_websocket_and_http_routes_on_one_path_each_get_their_own() -> None:
    app = App()
    app.add_route("/chat", lambda: "the page")

    @app.websocket("/chat")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("the socket")

    assert (await talk(app, "/chat")).messages == ["the socket"]
    assert TestClient(app).get("/chat").text == "the page"


@pytest.mark.parametrize("path", ["/ws", "/rooms/lobby"], ids=["static", "dynamic"])
def test_websocket_route_answers_plain_http_with_426(path: str) -> None:
    app = App()
    app.add_websocket_route("/ws", echo_handler)
    app.add_websocket_route("/rooms/{room}", room_handler)
    for method in ("GET", "POST", "OPTIONS"):
        response = TestClient(app).request(method, path)
        assert response.status_code == 426, method
        assert response.headers["upgrade"] == "websocket"
        assert "WebSocket client" in response.text


async def test_websocket_no_route_is_a_404_denial() -> None:
    app = App()
    app.add_route("/page", lambda: "page")
    for path in ("/nothing", "/page", "/page/"):
        outcome = await talk(app, path)
        assert outcome.status == 404
        assert b"no WebSocket route" in outcome.body


async def test_websocket_no_route_without_the_extension_is_closed_for_a_403() -> None:
    outcome = await talk(App(), "/nothing", extension=False)
    assert outcome.sent == [{"type": "websocket.close", "code": 1000}]


# -- url_for -------------------------------------------------------------------


def test_websocket_url_for_gives_ws_urls_to_requests_and_http_urls_to_sockets() -> None:
    app = App()

    @app.websocket("/rooms/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(str(ws.url_for("page")))
        await ws.send_text(str(ws.url_for("room", room="x", v=1)))

    @app.get("/", name="page")
    async def page(request: Request) -> dict[str, str]:
        return {"room": str(request.url_for("room", room="lobby")), "page": str(request.url)}

    assert app.url_for("room", room="lobby") == "/rooms/lobby"
    assert TestClient(app).get("/").json() == {
        "room": "ws://testserver/rooms/lobby",
        "page": "http://testserver/",
    }
    assert TestClient(app, base_url="https://testserver").get("/").json()["room"] == (
        "wss://testserver/rooms/lobby"
    )


def test_websocket_url_for_in_a_template_gives_a_ws_url(tmp_path: Any) -> None:
    (tmp_path / "page.html").write_text('{{ url_for("room", room="a") }} {{ url_for("page") }}')
    app = App(templates=tmp_path)
    app.add_websocket_route("/rooms/{room}", room_handler, name="room")

    @app.get("/", name="page")
    async def page(request: Request) -> Any:
        from transom.web.templates import render

        return render(request, "page.html")

    assert TestClient(app).get("/").text == "ws://testserver/rooms/a http://testserver/"


async def test_websocket_url_for_from_a_socket() -> None:
    app = App()
    app.add_route("/", lambda: "", name="page")

    @app.websocket("/rooms/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(str(ws.url_for("page")))
        await ws.send_text(str(ws.url_for("room", room="x", v=1)))

    assert (await talk(app, "/rooms/a")).messages == [
        "http://testserver/",
        "ws://testserver/rooms/x?v=1",
    ]
    assert (await talk(app, "/rooms/a", scheme="wss")).messages == [
        "https://testserver/",
        "wss://testserver/rooms/x?v=1",
    ]


# -- mounts --------------------------------------------------------------------


async def test_websocket_mount_forwards_to_a_mounted_app() -> None:
    inner = App()

    @inner.websocket("/ws/{room}", name="room")
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(f"{room} {ws.scope['root_path']} {ws.url_for('room', room='b')}")
        await ws.send_text(str(ws.url_for("chat:room", room="c")))

    app = App()
    app.mount("/chat", inner, name="chat")
    outcome = await talk(app, "/chat/ws/a")
    assert outcome.messages == ["a /chat ws://testserver/chat/ws/b", "ws://testserver/chat/ws/c"]
    assert app.url_for("chat:room", room="z") == "/chat/ws/z"
    # The mounted App refuses what it does not serve, as an App does.
    assert (await talk(app, "/chat/nothing")).status == 404


async def test_websocket_mount_forwards_to_any_asgi_app() -> None:
    seen: list[Scope] = []

    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await receive()
        await send({"type": "websocket.accept"})

    app = App()
    app.mount("/raw", raw)
    outcome = await talk(app, "/raw/x")
    assert outcome.status == 101
    assert (seen[0]["type"], seen[0]["root_path"], seen[0]["path"]) == (
        "websocket",
        "/raw",
        "/raw/x",
    )


async def test_websocket_to_static_files_is_refused() -> None:
    app = App()
    app.mount("/static", StaticFiles(directory=".", check_dir=False))
    assert (await talk(app, "/static/x")).status == 403


# -- the end of a handler ------------------------------------------------------


async def test_websocket_handler_returning_after_accept_closes_1000() -> None:
    app = App()

    @app.websocket("/ws")
    async def once(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("bye")

    outcome = await talk(app, close=None)
    assert outcome.messages == ["bye"]
    assert outcome.close == {"type": "websocket.close", "code": 1000, "reason": ""}


async def test_websocket_handler_returning_without_accept_refuses() -> None:
    app = App()

    @app.websocket("/ws")
    async def nothing(ws: WebSocket) -> None:
        pass

    outcome = await talk(app)
    assert outcome.sent == [{"type": "websocket.close", "code": 1000, "reason": ""}]
    assert outcome.status == 403


async def test_websocket_handler_may_deny_with_any_response() -> None:
    app = App()

    @app.websocket("/ws")
    async def picky(ws: WebSocket) -> None:
        await ws.deny(PlainTextResponse("not today", status_code=418))

    outcome = await talk(app)
    assert (outcome.status, outcome.body) == (418, b"not today")
    assert len(outcome.sent) == 2


async def test_websocket_peer_leaving_ends_the_handler_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.websocket("/ws")
    async def reader(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            await ws.receive_text()  # raises WebSocketDisconnect at the end

    outcome = await talk(app, client=["a"], close=(1001, "gone"))
    assert outcome.close is None
    assert caplog.records == []


# -- handler errors ------------------------------------------------------------


async def test_websocket_error_before_accept_is_a_500_denial(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="transom.web"):
        outcome = await talk(app)
    assert outcome.status == 500
    assert b"Internal Server Error" in outcome.body
    assert b"boom" not in outcome.body
    assert "Unhandled exception in WebSocket /ws" in caplog.text


async def test_websocket_error_after_accept_closes_1011_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive()
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="transom.web"):
        outcome = await talk(app, client=["x"])
    assert outcome.close == {"type": "websocket.close", "code": 1011, "reason": ""}
    assert "RuntimeError: boom" in caplog.text


@pytest.mark.parametrize("accept", [False, True], ids=["before-accept", "after-accept"])
async def test_websocket_error_is_reraised_for_a_test_client(accept: bool) -> None:
    app = App()

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        if accept:
            await ws.accept()
        raise RuntimeError("boom")

    sent: list[Message] = []
    with pytest.raises(RuntimeError, match="boom"):
        await _call(app, sent, raise_exceptions=True)
    assert sent[-1]["type"] == ("websocket.close" if accept else "websocket.http.response.body")


async def test_websocket_http_error_before_accept_is_its_denial() -> None:
    app = App()

    @app.websocket("/ws")
    async def teapot(ws: WebSocket) -> None:
        raise HTTPError(429, "slow down", headers={"Retry-After": "3"})

    outcome = await talk(app, headers=[("Accept", "application/json")])
    assert outcome.status == 429
    assert outcome.headers["retry-after"] == "3"
    assert outcome.body == b'{"detail":"slow down"}'


async def test_websocket_errors_in_an_app_with_middleware_are_handled_alike() -> None:
    class Passthrough:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    app = App(middleware=[Middleware(Passthrough)])

    @app.websocket("/ws")
    async def broken(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("boom")

    assert (await talk(app)).close == {"type": "websocket.close", "code": 1011, "reason": ""}
    assert (await talk(echo_app(), client=["x"])).messages == ["x"]


async def _call(app: App, sent: list[Message], **options: Any) -> None:
    from tests.web.test_websockets import ws_scope

    inbox: list[Message] = [{"type": "websocket.connect"}]

    async def receive() -> Message:
        return inbox.pop(0) if inbox else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(ws_scope(**options), receive, send)
