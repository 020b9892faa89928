"""HTTP proxies: absolute-form forwarding, CONNECT tunnels for https, the environment."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from transom.client import AsyncClient, Client
from transom.client.proxies import Proxy, env_proxies, proxy_from_env
from transom.exceptions import ProxyError
from transom.http.url import URL

from .servers import RawServer, read_head, read_request

RawFactory = Callable[..., RawServer]


class ProxyLog:
    def __init__(self) -> None:
        self.heads: list[bytes] = []


def make_proxy(log: ProxyLog, *, refuse: bool = False) -> Callable[..., object]:
    """A small proxy: CONNECT opens a tunnel, an absolute-form GET is answered directly."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        log.heads.append(head)
        method, target, _ = head.split(b"\r\n", 1)[0].split(b" ")
        if method == b"CONNECT":
            if refuse:
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(b":")
            up_reader, up_writer = await asyncio.open_connection(host.decode(), int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return
        body = b"proxied " + target
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    return handler


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_proxy_forwards_http_in_absolute_form(raw_server: RawFactory, kind: str) -> None:
    log = ProxyLog()
    proxy = raw_server(make_proxy(log))
    proxy_url = f"http://user:secret@127.0.0.1:{proxy.port}"
    if kind == "sync":
        with Client(proxy=proxy_url) as client:
            response = client.get("http://example.test/path?q=1")
    else:
        async with AsyncClient(proxy=proxy_url) as client:
            response = await client.get("http://example.test/path?q=1")
    assert response.text == "proxied http://example.test/path?q=1"
    credentials = base64.b64encode(b"user:secret")
    assert b"proxy-authorization: Basic " + credentials in log.heads[0]


async def test_proxy_tunnels_https_with_connect(raw_server: RawFactory, tmp_path: Path) -> None:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ntunnel'd")
        await writer.drain()
        await reader.read()

    target = raw_server(origin, ssl=context)
    log = ProxyLog()
    proxy = raw_server(make_proxy(log))
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    async with AsyncClient(proxy=proxy.url, verify=str(ca_path)) as client:
        response = await client.get(f"https://localhost:{target.port}/secret")
    assert response.text == "tunnel'd"
    assert log.heads[0].startswith(f"CONNECT localhost:{target.port} HTTP/1.1\r\n".encode())
    assert b"/secret" not in b"".join(log.heads)  # the proxy never saw the request


async def test_proxy_refused_tunnel_raises(raw_server: RawFactory) -> None:
    proxy = raw_server(make_proxy(ProxyLog(), refuse=True))
    async with AsyncClient(proxy=proxy.url) as client:
        with pytest.raises(ProxyError, match="403"):
            await client.get("https://localhost:1/")


def test_proxy_from_environment(raw_server: RawFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    log = ProxyLog()
    proxy = raw_server(make_proxy(log))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "skipped.test")
    with Client() as client:
        assert client.get("http://example.test/").text == "proxied http://example.test/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.test/", "http://proxy.test:3128"),
        ("https://example.test/", "http://secure-proxy.test"),
        ("http://skipped.test/", None),
        ("http://sub.skipped.test/", None),
        ("http://localhost:8000/", None),
        ("http://127.0.0.5/", None),
        ("http://[::1]/", None),
        ("http://[::ffff:127.0.0.1]/", None),
        ("http://[::ffff:7f00:5]/", None),
        ("http://[::ffff:10.0.0.1]/", "http://proxy.test:3128"),
        ("http://[::2]/", "http://proxy.test:3128"),
    ],
    ids=[
        "http",
        "https",
        "no-proxy",
        "no-proxy-subdomain",
        "localhost",
        "ipv4-loopback",
        "ipv6-loopback",
        "ipv4-mapped-loopback",
        "ipv4-mapped-loopback-hex",
        "ipv4-mapped-not-loopback",
        "ipv6-not-loopback",
    ],
)
def test_proxy_env_selection(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str | None
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("HTTPS_PROXY", "secure-proxy.test")
    monkeypatch.setenv("NO_PROXY", "skipped.test")
    proxy = proxy_from_env(URL(url), env_proxies())
    assert (proxy.url.origin if proxy else None) == expected


def test_proxy_rejects_non_http_scheme() -> None:
    from transom.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="only http://"):
        Proxy("socks5://127.0.0.1:1080")


# -- the caller's environment ------------------------------------------------------
# The suite clears every proxy variable for each test (tests/conftest.py): a user's shell
# with http_proxy / no_proxy set must not change what these tests see.


def test_no_proxy_variable_of_the_caller_reaches_a_test() -> None:
    assert [name for name in os.environ if name.lower().endswith("_proxy")] == []
    assert "REQUEST_METHOD" not in os.environ
    assert env_proxies() == {}
    home = Path(os.environ["HOME"])
    assert home.is_dir() and list(home.iterdir()) == []
    assert os.environ["TZ"] == "UTC" and time.strftime("%z") == "+0000"


def test_a_child_process_inherits_the_clean_environment() -> None:
    code = "import json, urllib.request; print(json.dumps(urllib.request.getproxies()))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == {}


def test_lower_case_proxy_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    # As curl and urllib do; why the tests above must clear both cases.
    monkeypatch.setenv("HTTP_PROXY", "http://upper.test:1")
    monkeypatch.setenv("http_proxy", "http://lower.test:2")
    proxy = proxy_from_env(URL("http://example.test/"), env_proxies())
    assert proxy is not None and proxy.url.origin == "http://lower.test:2"


def test_http_proxy_ignored_in_a_cgi_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # "httpoxy": under CGI, HTTP_PROXY may come from a request's Proxy header.
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", "http://attacker.test:3128")
    assert proxy_from_env(URL("http://example.test/"), env_proxies()) is None
