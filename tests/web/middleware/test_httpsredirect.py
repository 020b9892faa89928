from __future__ import annotations

import pytest

from transom.exceptions import ConfigurationError
from transom.web.middleware.httpsredirect import HTTPSRedirectMiddleware
from transom.web.responses import PlainTextResponse


async def endpoint(scope, receive, send):
    await PlainTextResponse("secure")(scope, receive, send)


@pytest.mark.parametrize(
    ("host", "location"),
    [
        ("example.com", "https://example.com/a%20b?q=1"),
        ("example.com:80", "https://example.com/a%20b?q=1"),
        ("example.com:8080", "https://example.com/a%20b?q=1"),
        ("[::1]:8000", "https://[::1]/a%20b?q=1"),
    ],
)
async def test_httpsredirect_http_to_https(call, host, location):
    app = HTTPSRedirectMiddleware(endpoint)
    r = await call(app, path="/a%20b", query_string=b"q=1", headers={"Host": host})
    assert r.status == 307
    assert r.headers["location"] == location


async def test_httpsredirect_custom_port_and_status(call):
    app = HTTPSRedirectMiddleware(endpoint, status_code=308, https_port=8443)
    r = await call(app, path="/x", headers={"Host": "example.com:8000"})
    assert r.status == 308
    assert r.headers["location"] == "https://example.com:8443/x"


async def test_httpsredirect_https_passes_through(call):
    r = await call(HTTPSRedirectMiddleware(endpoint), scheme="https")
    assert (r.status, r.body) == (200, b"secure")


async def test_httpsredirect_bad_host_is_400(call):
    r = await call(HTTPSRedirectMiddleware(endpoint), headers={"Host": "evil.com/x"})
    assert r.status == 400


async def test_httpsredirect_websocket_with_extension_gets_redirect(call):
    app = HTTPSRedirectMiddleware(endpoint)
    r = await call(
        app,
        scope_type="websocket",
        scheme="ws",
        path="/live",
        extensions={"websocket.http.response": {}},
    )
    assert r.messages[0]["type"] == "websocket.http.response.start"
    assert r.headers["location"] == "wss://testserver/live"


async def test_httpsredirect_websocket_without_extension_is_closed(call):
    r = await call(HTTPSRedirectMiddleware(endpoint), scope_type="websocket", scheme="ws")
    assert r.messages == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize("kwargs", [{"status_code": 303}, {"https_port": 0}])
def test_httpsredirect_bad_configuration_raises(kwargs):
    with pytest.raises(ConfigurationError):
        HTTPSRedirectMiddleware(endpoint, **kwargs)


async def test_httpsredirect_without_host_uses_server_address(call):
    async def no_host(scope, receive, send):
        scope["headers"] = []
        await HTTPSRedirectMiddleware(endpoint)(scope, receive, send)

    r = await call(no_host, path="/p")
    assert r.headers["location"] == "https://testserver/p"
