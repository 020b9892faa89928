from __future__ import annotations

import pytest

from transom.exceptions import ConfigurationError
from transom.web.middleware.trustedhost import TrustedHostMiddleware, split_host
from transom.web.responses import PlainTextResponse


async def endpoint(scope, receive, send):
    await PlainTextResponse("ok")(scope, receive, send)


HOSTS = ["example.com", "*.example.org", "www.shop.test"]


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com:8000", 200),
        ("example.com.", 200),
        ("api.example.org", 200),
        ("a.b.example.org", 200),
        ("example.org", 400),
        ("evilexample.org", 400),
        ("evil.com", 400),
        ("example.com@evil.com", 400),
        ("", 400),
    ],
)
async def test_trustedhost_allows_listed_hosts_only(call, host, status):
    app = TrustedHostMiddleware(endpoint, allowed_hosts=HOSTS)
    r = await call(app, headers={"Host": host})
    assert r.status == status


async def test_trustedhost_400_body_says_why(call):
    r = await call(TrustedHostMiddleware(endpoint, ["example.com"]), headers={"Host": "evil.com"})
    assert r.body == b"Invalid host header"


async def test_trustedhost_www_redirect(call):
    app = TrustedHostMiddleware(endpoint, allowed_hosts=HOSTS)
    r = await call(app, path="/cart", query_string=b"x=1", headers={"Host": "shop.test:8080"})
    assert r.status == 308
    assert r.headers["location"] == "http://www.shop.test:8080/cart?x=1"


async def test_trustedhost_www_redirect_off_gives_400(call):
    app = TrustedHostMiddleware(endpoint, allowed_hosts=HOSTS, www_redirect=False)
    r = await call(app, headers={"Host": "shop.test"})
    assert r.status == 400


async def test_trustedhost_websocket_closed(call):
    app = TrustedHostMiddleware(endpoint, allowed_hosts=HOSTS)
    r = await call(app, scope_type="websocket", headers={"Host": "evil.com"})
    assert r.messages == [{"type": "websocket.close", "code": 1008}]


async def test_trustedhost_star_allows_everything(call):
    r = await call(TrustedHostMiddleware(endpoint, ["*"]), headers={"Host": "anything"})
    assert r.status == 200


def test_trustedhost_split_host_ipv6():
    assert split_host("[::1]:8000") == ("[::1]", ":8000")


@pytest.mark.parametrize("hosts", ["example.com", ["ex*ample.com"], ["example.*"]])
def test_trustedhost_bad_patterns_raise(hosts):
    with pytest.raises(ConfigurationError):
        TrustedHostMiddleware(endpoint, allowed_hosts=hosts)
