"""WebSocket routes over a real socket: transom's server, the ``websockets`` library's client.

The app logs a user in over HTTP, then the browser-like client opens a
WebSocket with that cookie: the handshake's session names the user. A page
of another site is refused by the origin check before the handler runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.web.test_websockets_security import make_app
from transom.client import AsyncClient
from transom.server import Server, ServerConfig
from transom.web.application import App
from transom.web.auth import requires
from transom.web.websockets import WebSocket


@pytest.fixture
async def served() -> AsyncIterator[tuple[App, str]]:
    """The app of ``make_app`` with a guarded chat route, on 127.0.0.1:<port 0>."""
    app = make_app()

    @app.websocket("/chat/{room}")
    @requires("login")
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async for message in ws:
            text = message if isinstance(message, str) else message.decode()
            await ws.send_text(f"{ws.user.username}@{room}: {text}")

    server = Server(ServerConfig(app, host="127.0.0.1", port=0, access_log=False))
    task = asyncio.create_task(server.serve())
    started = asyncio.create_task(server.started.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()
    try:
        yield app, f"127.0.0.1:{server.port}"
    finally:
        server.request_shutdown()
        await asyncio.wait_for(task, 15)


async def login_cookie(address: str) -> str:
    async with AsyncClient() as client:
        response = await client.get(f"http://{address}/login/1")
        assert response.status_code == 200
        return f"session={response.cookies['session']}"


async def test_websocket_over_the_wire_with_the_session_of_a_login(
    served: tuple[App, str],
) -> None:
    _, address = served
    cookie = await login_cookie(address)
    async with connect(
        f"ws://{address}/chat/lobby",
        origin=f"http://{address}",  # type: ignore[arg-type]  # a str is what it sends
        additional_headers={"Cookie": cookie},
    ) as ws:
        await ws.send("hello")
        assert await ws.recv() == "alice@lobby: hello"
        await ws.send(b"bytes too")
        assert await ws.recv() == "alice@lobby: bytes too"


@pytest.mark.parametrize(
    ("origin", "cookie", "status"),
    [
        ("http://evil.example", True, 403),  # cross-site WebSocket hijacking
        (None, False, 403),  # not logged in: requires("login")
    ],
    ids=["cross-origin", "anonymous"],
)
async def test_websocket_over_the_wire_refusals(
    served: tuple[App, str], origin: str | None, cookie: bool, status: int
) -> None:
    _, address = served
    headers: dict[str, Any] = {"Cookie": await login_cookie(address)} if cookie else {}
    with pytest.raises(InvalidStatus) as caught:
        async with connect(
            f"ws://{address}/chat/lobby",
            origin=origin,  # type: ignore[arg-type]
            additional_headers=headers,
        ):
            pass  # pragma: no cover - refused
    assert caught.value.response.status_code == status
