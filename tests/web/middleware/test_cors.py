from __future__ import annotations

import pytest

from transom.exceptions import ConfigurationError
from transom.web.middleware.cors import CORSMiddleware
from transom.web.responses import PlainTextResponse

ORIGIN = "https://app.example"
calls: list[str] = []


async def endpoint(scope, receive, send):
    calls.append(scope["method"])
    await PlainTextResponse("hello", headers={"Vary": "Cookie"})(scope, receive, send)


def preflight(method="POST", headers="", origin=ORIGIN):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return h


async def test_cors_preflight_allowed_is_answered_without_the_app(call):
    calls.clear()
    app = CORSMiddleware(
        endpoint,
        allow_origins=[ORIGIN],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Token"],
        max_age=3600,
    )
    r = await call(app, "OPTIONS", headers=preflight(headers="x-token, content-type"))
    assert r.status == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-methods"] == "GET, POST"
    assert "x-token" in r.headers["access-control-allow-headers"]
    assert r.headers["access-control-max-age"] == "3600"
    assert r.headers["vary"] == "Origin"
    assert calls == []


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        (preflight(origin="https://evil.example"), "origin"),
        (preflight(method="DELETE"), "method"),
        (preflight(headers="x-secret"), "headers"),
    ],
    ids=["origin", "method", "header"],
)
async def test_cors_preflight_disallowed_gets_400(call, headers, problem):
    app = CORSMiddleware(endpoint, allow_origins=[ORIGIN], allow_methods=["GET", "POST"])
    r = await call(app, "OPTIONS", headers=headers)
    assert r.status == 400
    assert problem in r.body.decode()
    assert "access-control-allow-origin" not in r.headers


async def test_cors_preflight_wildcard_headers_echo_the_request(call):
    app = CORSMiddleware(endpoint, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    r = await call(app, "OPTIONS", headers=preflight("PATCH", "x-a, x-b"))
    assert r.status == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == "x-a, x-b"
    assert "PATCH" in r.headers["access-control-allow-methods"]


async def test_cors_plain_options_without_request_method_goes_to_app(call):
    calls.clear()
    app = CORSMiddleware(endpoint, allow_origins=[ORIGIN])
    r = await call(app, "OPTIONS", headers={"Origin": ORIGIN})
    assert calls == ["OPTIONS"]
    assert r.headers["access-control-allow-origin"] == ORIGIN


async def test_cors_simple_request_gets_headers_and_vary_merged(call):
    app = CORSMiddleware(endpoint, allow_origins=[ORIGIN], expose_headers=["X-Total"])
    r = await call(app, headers={"Origin": ORIGIN})
    assert r.body == b"hello"
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-expose-headers"] == "X-Total"
    assert r.headers["vary"] == "Cookie, Origin"


async def test_cors_wildcard_without_credentials_sends_star(call):
    app = CORSMiddleware(endpoint, allow_origins=["*"])
    r = await call(app, headers={"Origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers


async def test_cors_credentials_never_with_star_echo_origin(call):
    app = CORSMiddleware(endpoint, allow_origins=["*"], allow_credentials=True)
    r = await call(app, headers={"Origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in r.headers["vary"]


async def test_cors_credentials_preflight_echoes_origin(call):
    app = CORSMiddleware(
        endpoint, allow_origins=["*"], allow_credentials=True, allow_methods=["POST"]
    )
    r = await call(app, "OPTIONS", headers=preflight())
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"


async def test_cors_disallowed_origin_gets_no_permission_but_vary(call):
    app = CORSMiddleware(endpoint, allow_origins=[ORIGIN])
    r = await call(app, headers={"Origin": "https://evil.example"})
    assert r.status == 200
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Cookie, Origin"


async def test_cors_no_origin_with_listed_origins_gets_vary(call):
    r = await call(CORSMiddleware(endpoint, allow_origins=[ORIGIN]))
    assert "access-control-allow-origin" not in r.headers
    assert r.headers["vary"] == "Cookie, Origin"


async def test_cors_no_origin_with_star_gets_star(call):
    r = await call(CORSMiddleware(endpoint, allow_origins=["*"]))
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["vary"] == "Cookie"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://a.example.org", True),
        ("https://deep.a.example.org", True),
        ("https://example.org", False),
        ("https://a.example.org.evil.com", False),
    ],
)
async def test_cors_origin_regex_must_match_fully(call, origin, allowed):
    app = CORSMiddleware(endpoint, allow_origin_regex=r"https://([a-z]+\.)+example\.org")
    r = await call(app, headers={"Origin": origin})
    assert ("access-control-allow-origin" in r.headers) is allowed


@pytest.mark.parametrize(
    "kwargs",
    [{"allow_origins": "https://a.example"}, {"max_age": -1}, {"allow_methods": "GET"}],
    ids=["origins-str", "max-age", "methods-str"],
)
def test_cors_bad_configuration_raises(kwargs):
    with pytest.raises(ConfigurationError):
        CORSMiddleware(endpoint, **kwargs)


def test_cors_in_an_app_preflight_and_request():
    from transom.testing import TestClient
    from transom.web.application import App

    app = App()

    @app.post("/notes")
    async def create(request):
        return {"ok": True}

    app.add_middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["POST"])
    with TestClient(app) as client:
        r = client.options("/notes", headers=preflight("POST"))
        assert r.status_code == 200
        assert r.headers["access-control-allow-methods"] == "POST"
        r = client.post("/notes", headers={"Origin": ORIGIN})
        assert r.json() == {"ok": True}
        assert r.headers["access-control-allow-origin"] == ORIGIN
        r = client.options("/notes", headers=preflight("POST", origin="https://evil.example"))
        assert r.status_code == 400
