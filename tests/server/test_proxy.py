"""Forwarded / X-Forwarded-* believed only from trusted proxies."""

from __future__ import annotations

from typing import Any

import pytest

from transom.server.proxy import ProxyTrust, forwarded_client

from .rawhttp import get, scope_app

PEER = ("127.0.0.1", 5000)


@pytest.mark.parametrize(
    ("allow", "host", "trusted"),
    [
        pytest.param("127.0.0.1", "127.0.0.1", True, id="exact"),
        pytest.param("127.0.0.1", "10.0.0.1", False, id="other"),
        pytest.param("10.0.0.0/8, 192.168.1.1", "10.2.3.4", True, id="cidr"),
        pytest.param("10.0.0.0/8", "11.0.0.1", False, id="outside-cidr"),
        pytest.param("::1", "::1", True, id="ipv6"),
        pytest.param("*", "203.0.113.5", True, id="everyone"),
        pytest.param("unix:", None, True, id="unix-socket"),
        pytest.param("127.0.0.1", None, False, id="unix-untrusted"),
    ],
)
def test_proxy_trust(allow: str, host: str | None, trusted: bool) -> None:
    assert ProxyTrust(allow).is_trusted(host) is trusted


def test_proxy_x_forwarded_for_takes_rightmost_untrusted() -> None:
    trust = ProxyTrust("127.0.0.1, 10.0.0.0/8")
    headers = [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9, 10.1.2.3")]
    assert forwarded_client(headers, PEER, "http", trust) == (("203.0.113.9", 0), "http")


def test_proxy_x_forwarded_proto_sets_scheme() -> None:
    headers = [(b"x-forwarded-proto", b"https")]
    assert forwarded_client(headers, PEER, "http", ProxyTrust("127.0.0.1")) == (PEER, "https")


def test_proxy_x_forwarded_proto_ignores_junk() -> None:
    headers = [(b"x-forwarded-proto", b"javascript")]
    assert forwarded_client(headers, PEER, "http", ProxyTrust("127.0.0.1")) == (PEER, "http")


@pytest.mark.parametrize(
    ("value", "client", "scheme"),
    [
        pytest.param(b"for=192.0.2.60;proto=https", ("192.0.2.60", 0), "https", id="basic"),
        pytest.param(b'for="[2001:db8::1]:4711"', ("2001:db8::1", 4711), "http", id="ipv6-port"),
        pytest.param(b"for=192.0.2.60, for=127.0.0.1", ("192.0.2.60", 0), "http", id="chain"),
        pytest.param(b"for=unknown", PEER, "http", id="unknown"),
        pytest.param(b"by=1.2.3.4", PEER, "http", id="no-for"),
    ],
)
def test_proxy_forwarded_header(value: bytes, client: Any, scheme: str) -> None:
    trust = ProxyTrust("127.0.0.1")
    assert forwarded_client([(b"forwarded", value)], PEER, "http", trust) == (client, scheme)


def test_proxy_forwarded_wins_over_x_forwarded() -> None:
    headers = [(b"x-forwarded-for", b"1.1.1.1"), (b"forwarded", b"for=2.2.2.2")]
    assert forwarded_client(headers, PEER, "http", ProxyTrust("127.0.0.1"))[0] == ("2.2.2.2", 0)


async def test_proxy_headers_trusted_from_allowed_peer(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)  # default: 127.0.0.1 is trusted
    client = await client_factory(server.port)
    request = get("/", "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")
    scope = (await client.request(request)).json()
    assert (scope["client"], scope["scheme"]) == (["203.0.113.7", 0], "https")


async def test_proxy_headers_ignored_from_untrusted_peer(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app, forwarded_allow_ips="10.0.0.1")
    client = await client_factory(server.port)
    request = get("/", "X-Forwarded-For: 203.0.113.7", "Forwarded: for=1.2.3.4;proto=https")
    scope = (await client.request(request)).json()
    assert scope["client"][0] == "127.0.0.1"
    assert scope["scheme"] == "http"


async def test_proxy_headers_off(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app, proxy_headers=False)
    client = await client_factory(server.port)
    scope = (await client.request(get("/", "X-Forwarded-For: 203.0.113.7"))).json()
    assert scope["client"][0] == "127.0.0.1"
