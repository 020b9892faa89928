"""CSRF: masked tokens, the token check, Origin/Referer checks, exemptions, failures."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from transom.client import Client
from transom.exceptions import ConfigurationError
from transom.testing import TestClient
from transom.web.application import App
from transom.web.csrf import (
    CSRFConfig,
    check_request,
    csrf_exempt,
    csrf_input,
    csrf_token,
    rotate_token,
)
from transom.web.requests import Request
from transom.web.responses import HTMLResponse
from transom.web.routing import Router
from transom.web.sessions import Session
from transom.web.signing import b64decode

from ..client.servers import ServerThread

KEY = "csrf-test-key-0123456789abcdef"


def make_app(csrf: Any = True) -> App:
    app = App(secret_key=KEY, csrf=csrf)

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(f"<form>{csrf_input(request)}{csrf_input(request)}</form>")

    @app.route("/submit", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def submit(request: Request) -> dict[str, Any]:
        if request.method in ("POST", "PUT", "PATCH") and request.headers.get(
            "content-type", ""
        ).startswith(("multipart/", "application/x-www-form")):
            form = await request.form()
            return {"ok": True, "title": form.get("title")}
        return {"ok": True}

    @app.post("/rotate")
    async def rotate(request: Request) -> dict[str, str]:
        rotate_token(request)
        return {"token": csrf_token(request)}

    @app.post("/hook")
    @csrf_exempt
    async def hook(request: Request) -> dict[str, bool]:
        return {"ok": True}

    return app


def session_client(app: App, **options: Any) -> tuple[TestClient, str]:
    """A client holding a session cookie, and a token of that session."""
    client = TestClient(app, **options)
    response = client.get("/token")
    assert client.cookies.get("session")
    token: str = response.json()["token"]
    return client, token


# -- tokens ----------------------------------------------------------------------


def test_csrf_token_is_masked_and_differs_per_request() -> None:
    client, first = session_client(make_app())
    second = client.get("/token").json()["token"]
    assert first != second
    raw_first, raw_second = b64decode(first), b64decode(second)
    assert raw_first is not None and raw_second is not None
    assert len(raw_first) == len(raw_second) == 64
    for token in (first, second):
        assert client.post("/submit", headers={"X-CSRF-Token": token}).status_code == 200


def test_csrf_token_is_one_value_per_request() -> None:
    client = TestClient(make_app())
    body = client.get("/page").text
    values = [part.split('"')[0] for part in body.split('value="')[1:]]
    assert len(values) == 2 and values[0] == values[1]
    response = client.post("/submit", data={"csrf_token": values[0], "title": "t"})
    assert response.json() == {"ok": True, "title": "t"}


def test_csrf_input_is_a_hidden_field_with_the_token() -> None:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "headers": [], "session": Session()}
    request = Request(scope)
    field = csrf_input(request)
    assert isinstance(field, Markup)
    assert field == f'<input type="hidden" name="csrf_token" value="{csrf_token(request)}">'


def test_csrf_token_keeps_the_secret_in_the_session() -> None:
    session = Session()
    request = Request({"type": "http", "method": "GET", "headers": [], "session": session})
    csrf_token(request)
    secret = b64decode(session["_csrf"])
    assert secret is not None and len(secret) == 32
    assert session.modified


def test_csrf_token_needs_sessions() -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> str:
        return csrf_token(request)

    with pytest.raises(ConfigurationError, match="secret_key"):
        TestClient(app).get("/")


def test_csrf_rotate_token_makes_old_tokens_fail() -> None:
    client, old = session_client(make_app())
    new = client.post("/rotate", headers={"X-CSRF-Token": old}).json()["token"]
    response = client.post("/submit", headers={"X-CSRF-Token": old, "Accept": "application/json"})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF token incorrect")
    assert client.post("/submit", headers={"X-CSRF-Token": new}).status_code == 200


# -- the token check ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_csrf_unsafe_methods_need_the_token(method: str) -> None:
    client, token = session_client(make_app())
    assert client.request(method, "/submit").status_code == 403
    assert client.request(method, "/submit", headers={"X-CSRF-Token": token}).status_code == 200


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_csrf_safe_methods_are_never_checked(method: str) -> None:
    client, _ = session_client(make_app())
    headers = {"Origin": "https://evil.example"}
    assert client.request(method, "/submit", headers=headers).status_code in (200, 204)


async def test_csrf_check_request_passes_trace_untouched() -> None:
    request = Request({"type": "http", "method": "TRACE", "headers": [(b"origin", b"null")]})
    assert await check_request(request) is None


def test_csrf_form_field_token() -> None:
    client, token = session_client(make_app())
    response = client.post("/submit", data={"title": "hello", "csrf_token": token})
    assert response.json() == {"ok": True, "title": "hello"}  # the handler read the form again


def test_csrf_multipart_field_token() -> None:
    client, token = session_client(make_app())
    response = client.post(
        "/submit",
        data={"title": "hello", "csrf_token": token},
        files={"attachment": ("a.txt", b"content", "text/plain")},
    )
    assert response.json() == {"ok": True, "title": "hello"}


def test_csrf_multipart_file_named_like_the_field_is_no_token() -> None:
    client, token = session_client(make_app())
    files = {"csrf_token": ("token.txt", token.encode(), "text/plain")}
    response = client.post("/submit", files=files, headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF token missing")


@pytest.mark.parametrize(
    ("send", "message"),
    [
        ({}, "CSRF token missing"),
        ({"data": {"csrf_token": ""}}, "CSRF token missing"),
        ({"data": {"csrf_token": "not-a-token"}}, "CSRF token incorrect"),
        ({"headers": {"X-CSRF-Token": "A" * 86}}, "CSRF token incorrect"),
        ({"json": {"csrf_token": "ignored: JSON bodies are not read"}}, "CSRF token missing"),
    ],
    ids=["none", "empty", "garbage", "wrong-secret", "json-body"],
)
def test_csrf_missing_or_wrong_token_is_refused(send: dict[str, Any], message: str) -> None:
    client, _ = session_client(make_app())
    headers = {"Accept": "application/json", **send.pop("headers", {})}
    response = client.post("/submit", headers=headers, **send)
    assert response.status_code == 403
    assert response.json()["detail"].startswith(message)


def test_csrf_token_of_another_session_is_refused() -> None:
    app = make_app()
    _, foreign = session_client(app)
    client, _ = session_client(app)
    response = client.post("/submit", data={"csrf_token": foreign}, headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert "CSRF token incorrect" in response.text


def test_csrf_header_name_and_field_name_are_configurable() -> None:
    config = CSRFConfig(header_name="X-XSRF", field_name="_token")
    client, token = session_client(make_app(config))
    assert client.post("/submit", headers={"X-CSRF-Token": token}).status_code == 403
    assert client.post("/submit", headers={"X-XSRF": token}).status_code == 200
    assert client.post("/submit", data={"_token": token}).status_code == 200
    assert 'name="_token"' in client.get("/page").text


def test_csrf_header_token_does_not_read_the_body() -> None:
    app = make_app()
    seen: list[bool] = []

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        seen.append(request._form is None)
        return {"length": len(await request.body())}

    client, token = session_client(app)
    response = client.post("/raw", data={"a": "b"}, headers={"X-CSRF-Token": token})
    assert response.json() == {"length": 3}
    assert seen == [True]


# -- who is checked ------------------------------------------------------------------


def test_csrf_form_post_without_a_session_cookie_passes() -> None:
    client = TestClient(make_app())
    response = client.post("/submit", data={"title": "signup"})
    assert response.json() == {"ok": True, "title": "signup"}


def test_csrf_authorization_without_a_cookie_passes() -> None:
    client = TestClient(make_app())
    headers = {"Authorization": "Bearer abc", "Origin": "https://evil.example"}
    assert client.post("/submit", headers=headers).status_code == 200


def test_csrf_authorization_with_the_cookie_is_still_checked() -> None:
    client, _ = session_client(make_app())
    response = client.post("/submit", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 403


def test_csrf_exempt_handler_is_not_checked() -> None:
    client, _ = session_client(make_app())
    assert client.post("/hook", headers={"Origin": "https://evil.example"}).status_code == 200


def test_csrf_exempt_router_exempts_its_routes() -> None:
    app = make_app()
    hooks = Router(prefix="/hooks")

    @hooks.post("/pay")
    async def pay(request: Request) -> dict[str, bool]:
        return {"ok": True}

    assert csrf_exempt(hooks) is hooks
    app.include(hooks)
    client, _ = session_client(app)
    assert client.post("/hooks/pay").status_code == 200
    assert client.post("/submit").status_code == 403


@pytest.mark.parametrize("csrf", [False, CSRFConfig(enabled=False)], ids=["false", "disabled"])
def test_csrf_turned_off(csrf: Any) -> None:
    client, _ = session_client(make_app(csrf))
    assert client.post("/submit", headers={"Origin": "https://evil.example"}).status_code == 200


# -- Origin and Referer ---------------------------------------------------------------


def test_csrf_cross_origin_is_refused_even_with_the_right_token() -> None:
    client, token = session_client(make_app())
    headers = {
        "X-CSRF-Token": token,
        "Origin": "https://evil.example",
        "Accept": "application/json",
    }
    response = client.post("/submit", headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Origin https://evil.example does not match http://testserver or a trusted origin"
    )


def test_csrf_cross_origin_without_a_cookie_is_refused() -> None:
    client = TestClient(make_app())  # log-in CSRF: no session yet
    response = client.post("/submit", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "origin",
    ["http://testserver", "HTTP://TestServer", "http://testserver:80"],
    ids=["exact", "case", "default-port"],
)
def test_csrf_same_origin_passes(origin: str) -> None:
    client, token = session_client(make_app())
    headers = {"X-CSRF-Token": token, "Origin": origin}
    assert client.post("/submit", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["http://testserver:8080", "https://testserver", "http://testserver.evil.example", "nonsense"],
    ids=["port", "scheme", "suffix", "garbage"],
)
def test_csrf_other_origins_are_refused(origin: str) -> None:
    client, token = session_client(make_app())
    response = client.post("/submit", headers={"X-CSRF-Token": token, "Origin": origin})
    assert response.status_code == 403


def test_csrf_origin_null_is_refused() -> None:
    client, token = session_client(make_app())
    headers = {"X-CSRF-Token": token, "Origin": "null", "Accept": "application/json"}
    response = client.post("/submit", headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Origin null refused")


def test_csrf_cross_origin_referer_is_refused() -> None:
    client, token = session_client(make_app())
    headers = {
        "X-CSRF-Token": token,
        "Referer": "https://evil.example/page",
        "Accept": "application/json",
    }
    response = client.post("/submit", headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Referer https://evil.example/page is not of origin http://testserver or a trusted origin"
    )


def test_csrf_same_origin_referer_passes() -> None:
    client, token = session_client(make_app())
    headers = {"X-CSRF-Token": token, "Referer": "http://testserver/page?x=1"}
    assert client.post("/submit", headers=headers).status_code == 200


def test_csrf_origin_is_checked_before_referer() -> None:
    client, token = session_client(make_app())
    headers = {
        "X-CSRF-Token": token,
        "Origin": "http://testserver",
        "Referer": "https://elsewhere.example/",
    }
    assert client.post("/submit", headers=headers).status_code == 200


def test_csrf_https_with_cookie_needs_origin_or_referer() -> None:
    client, token = session_client(make_app(), base_url="https://testserver")
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    response = client.post("/submit", headers=headers)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Origin and Referer missing")
    referer = {**headers, "Referer": "https://testserver/form"}
    assert client.post("/submit", headers=referer).status_code == 200
    http_referer = {**headers, "Referer": "http://testserver/form"}
    assert client.post("/submit", headers=http_referer).status_code == 403


def test_csrf_https_without_cookie_passes_without_origin() -> None:
    client = TestClient(make_app(), base_url="https://testserver")
    assert client.post("/submit").status_code == 200


@pytest.mark.parametrize(
    ("trusted", "origin", "status"),
    [
        ("https://admin.example.com", "https://admin.example.com", 200),
        ("https://admin.example.com:443", "https://admin.example.com", 200),
        ("https://admin.example.com", "http://admin.example.com", 403),
        ("https://*.example.com", "https://a.b.example.com", 200),
        ("https://*.example.com", "https://example.com", 403),
        ("https://*.example.com", "https://evilexample.com", 403),
    ],
)
def test_csrf_trusted_origins(trusted: str, origin: str, status: int) -> None:
    client, token = session_client(make_app(CSRFConfig(trusted_origins=(trusted,))))
    headers = {"X-CSRF-Token": token, "Origin": origin}
    assert client.post("/submit", headers=headers).status_code == status


@pytest.mark.parametrize(
    "trusted",
    ["admin.example.com", "https://admin.example.com/path", "ftp://x.example", "https://", 7],
)
def test_csrf_config_refuses_bad_trusted_origins(trusted: Any) -> None:
    with pytest.raises(ConfigurationError, match="trusted origin"):
        CSRFConfig(trusted_origins=(trusted,))


def test_csrf_config_refuses_a_single_string() -> None:
    with pytest.raises(ConfigurationError, match="list of origins"):
        CSRFConfig(trusted_origins="https://a.example")


def test_csrf_config_refuses_empty_names() -> None:
    with pytest.raises(ConfigurationError, match="must not be empty"):
        CSRFConfig(header_name="")


# -- failure bodies ----------------------------------------------------------------------


def test_csrf_failure_is_json_for_api_clients() -> None:
    client, _ = session_client(make_app())
    response = client.post("/submit", json={"a": 1})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"].startswith("CSRF token missing: send the token")


def test_csrf_failure_is_html_for_browsers() -> None:
    client, _ = session_client(make_app())
    response = client.post("/submit", data={"a": "1"}, headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "403 Forbidden" in response.text and "CSRF token missing" in response.text


# -- over a real server ---------------------------------------------------------------------


def test_csrf_over_a_real_server() -> None:
    server = ServerThread("transom", make_app())
    try:
        with Client(base_url=server.url) as client:
            token = client.get("/token").json()["token"]
            assert client.post("/submit", data={"csrf_token": token}).status_code == 200
            assert client.post("/submit", data={"title": "no token"}).status_code == 403
            evil = {"X-CSRF-Token": token, "Origin": "https://evil.example"}
            assert client.post("/submit", headers=evil).status_code == 403
            own = {"X-CSRF-Token": token, "Origin": server.url}
            assert client.post("/submit", headers=own).status_code == 200
    finally:
        server.stop()
