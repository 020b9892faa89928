"""Guards and route options: order, routers, responses, headers."""

from __future__ import annotations

from typing import Any

import pytest

from transom import App, Request, Router
from transom.exceptions import ConfigurationError, HTTPError
from transom.testing import TestClient
from transom.web.guards import (
    Guard,
    add_guard,
    add_response_headers,
    route_option,
    set_route_option,
)
from transom.web.responses import PlainTextResponse, Response


def recorder(log: list[str], name: str, answer: Response | None = None) -> Guard:
    async def guard(request: Request) -> Response | None:
        log.append(name)
        return answer

    return guard


def tag(guard: Guard) -> Any:
    def decorator(fn: Any) -> Any:
        add_guard(fn, guard)
        return fn

    return decorator


def test_guards_run_outermost_first_then_the_handler() -> None:
    log: list[str] = []
    app = App()

    @app.get("/")
    @tag(recorder(log, "outer"))
    @tag(recorder(log, "inner"))
    async def index() -> str:
        log.append("handler")
        return "ok"

    assert TestClient(app).get("/").text == "ok"
    assert log == ["outer", "inner", "handler"]


def test_guard_added_above_the_route_decorator_still_runs() -> None:
    log: list[str] = []
    app = App()

    @tag(recorder(log, "late"))
    @app.get("/")
    async def index() -> str:
        return "ok"

    TestClient(app).get("/")
    assert log == ["late"]


def test_guard_response_replaces_the_handler() -> None:
    log: list[str] = []
    app = App()

    @app.get("/")
    @tag(recorder(log, "deny", PlainTextResponse("no", status_code=403)))
    @tag(recorder(log, "never"))
    async def index() -> str:
        log.append("handler")
        return "ok"

    response = TestClient(app).get("/")
    assert (response.status_code, response.text) == (403, "no")
    assert log == ["deny"]


def test_guard_may_raise_http_error() -> None:
    async def deny(request: Request) -> Response | None:
        raise HTTPError(429, "slow down", headers={"Retry-After": "3"})

    app = App()

    @app.get("/")
    @tag(deny)
    async def index() -> str:
        return "ok"

    response = TestClient(app).get("/")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


def test_router_guards_apply_to_every_route_and_before_the_handlers_own() -> None:
    log: list[str] = []
    api = Router(prefix="/api")
    add_guard(api, recorder(log, "router"))

    @api.get("/a")
    @tag(recorder(log, "own"))
    async def a() -> str:
        return "a"

    @api.get("/b")
    async def b() -> str:
        return "b"

    app = App()
    app.include(api)
    client = TestClient(app)
    client.get("/api/a")
    client.get("/api/b")
    assert log == ["router", "own", "router"]


def test_nested_router_guards_are_kept_through_includes() -> None:
    log: list[str] = []
    inner = Router(prefix="/inner")
    add_guard(inner, recorder(log, "inner"))

    @inner.get("/x")
    async def x() -> str:
        return "x"

    outer = Router(prefix="/outer")
    add_guard(outer, recorder(log, "outer"))
    outer.include(inner)
    app = App()
    app.include(outer)
    assert TestClient(app).get("/outer/inner/x").text == "x"
    assert log == ["outer", "inner"]


def test_guards_do_not_leak_to_other_routes() -> None:
    log: list[str] = []
    app = App()

    @app.get("/guarded")
    @tag(recorder(log, "g"))
    async def guarded() -> str:
        return "g"

    @app.get("/open")
    async def open_() -> str:
        return "o"

    TestClient(app).get("/open")
    assert log == []


def test_add_response_headers_reach_the_handler_response() -> None:
    async def stamp(request: Request) -> Response | None:
        add_response_headers(request, [(b"x-stamp", b"1")])
        return None

    app = App()

    @app.get("/")
    @tag(stamp)
    async def index() -> str:
        return "ok"

    assert TestClient(app).get("/").headers["x-stamp"] == "1"


def test_route_options_on_handlers_and_routers() -> None:
    async def handler() -> None: ...

    assert route_option(handler, "csrf_exempt", False) is False
    set_route_option(handler, "csrf_exempt", True)
    assert route_option(handler, "csrf_exempt") is True

    api = Router(prefix="/api")
    set_route_option(api, "csrf_exempt", True)

    async def other() -> str:
        return "x"

    route = api.add_route("/x", other)
    assert route.option("csrf_exempt") is True
    assert route.option("missing", 7) == 7


def test_add_guard_refuses_what_cannot_hold_one() -> None:
    with pytest.raises(ConfigurationError, match="not callable"):
        add_guard(lambda: None, "nope")  # type: ignore[arg-type]  # misuse under test
    with pytest.raises(ConfigurationError, match="function or a Router"):
        add_guard(len, recorder([], "x"))
