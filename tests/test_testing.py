"""TestClient and AsyncTestClient: lifespan, cookies, streaming, server exceptions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from transom.exceptions import WebSocketHandshakeError
from transom.testing import AsyncTestClient, TestClient
from transom.web.application import App
from transom.web.requests import Request
from transom.web.responses import PlainTextResponse, StreamingResponse


def make_app() -> App:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = App(lifespan=lifespan)
    app.state.events = events

    @app.get("/login")
    async def login() -> PlainTextResponse:
        response = PlainTextResponse("in")
        response.set_cookie("user", "ada")
        return response

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str | None]:
        return {"user": request.cookies.get("user")}

    @app.get("/fail")
    async def fail() -> None:
        raise LookupError("missing thing")

    return app


def test_test_client_runs_lifespan_around_with_block() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert app.state.events == ["startup"]
        client.get("/whoami")
    assert app.state.events == ["startup", "shutdown"]


def test_test_client_without_with_runs_no_lifespan() -> None:
    app = make_app()
    client = TestClient(app)
    assert client.get("/whoami").status_code == 200
    client.close()
    assert app.state.events == []


def test_test_client_keeps_cookies() -> None:
    with TestClient(make_app()) as client:
        client.get("/login")
        assert client.get("/whoami").json() == {"user": "ada"}


def test_test_client_reraises_server_exceptions() -> None:
    with TestClient(make_app()) as client, pytest.raises(LookupError, match="missing thing"):
        client.get("/fail")


def test_test_client_can_return_the_500() -> None:
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        response = client.get("/fail")
    assert response.status_code == 500


def test_test_client_default_base_url() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> str:
        return str(request.url)

    assert TestClient(app).get("/?a=1").text == "http://testserver/?a=1"


def test_test_client_drives_any_asgi_app() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse as StarlettePlain
    from starlette.routing import Route

    async def hello(request: object) -> StarlettePlain:
        return StarlettePlain("starlette")

    with TestClient(Starlette(routes=[Route("/", hello)])) as client:
        assert client.get("/").text == "starlette"


def test_test_client_streams_for_real() -> None:
    app = App()
    produced: list[int] = []

    async def numbers() -> AsyncIterator[bytes]:
        for i in range(100):
            produced.append(i)
            yield b"%d\n" % i
            await asyncio.sleep(0)

    app.add_route("/", lambda: StreamingResponse(numbers()))
    with TestClient(app) as client, client.stream("GET", "/") as response:
        first = next(response.iter_bytes())
        assert first.startswith(b"0\n")
        assert len(produced) < 100


async def test_async_test_client_runs_lifespan_and_requests() -> None:
    app = make_app()
    async with AsyncTestClient(app) as client:
        await client.get("/login")
        response = await client.get("/whoami")
        assert app.state.events == ["startup"]
    assert response.json() == {"user": "ada"}
    assert app.state.events == ["startup", "shutdown"]


async def websocket_app(scope: Any, receive: Any, send: Any) -> None:
    """A raw ASGI app: an echo WebSocket that also reports the cookie it got."""
    if scope["type"] == "lifespan":
        return
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    if scope["path"] == "/denied":
        await send({"type": "websocket.close", "code": 1008})
        return
    if scope["path"] == "/broken":
        raise RuntimeError("the app broke")
    await send({"type": "websocket.accept"})
    headers = dict(scope["headers"])
    await send({"type": "websocket.send", "text": headers.get(b"cookie", b"").decode()})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text") or "?"})


def test_test_client_websocket_echoes_with_cookies() -> None:
    with (
        TestClient(websocket_app, cookies={"user": "ada"}) as client,
        client.websocket("/ws") as ws,
    ):
        assert ws.receive_text() == "user=ada"
        ws.send_text("hello")
        assert ws.receive_text() == "hello"


async def test_async_test_client_websocket_runs_the_app_concurrently() -> None:
    async with AsyncTestClient(websocket_app) as client, client.websocket("/ws") as ws:
        assert await ws.receive_text() == ""
        for n in range(3):
            await ws.send_text(str(n))
            assert await ws.receive_text() == str(n)


def test_test_client_websocket_denied() -> None:
    with TestClient(websocket_app) as client, pytest.raises(WebSocketHandshakeError) as info:
        client.websocket("/denied").__enter__()
    assert info.value.status_code == 403


def test_test_client_websocket_raises_server_exceptions() -> None:
    with TestClient(websocket_app) as client, pytest.raises(RuntimeError, match="broke"):
        client.websocket("/broken").__enter__()
    with (
        TestClient(websocket_app, raise_server_exceptions=False) as client,
        pytest.raises(WebSocketHandshakeError) as info,
    ):
        client.websocket("/broken").__enter__()
    assert info.value.status_code == 500
