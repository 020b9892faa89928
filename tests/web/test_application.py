"""App: handlers and their return values, lifespan, state, middleware."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from transom.exceptions import ConfigurationError
from transom.testing import AsyncTestClient, TestClient
from transom.web.application import App, Middleware
from transom.web.requests import Request
from transom.web.responses import PlainTextResponse

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.mark.parametrize(
    ("value", "status", "content_type", "body"),
    [
        ({"a": 1}, 200, "application/json", b'{"a":1}'),
        ([1, 2], 200, "application/json", b"[1,2]"),
        ("<b>hi</b>", 200, "text/html; charset=utf-8", b"<b>hi</b>"),
        (b"\x00\x01", 200, "application/octet-stream", b"\x00\x01"),
        (None, 204, None, b""),
        (PlainTextResponse("x", status_code=201), 201, "text/plain; charset=utf-8", b"x"),
    ],
    ids=["dict", "list", "str", "bytes", "none", "response"],
)
def test_app_return_values_become_responses(
    value: Any, status: int, content_type: str | None, body: bytes
) -> None:
    app = App()
    app.add_route("/", lambda: value)
    response = TestClient(app).get("/")
    assert response.status_code == status
    assert response.headers.get("content-type") == content_type
    assert response.content == body


def test_app_unsupported_return_value_is_500_naming_handler() -> None:
    app = App()

    async def odd() -> object:
        return object()

    app.add_route("/", odd)
    with pytest.raises(TypeError, match="handler 'odd' returned a object"):
        TestClient(app).get("/")


def test_app_sync_handler_runs_in_a_thread_with_context() -> None:
    app = App()

    class SetContext:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            request_id.set("abc")
            await self.app(scope, receive, send)

    app.add_middleware(SetContext)

    @app.get("/")
    def blocking() -> dict[str, object]:
        return {
            "main": threading.current_thread() is threading.main_thread(),
            "rid": request_id.get(),
        }

    assert TestClient(app).get("/").json() == {"main": False, "rid": "abc"}


def test_app_request_by_annotation() -> None:
    app = App()

    @app.get("/")
    async def handler(req: Request) -> str:
        return req.method

    assert TestClient(app).get("/").text == "GET"


def test_app_state_is_shared() -> None:
    app = App()
    app.state.counter = 41

    @app.get("/")
    async def handler(request: Request) -> dict[str, int]:
        request.app.state.counter += 1
        return {"counter": request.app.state.counter}

    assert TestClient(app).get("/").json() == {"counter": 42}


def test_app_refuses_a_short_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="at least 16 random bytes"):
        App(secret_key="s3cret")


def test_app_refuses_a_session_store_without_a_secret_key() -> None:
    from transom.web.sessions import MemoryStore

    with pytest.raises(ConfigurationError, match="sessions need a secret key"):
        App(session_store=MemoryStore())


def test_app_lifespan_context_and_hooks_in_order() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
        events.append("enter")
        yield {"db": "connected"}
        events.append("exit")

    app = App(
        lifespan=lifespan,
        on_startup=[lambda: events.append("startup")],
        on_shutdown=[lambda: events.append("shutdown")],
    )

    @app.get("/")
    async def handler(request: Request) -> dict[str, str]:
        return {"db": request.state.db}

    with TestClient(app) as client:
        assert client.get("/").json() == {"db": "connected"}
        assert events == ["startup", "enter"]
    assert events == ["startup", "enter", "exit", "shutdown"]


def test_app_async_startup_hook() -> None:
    app = App()
    started = []

    async def hook() -> None:
        await asyncio.sleep(0)
        started.append(True)

    app.on_startup.append(hook)
    with TestClient(app):
        assert started == [True]


def test_app_lifespan_startup_failure_is_reported() -> None:
    def fail() -> None:
        raise RuntimeError("no database")

    app = App(on_startup=[fail])
    with pytest.raises(RuntimeError, match=r"(?s)startup failed.*no database"), TestClient(app):
        pass


async def test_app_lifespan_failure_message_over_raw_asgi() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise ValueError("bad config")
        yield

    messages = iter([{"type": "lifespan.startup"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await App(lifespan=lifespan)({"type": "lifespan", "state": {}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "bad config" in sent[0]["message"]


def test_app_lifespan_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="lifespan"):
        App(lifespan="nope")  # type: ignore[arg-type]


class Tag:
    """A pure ASGI middleware that adds a header naming itself."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-tag", self.name.encode())]
            await send(message)

        await self.app(scope, receive, tagged)


def test_app_middleware_order_first_listed_is_outermost() -> None:
    app = App(middleware=[Middleware(Tag, name="outer"), Middleware(Tag, name="inner")])
    app.add_route("/", lambda: "x")
    response = TestClient(app).get("/")
    # The innermost tags the response first on its way out.
    assert response.headers.get_list("x-tag") == ["inner", "outer"]


def test_app_middleware_added_last_is_outermost() -> None:
    app = App(middleware=[Middleware(Tag, name="listed")])
    app.add_middleware(Tag, name="added")
    app.add_route("/", lambda: "x")
    response = TestClient(app).get("/")
    assert response.headers.get_list("x-tag") == ["listed", "added"]


def test_app_middleware_sees_http_errors_as_responses() -> None:
    app = App(middleware=[Middleware(Tag, name="mw")])
    response = TestClient(app).get("/missing")
    assert response.status_code == 404
    assert response.headers["x-tag"] == "mw"


def test_app_middleware_cannot_be_added_after_start() -> None:
    app = App()
    app.add_route("/", lambda: "x")
    TestClient(app).get("/")
    with pytest.raises(ConfigurationError, match="after the app has started"):
        app.add_middleware(Tag, name="late")


def test_app_unhandled_error_in_middleware_is_500() -> None:
    class Broken:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            raise RuntimeError("middleware bug")

    app = App(middleware=[Middleware(Broken)])
    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


def test_app_max_body_size_must_be_valid() -> None:
    with pytest.raises(ConfigurationError, match="max_body_size"):
        App(max_body_size=-1)


async def test_app_async_test_client() -> None:
    app = App()
    app.add_route("/", lambda: {"ok": True})
    async with AsyncTestClient(app) as client:
        response = await client.get("/")
    assert response.json() == {"ok": True}


async def test_app_websocket_scope_without_mount_is_closed() -> None:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await App()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


def test_middleware_must_be_callable_and_has_repr() -> None:
    with pytest.raises(ConfigurationError, match="not callable"):
        Middleware("gzip")  # type: ignore[arg-type]
    assert repr(Middleware(Tag, name="x")) == "Middleware(Tag, name='x')"


async def _run_lifespan(app: App, scope: dict[str, Any]) -> list[dict[str, Any]]:
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_app_lifespan_state_needs_a_mapping() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[list[int]]:
        yield [1]

    sent = await _run_lifespan(App(lifespan=lifespan), {"type": "lifespan", "state": {}})
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "may yield a mapping" in sent[0]["message"]


async def test_app_lifespan_state_needs_server_support() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        yield {"a": 1}

    sent = await _run_lifespan(App(lifespan=lifespan), {"type": "lifespan"})
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "does not support lifespan state" in sent[0]["message"]


async def test_app_lifespan_shutdown_failure_is_reported() -> None:
    def fail() -> None:
        raise RuntimeError("flush failed")

    sent = await _run_lifespan(App(on_shutdown=[fail]), {"type": "lifespan", "state": {}})
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.failed"]
    assert "flush failed" in sent[1]["message"]


async def test_app_websocket_goes_to_mount() -> None:
    seen: list[str] = []

    async def ws_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["root_path"])

    app = App()
    app.mount("/ws", ws_app)

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        pass

    await app({"type": "websocket", "path": "/ws/chat", "headers": []}, receive, send)
    assert seen == ["/ws"]


class MyRequest(Request):
    @property
    def shout(self) -> str:
        return self.method.lower() + "!"


def test_app_request_subclass_by_annotation() -> None:
    app = App()

    @app.get("/")
    async def handler(req: MyRequest) -> str:
        return req.shout

    assert TestClient(app).get("/").text == "get!"
