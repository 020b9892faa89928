"""Errors: handlers by status and class, negotiated bodies, 500s, debug page, logging."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from transom.exceptions import ConfigurationError, HTTPError
from transom.testing import TestClient
from transom.web.application import App, Middleware
from transom.web.requests import Request
from transom.web.responses import PlainTextResponse, StreamingResponse


def failing_app(**options: Any) -> App:
    app = App(**options)

    @app.get("/http/{status:int}")
    async def http_error(status: int) -> None:
        raise HTTPError(status, "<script>alert(1)</script>", headers={"X-Why": "test"})

    @app.get("/value")
    async def value_error() -> None:
        raise ValueError("bad value")

    @app.get("/key")
    async def key_error() -> None:
        raise KeyError("k")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("boom")

    return app


def test_http_error_default_body_is_escaped_html() -> None:
    response = TestClient(failing_app()).get("/http/403")
    assert response.status_code == 403
    assert response.headers["x-why"] == "test"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;" in response.text and "<script>" not in response.text


def test_http_error_json_when_accept_prefers_json() -> None:
    response = TestClient(failing_app()).get("/http/409", headers={"Accept": "application/json"})
    assert response.json() == {"detail": "<script>alert(1)</script>"}


def test_http_error_html_when_accept_prefers_html() -> None:
    response = TestClient(failing_app()).get(
        "/http/409", headers={"Accept": "text/html,application/json;q=0.9"}
    )
    assert response.headers["content-type"].startswith("text/html")


def test_http_error_json_when_request_was_json() -> None:
    app = App()

    @app.post("/")
    async def handler() -> None:
        raise HTTPError(422, {"field": "title"})

    response = TestClient(app).post("/", json={"x": 1})
    assert response.json() == {"detail": {"field": "title"}}


def test_http_error_no_body_status() -> None:
    response = TestClient(failing_app()).get("/http/304")
    assert response.status_code == 304
    assert response.content == b""


def test_exception_handler_by_status() -> None:
    app = failing_app()

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPError) -> PlainTextResponse:
        return PlainTextResponse(f"nothing at {request.url.path}", status_code=404)

    response = TestClient(app).get("/missing")
    assert (response.status_code, response.text) == (404, "nothing at /missing")


def test_exception_handler_by_class_uses_mro() -> None:
    app = failing_app()
    app.add_exception_handler(LookupError, lambda request, exc: {"lookup": str(exc)})
    assert TestClient(app).get("/key").json() == {"lookup": "'k'"}


def test_exception_handler_for_http_error_class() -> None:
    app = failing_app(exception_handlers={HTTPError: lambda r, e: {"status": e.status_code}})
    assert TestClient(app).get("/http/418").json() == {"status": 418}


def test_exception_handler_bad_key_fails() -> None:
    with pytest.raises(ConfigurationError, match="status code"):
        App().add_exception_handler("404", lambda r, e: None)  # type: ignore[arg-type]


def test_exception_handler_non_error_status_fails() -> None:
    with pytest.raises(ConfigurationError, match="400-599"):
        App().add_exception_handler(200, lambda r, e: None)


def test_unhandled_error_raised_in_test_by_default() -> None:
    with pytest.raises(ValueError, match="bad value"):
        TestClient(failing_app()).get("/value")


def test_unhandled_error_is_500_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="transom.web"):
        response = TestClient(failing_app(), raise_server_exceptions=False).get("/crash")
    assert response.status_code == 500
    assert "boom" not in response.text
    record = caplog.records[-1]
    assert record.name == "transom.web"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_unhandled_error_debug_page_shows_traceback() -> None:
    client = TestClient(failing_app(debug=True), raise_server_exceptions=False)
    response = client.get("/crash")
    assert response.status_code == 500
    assert "RuntimeError: boom" in response.text
    assert "Traceback" in response.text


def test_unhandled_error_500_handler_used() -> None:
    app = failing_app()
    app.add_exception_handler(500, lambda r, e: PlainTextResponse("sorry", status_code=500))
    response = TestClient(app, raise_server_exceptions=False).get("/value")
    assert (response.status_code, response.text) == (500, "sorry")


def test_unhandled_error_exception_handler_with_middleware() -> None:
    class Passthrough:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    app = failing_app(middleware=[Middleware(Passthrough)])
    app.add_exception_handler(Exception, lambda r, e: PlainTextResponse("oops", status_code=500))
    response = TestClient(app, raise_server_exceptions=False).get("/crash")
    assert response.text == "oops"


def test_failing_500_handler_falls_back_to_default(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app()

    def broken(request: Request, exc: Exception) -> None:
        raise RuntimeError("handler broke")

    app.add_exception_handler(500, broken)
    with caplog.at_level(logging.ERROR, logger="transom.web"):
        response = TestClient(app, raise_server_exceptions=False).get("/value")
    assert response.status_code == 500
    assert any("failed too" in r.getMessage() for r in caplog.records)


def test_error_after_response_started_is_reraised() -> None:
    app = App()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"partial"
        raise RuntimeError("mid-stream")

    app.add_route("/", lambda: StreamingResponse(chunks()))
    with pytest.raises(RuntimeError, match="mid-stream"):
        TestClient(app).get("/")


@pytest.mark.parametrize(
    ("accept", "json"),
    [
        ("application/json;q=0.5, text/html;q=0.4", True),
        ("text/html;q=bad, application/json;q=0.1", True),
        ("application/*", True),
        ("*/*", False),
    ],
    ids=["q-values", "bad-q", "wildcard-json", "anything"],
)
def test_error_negotiation_reads_q_values(accept: str, json: bool) -> None:
    response = TestClient(failing_app()).get("/http/400", headers={"Accept": accept})
    is_json = response.headers["content-type"] == "application/json"
    assert is_json is json


def test_server_error_middleware_passes_lifespan_through() -> None:
    class Passthrough:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    started: list[bool] = []
    app = App(middleware=[Middleware(Passthrough)], on_startup=[lambda: started.append(True)])
    with TestClient(app):
        assert started == [True]
