"""Every middleware of ``transom.web.middleware`` with WebSocket handshakes in front of an App."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_websockets import talk
from transom.web.application import App, Middleware
from transom.web.middleware import (
    CompressionMiddleware,
    ConditionalGetMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    HTTPSRedirectMiddleware,
    TrustedHostMiddleware,
)
from transom.web.websockets import WebSocket

LONG = "transom " * 200  # well over any compression threshold


def echo_behind(cls: Any, **options: Any) -> App:
    app = App(middleware=[Middleware(cls, **options)])

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept(headers={"X-Echo": "1"})
        async for message in ws:
            await ws.send_text(str(message))

    return app


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (CompressionMiddleware, {"minimum_size": 1}),
        (GZipMiddleware, {"minimum_size": 1}),
        (ConditionalGetMiddleware, {}),
        (CORSMiddleware, {"allow_origins": ["*"]}),
    ],
    ids=["compression", "gzip", "conditional-get", "cors"],
)
async def test_websocket_passes_through_response_middleware_untouched(
    cls: Any, options: dict[str, Any]
) -> None:
    app = echo_behind(cls, **options)
    headers = [("Accept-Encoding", "gzip, br"), ("Origin", "http://testserver")]
    outcome = await talk(app, client=[LONG], headers=headers)
    assert outcome.accept == {
        "type": "websocket.accept",
        "subprotocol": None,
        "headers": [(b"x-echo", b"1")],
    }
    assert outcome.messages == [LONG]


async def test_websocket_cors_grants_nothing_to_a_cross_origin_handshake() -> None:
    # CORS is about reading responses with fetch; a WebSocket is guarded by the origin check.
    app = echo_behind(CORSMiddleware, allow_origins=["https://other.example"])
    outcome = await talk(app, headers=[("Origin", "https://other.example")])
    assert outcome.status == 403


async def test_websocket_https_redirect_sends_ws_to_wss() -> None:
    app = echo_behind(HTTPSRedirectMiddleware)
    outcome = await talk(app, "/ws", query_string=b"room=1")
    assert outcome.status == 307
    assert outcome.headers["location"] == "wss://testserver/ws?room=1"
    assert (await talk(app, scheme="wss", client=["x"])).messages == ["x"]


async def test_websocket_https_redirect_without_the_extension_refuses() -> None:
    outcome = await talk(echo_behind(HTTPSRedirectMiddleware), extension=False)
    assert outcome.sent == [{"type": "websocket.close", "code": 1008}]


async def test_websocket_trusted_host_allows_listed_hosts() -> None:
    app = echo_behind(TrustedHostMiddleware, allowed_hosts=["chat.example"])
    headers = [("Host", "chat.example"), ("Origin", "https://chat.example")]
    assert (await talk(app, client=["x"], headers=headers)).messages == ["x"]


async def test_websocket_trusted_host_refuses_other_hosts_with_400_never_a_redirect() -> None:
    app = echo_behind(TrustedHostMiddleware, allowed_hosts=["www.chat.example"])
    outcome = await talk(app, headers=[("Host", "chat.example")])
    assert (outcome.status, outcome.body) == (400, b"Invalid host header")
    refused = await talk(app, headers=[("Host", "evil.example")], extension=False)
    assert refused.sent == [{"type": "websocket.close", "code": 1008}]
