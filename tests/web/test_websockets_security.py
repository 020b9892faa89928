"""WebSocket handshakes: the origin check, sessions, users, guards, rate limits and CSRF."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.web.test_websockets import talk
from transom.exceptions import ConfigurationError, StoreUnavailable
from transom.testing import TestClient
from transom.web.application import App
from transom.web.auth import BearerAuth, User, login, requires
from transom.web.ratelimit import rate_limit
from transom.web.requests import Request
from transom.web.routing import Router
from transom.web.sessions import CookieStore, MemoryStore, SessionStore
from transom.web.websockets import WebSocket

KEY = "test-secret-key-0123456789abcdef"

ALICE = User(1, "alice", frozenset({"admin"}))
BOB = User(2, "bob")


class Users:
    """Just enough of a user store: two users, one API token."""

    async def get(self, user_id: int) -> User | None:
        return {1: ALICE, 2: BOB}.get(user_id)

    async def verify_token(self, token: str) -> User | None:
        return ALICE if token == "alice-token" else None


def make_app(**options: Any) -> App:
    """An app with sessions, users, a log-in route and a WebSocket saying who it talks to."""
    options.setdefault("session_store", MemoryStore())
    users: Any = Users()  # the methods the app calls, not the whole UserStore
    app = App(secret_key=KEY, user_store=users, auth_backends=[BearerAuth(users)], **options)

    @app.get("/login/{user_id:int}")
    async def do_login(request: Request, user_id: int) -> str:
        user = await users.get(user_id)
        assert user is not None
        await login(request, user)
        request.session["note"] = f"hello {user.username}"
        return "ok"

    @app.get("/peek")
    async def peek(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.websocket("/whoami")
    async def whoami(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json([ws.user.username, ws.auth, ws.session.get("note")])

    return app


def session_cookie(app: App, user_id: int = 1) -> str:
    """The ``Cookie`` header value of a session logged in as ``user_id``."""
    response = TestClient(app).get(f"/login/{user_id}")
    assert response.status_code == 200
    return response.headers["set-cookie"].split(";", 1)[0]


def peek(app: App, cookie: str) -> Any:
    return TestClient(app, headers={"Cookie": cookie}).get("/peek").json()


# -- the origin check ----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "origin", "status"),
    [
        ("testserver", None, 101),
        ("testserver", "http://testserver", 101),
        ("testserver", "https://testserver", 101),
        ("TestServer", "http://testserver", 101),
        ("testserver:8000", "http://testserver:8000", 101),
        ("testserver:443", "https://testserver", 101),
        ("[::1]:8000", "http://[::1]:8000", 101),
        ("testserver", "http://testserver:8080", 403),
        ("testserver:8000", "http://testserver", 403),
        ("testserver", "http://evil.example", 403),
        ("testserver", "http://testserver.evil.example", 403),
        ("testserver", "null", 403),
        ("testserver", "not a url", 403),
        ("", "http://testserver", 403),
    ],
)
async def test_websocket_origin_must_be_the_same_by_default(
    host: str, origin: str | None, status: int
) -> None:
    headers = [("Host", host)] + ([("Origin", origin)] if origin is not None else [])
    outcome = await talk(_open_app(), headers=headers)
    assert outcome.status == status


async def test_websocket_cross_origin_is_refused_before_the_handler_runs() -> None:
    ran = []
    app = App()

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        ran.append(True)
        await ws.accept()

    outcome = await talk(app, headers=[("Origin", "https://evil.example")])
    assert outcome.status == 403
    assert b"cross-origin WebSocket refused: Origin https://evil.example" in outcome.body
    assert ran == []


@pytest.mark.parametrize(
    ("allowed", "origin", "status"),
    [
        (["https://app.example"], "https://app.example", 101),
        (["https://app.example/"], "https://APP.example", 101),
        (["https://app.example"], "http://testserver", 101),  # its own origin still
        (["https://app.example"], "http://app.example", 403),
        (["https://app.example"], "https://app.example:8443", 403),
        (["https://*.example.com"], "https://a.b.example.com", 101),
        (["https://*.example.com"], "https://example.com", 403),
        (["*"], "https://anything.example", 101),
        (["*"], "null", 101),
    ],
)
async def test_websocket_origins_lists_the_pages_allowed(
    allowed: list[str], origin: str, status: int
) -> None:
    outcome = await talk(_open_app(websocket_origins=allowed), headers=[("Origin", origin)])
    assert outcome.status == status


async def raw_echo(scope: Any, receive: Any, send: Any) -> None:
    """Another framework's WebSocket app: no origin check of its own."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "hello from the mount"})
    await send({"type": "websocket.close", "code": 1000})


@pytest.mark.parametrize(
    ("allowed", "origin", "status"),
    [
        (None, "https://evil.example", 403),
        (None, "http://testserver", 101),
        (None, None, 101),
        (["https://app.example"], "https://app.example", 101),
        (["*"], "https://evil.example", 101),
    ],
)
async def test_websocket_origin_check_covers_mounted_apps(
    allowed: list[str] | None, origin: str | None, status: int
) -> None:
    app = App(websocket_origins=allowed)
    app.mount("/other", raw_echo)
    headers = [("Origin", origin)] if origin is not None else []
    outcome = await talk(app, "/other/ws", headers=headers)
    assert outcome.status == status
    if status == 403:
        assert b"cross-origin WebSocket refused" in outcome.body
    else:
        assert outcome.messages == ["hello from the mount"]


async def test_websocket_mounted_transom_app_applies_its_own_origins() -> None:
    inner = _open_app(websocket_origins=["https://chat.example"])
    outer = App()
    outer.mount("/chat", inner)
    outcome = await talk(outer, "/chat/ws", headers=[("Origin", "https://chat.example")])
    assert outcome.status == 101
    outcome = await talk(outer, "/chat/ws", headers=[("Origin", "https://evil.example")])
    assert outcome.status == 403


def test_websocket_origin_check_covers_a_mounted_starlette_app() -> None:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute as StarletteWebSocketRoute
    from starlette.websockets import WebSocket as StarletteWebSocket

    async def endpoint(ws: StarletteWebSocket) -> None:
        await ws.accept()
        await ws.send_text("starlette")
        await ws.close()

    app = App()
    app.mount("/s", Starlette(routes=[StarletteWebSocketRoute("/ws", endpoint)]))
    client = TestClient(app)
    with client.websocket("/s/ws") as ws:
        assert ws.receive_text() == "starlette"
    from transom.exceptions import WebSocketHandshakeError

    with (
        pytest.raises(WebSocketHandshakeError) as refused,
        client.websocket("/s/ws", headers={"Origin": "https://evil.example"}),
    ):
        pass
    assert refused.value.status_code == 403


@pytest.mark.parametrize(
    ("allowed", "message"),
    [
        ("https://a.example", "not one string"),
        (["https://a.example/chat"], "must be http"),
        (["ftp://a.example"], "must be http"),
        ([3], "must be a string"),
    ],
)
def test_websocket_origins_are_checked_at_start_up(allowed: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        App(websocket_origins=allowed)


def _open_app(**options: Any) -> App:
    app = App(**options)

    @app.websocket("/ws")
    async def handler(ws: WebSocket) -> None:
        await ws.accept()

    return app


# -- sessions and users --------------------------------------------------------


@pytest.mark.parametrize("store", [MemoryStore, CookieStore], ids=["memory", "cookie"])
async def test_websocket_session_and_user_come_from_the_handshake_cookie(
    store: type[SessionStore],
) -> None:
    app = make_app(session_store=store())
    cookie = session_cookie(app)
    outcome = await talk(app, "/whoami", headers=[("Cookie", cookie)])
    assert outcome.messages == ['["alice","session","hello alice"]']
    anonymous = await talk(app, "/whoami")
    assert anonymous.messages == ['["",null,null]']


async def test_websocket_user_from_a_bearer_token() -> None:
    app = make_app()
    outcome = await talk(app, "/whoami", headers=[("Authorization", "Bearer alice-token")])
    assert outcome.messages == ['["alice","bearer",null]']


async def test_websocket_bad_bearer_token_is_a_401_denial() -> None:
    outcome = await talk(make_app(), "/whoami", headers=[("Authorization", "Bearer wrong")])
    assert outcome.status == 401
    assert outcome.headers["www-authenticate"].startswith("Bearer")


async def test_websocket_session_changed_before_accept_goes_out_with_the_101() -> None:
    app = make_app()

    @app.websocket("/remember")
    async def remember(ws: WebSocket) -> None:
        ws.session["room"] = "lobby"
        await ws.accept()

    cookie = session_cookie(app)
    outcome = await talk(app, "/remember", headers=[("Cookie", cookie)])
    assert outcome.accept is not None
    assert peek(app, cookie)["room"] == "lobby"  # saved in the store, same id
    fresh = await talk(app, "/remember")  # a new session: its cookie comes with the 101
    assert fresh.accept is not None
    set_cookie = dict(fresh.accept["headers"])[b"set-cookie"].decode()
    assert set_cookie.startswith("session=")
    assert peek(app, set_cookie.split(";", 1)[0]) == {"room": "lobby"}


async def test_websocket_session_changed_after_accept_is_saved_in_a_server_side_store(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    @app.websocket("/count")
    async def count(ws: WebSocket) -> None:
        await ws.accept()
        async for _ in ws:
            ws.session["seen"] = ws.session.get("seen", 0) + 1

    cookie = session_cookie(app)
    await talk(app, "/count", client=["a", "b"], headers=[("Cookie", cookie)])
    assert peek(app, cookie)["seen"] == 2
    assert caplog.records == []


@pytest.mark.parametrize("store", [MemoryStore, CookieStore], ids=["new-session", "cookie-store"])
async def test_websocket_session_change_that_needs_a_new_cookie_after_accept_is_logged(
    store: type[SessionStore], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(session_store=store())

    @app.websocket("/late")
    async def late(ws: WebSocket) -> None:
        await ws.accept()
        ws.session["late"] = True

    cookie = session_cookie(app) if store is CookieStore else None
    headers = [("Cookie", cookie)] if cookie else []
    with caplog.at_level(logging.WARNING, logger="transom.web"):
        outcome = await talk(app, "/late", headers=headers)
    assert outcome.close is not None
    assert "changed the session after accept()" in caplog.text


async def test_websocket_session_store_down_is_a_503_denial() -> None:
    class Down(MemoryStore):
        async def load(self, session_id: str) -> bytes | None:
            raise StoreUnavailable("redis is down")

    app = make_app(session_store=Down())
    cookie = session_cookie(app)
    outcome = await talk(app, "/whoami", headers=[("Cookie", cookie)])
    assert outcome.status == 503
    assert outcome.headers["retry-after"] == "1"


async def test_websocket_csrf_does_not_apply() -> None:
    # A session cookie and no CSRF token: an unsafe request would be refused.
    app = make_app()
    app.add_route("/change", lambda: "changed", methods=["POST"])
    cookie = session_cookie(app)
    headers = [("Cookie", cookie), ("Origin", "http://testserver")]
    assert (await talk(app, "/whoami", headers=headers)).status == 101
    assert TestClient(app, headers={"Cookie": cookie}).post("/change").status_code == 403


# -- guards --------------------------------------------------------------------


async def test_websocket_requires_login_refuses_with_403_not_a_redirect() -> None:
    app = make_app()

    @app.websocket("/private")
    @requires("login")
    async def private(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.user.username)

    browser = [("Accept", "text/html")]
    refused = await talk(app, "/private", headers=browser)
    assert refused.status == 403
    assert b"log in to open this WebSocket" in refused.body
    cookie = session_cookie(app)
    assert (await talk(app, "/private", headers=[("Cookie", cookie)])).messages == ["alice"]


async def test_websocket_requires_role() -> None:
    app = make_app()

    @app.websocket("/admin")
    @requires(role="admin")
    async def admin(ws: WebSocket) -> None:
        await ws.accept()

    bob = [("Cookie", session_cookie(app, 2))]
    alice = [("Cookie", session_cookie(app, 1))]
    assert (await talk(app, "/admin", headers=bob)).status == 403
    assert (await talk(app, "/admin", headers=alice)).status == 101


async def test_websocket_router_guards_apply_to_its_websocket_routes() -> None:
    private = Router(prefix="/private")
    requires("login")(private)

    @private.websocket("/ws")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()

    app = make_app()
    app.include(private)
    assert (await talk(app, "/private/ws")).status == 403


async def test_websocket_rate_limit_counts_handshakes() -> None:
    app = App()

    @app.websocket("/ws")
    @rate_limit("2/minute")
    async def limited(ws: WebSocket) -> None:
        await ws.accept()

    first, second, third = [await talk(app) for _ in range(3)]
    assert first.accept is not None
    headers = dict(first.accept["headers"])
    assert headers[b"ratelimit-policy"] == b'"2-per-minute";q=2;w=60'
    assert headers[b"ratelimit"].startswith(b'"2-per-minute";r=1;t=')
    assert second.status == 101
    assert third.status == 429
    assert int(third.headers["retry-after"]) >= 1


async def test_websocket_rate_limit_for_other_methods_does_not_count_handshakes() -> None:
    app = App()

    @app.websocket("/ws")
    @rate_limit("1/minute", methods=["POST"])
    async def limited(ws: WebSocket) -> None:
        await ws.accept()

    assert [(await talk(app)).status for _ in range(3)] == [101, 101, 101]
