"""The same requests to httpbin (the Flask app from PyPI) and to ours: the answers must match.

httpbin runs on wsgiref in a thread, ours on transom's server; both are
asked by transom's client. Status, the headers that matter and the bodies
(JSON field by field) are compared, with each server's own address
replaced by ``BASE`` and the client address left out.
"""

from __future__ import annotations

import json
import logging
import re
import socketserver
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.client.servers import ServerThread
from transom import App, Client
from transom.demo.httpbin import router

logging.getLogger("httpbin.core").setLevel(logging.ERROR)  # "flasgger is not installed"
httpbin = pytest.importorskip("httpbin")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """``(httpbin's URL, ours)``."""
    theirs = make_server(
        "127.0.0.1", 0, httpbin.app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=theirs.serve_forever, daemon=True)
    thread.start()
    app = App()
    app.include(router())
    ours = ServerThread("transom", app)
    yield f"http://127.0.0.1:{theirs.server_port}", ours.url
    ours.stop()
    theirs.shutdown()
    theirs.server_close()
    thread.join(5)


_HEADERS = (
    "content-type",
    "content-encoding",
    "location",
    "etag",
    "cache-control",
    "content-range",
    "accept-ranges",
    # Not Access-Control-Allow-Origin / -Credentials: where httpbin echoes the Origin with
    # credentials, ours allows every origin without them (see transom.demo.httpbin).
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "www-authenticate",
    "x-more-info",
)
# Request headers one server sees and the other does not (the WSGI server's own).
_HOP = {"Host", "Connection"}
_BOUNDARY = re.compile(r"boundary=[\w-]+")


def _normal(value: Any, base: str) -> Any:
    if isinstance(value, str):
        value = _BOUNDARY.sub("boundary=B", value)  # the client picks one per request
        return value.replace(base, "BASE").replace(base.removeprefix("http://"), "HOST")
    if isinstance(value, list):
        return [_normal(v, base) for v in value]
    if isinstance(value, dict):
        return {
            k: _normal(v, base)
            for k, v in value.items()
            if k != "origin" and not (k in _HOP and isinstance(v, str))
        }
    return value


def _answer(client: Client, base: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    response = client.request(method, base + path, **kwargs)
    headers = {name: response.headers.get_list(name) for name in _HEADERS}
    if "www-authenticate" in response.headers:  # nonce and opaque are random
        challenge = response.headers["www-authenticate"]
        headers["www-authenticate"] = [
            challenge.split(" nonce=")[0] + " ... " + challenge.split(", qop=")[-1]
        ]
    body: Any = response.content
    if response.headers.get("content-type", "").startswith("application/json") and body:
        try:
            body = json.loads(body)
        except ValueError:  # /stream: one document a line
            body = [json.loads(line) for line in body.splitlines()]
    elif isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if "allow" in response.headers:
        headers["allow"] = sorted(response.headers["allow"].split(", "))
    answer: dict[str, Any] = _normal(
        {
            "status": response.status_code,
            "headers": headers,
            "set-cookie": response.headers.get_list("set-cookie"),
            "body": body,
        },
        base,
    )
    return answer


# (method, path, request options); the body is compared unless the path is in _BODY_DIFFERS.
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/get", {}),
    ("GET", "/get?a=1&a=2&b=x%20y", {"headers": {"X-Thing": "1", "Origin": "https://o.test"}}),
    ("GET", "/get?show_env=1", {"headers": {"X-Forwarded-For": "1.2.3.4"}}),
    ("GET", "/get", {"headers": {"X-Forwarded-Proto": "https", "X-Forwarded-For": "9.9.9.9"}}),
    ("POST", "/post", {"json": {"a": [1, {"b": None}]}}),
    ("POST", "/post?x=1", {"data": {"f": "v", "g": ["1", "2"]}}),
    ("POST", "/post", {"data": {"f": "v"}, "files": {"up": ("a.txt", b"hi", "text/plain")}}),
    ("POST", "/post", {"files": {"bin": ("b", b"\xff\x00", "application/x-b")}}),
    ("POST", "/post", {"content": b"\x00\xff\xfe", "headers": {"Content-Type": "x/y"}}),
    ("POST", "/post", {"content": b"{bad", "headers": {"Content-Type": "application/json"}}),
    ("PUT", "/put", {"content": b"text body", "headers": {"Content-Type": "text/plain"}}),
    ("PATCH", "/patch", {"json": [1, 2]}),
    ("DELETE", "/delete", {}),
    ("GET", "/post", {}),
    ("OPTIONS", "/get", {"headers": {"Access-Control-Request-Headers": "X-A"}}),
    ("OPTIONS", "/post", {"headers": {"Origin": "https://o.test"}}),
    ("GET", "/anything", {}),
    ("DELETE", "/anything/a/b?c=d", {"json": {"k": "v"}}),
    ("PATCH", "/anything/x", {"data": {"a": "b"}}),
    ("GET", "/headers", {"headers": {"X-Lower-case": "v", "User-Agent": "compare/1"}}),
    ("GET", "/ip", {"headers": {"X-Forwarded-For": "5.6.7.8"}}),
    ("GET", "/user-agent", {"headers": {"User-Agent": "compare/1"}}),
    ("GET", "/status/200", {}),
    ("POST", "/status/201", {}),
    ("PUT", "/status/302", {}),
    ("GET", "/status/304", {}),
    ("GET", "/status/401", {}),
    ("GET", "/status/402", {}),
    ("GET", "/status/406", {}),
    ("PATCH", "/status/418", {}),
    ("GET", "/status/500", {}),
    ("GET", "/status/0:0,503:1", {}),
    ("GET", "/status/abc", {}),
    ("GET", "/response-headers?X-A=1&X-A=2&b=c", {}),
    ("POST", "/response-headers?freeform=x", {}),
    ("GET", "/redirect/1", {}),
    ("GET", "/redirect/3", {}),
    ("GET", "/redirect/2?absolute=true", {}),
    ("GET", "/redirect/1?absolute=TRUE", {}),
    ("GET", "/relative-redirect/3", {}),
    ("GET", "/relative-redirect/1", {}),
    ("GET", "/absolute-redirect/2", {}),
    ("GET", "/absolute-redirect/1", {}),
    ("GET", "/redirect-to?url=/get", {}),
    ("POST", "/redirect-to?url=http://example.test/x%20y&status_code=307", {}),
    ("GET", "/redirect-to?URL=/a&Status_Code=301", {}),
    ("GET", "/redirect-to?url=/a&status_code=200", {}),
    ("GET", "/cookies", {"headers": {"Cookie": "a=1; b=two; __utma=x"}}),
    ("GET", "/cookies?show_env=1", {"headers": {"Cookie": "a=1; __utma=x"}}),
    ("GET", "/cookies/set?k=v&k2=v2", {}),
    ("GET", "/cookies/set/name/value", {}),
    ("GET", "/cookies/delete?k&k2", {}),
    ("GET", "/basic-auth/u/p", {"auth": ("u", "p")}),
    ("GET", "/basic-auth/u/p", {"auth": ("u", "x")}),
    ("GET", "/basic-auth/u/p", {}),
    ("GET", "/hidden-basic-auth/u/p", {"auth": ("u", "p")}),
    ("GET", "/hidden-basic-auth/u/p", {"auth": ("x", "p")}),
    ("GET", "/bearer", {}),
    ("GET", "/bearer", {"headers": {"Authorization": "Bearer t0k3n"}}),
    ("GET", "/bearer", {"headers": {"Authorization": "Basic eDp5"}}),
    ("GET", "/digest-auth/auth/u/p", {}),
    ("GET", "/digest-auth/auth-int/u/p/SHA-256", {}),
    ("GET", "/digest-auth/other/u/p/SHA-512/3", {}),
    ("GET", "/digest-auth/auth/u/p/SHA-1", {}),
    ("GET", "/gzip", {}),
    ("GET", "/deflate", {}),
    ("GET", "/brotli", {}),
    ("GET", "/encoding/utf8", {}),
    ("GET", "/html", {}),
    ("GET", "/json", {}),
    ("GET", "/xml", {}),
    ("GET", "/robots.txt", {}),
    ("GET", "/deny", {}),
    ("GET", "/forms/post", {}),
    ("GET", "/base64/SFRUUEJJTiBpcyBhd2Vzb21l", {}),
    ("GET", "/base64/4pyTIMOgIGxhIG1vZGU=", {}),
    ("GET", "/bytes/64?seed=3", {}),
    ("GET", "/bytes/-1", {}),
    ("GET", "/stream-bytes/300?seed=5&chunk_size=64", {}),
    ("GET", "/stream/3", {}),
    ("GET", "/range/64", {}),
    ("GET", "/range/64?chunk_size=10", {"headers": {"Range": "bytes=10-20"}}),
    ("GET", "/range/64", {"headers": {"Range": "bytes=-5"}}),
    ("GET", "/range/64", {"headers": {"Range": "bytes=60-"}}),
    ("GET", "/range/64", {"headers": {"Range": "bytes=70-80"}}),
    ("GET", "/range/200000", {}),
    ("GET", "/drip?numbytes=3&duration=0.05&code=202", {}),
    ("GET", "/drip?numbytes=0", {}),
    ("GET", "/delay/0.05", {}),
    ("POST", "/delay/0", {"data": {"a": "b"}}),
    ("GET", "/links/5", {}),
    ("GET", "/links/5/2", {}),
    ("GET", "/links/0/0", {}),
    ("GET", "/cache/30", {}),
    ("GET", "/cache", {"headers": {"If-None-Match": "x"}}),
    ("GET", "/etag/xyz", {}),
    ("GET", "/etag/xyz", {"headers": {"If-None-Match": 'W/"xyz", "q"'}}),
    ("GET", "/etag/xyz", {"headers": {"If-Match": '"nope"'}}),
    ("GET", "/etag/xyz", {"headers": {"If-Match": "*"}}),
    ("GET", "/image", {"headers": {"Accept": "text/html"}}),
]

# Bodies that differ by design: our own images and UTF-8 page.
_BODY_DIFFERS = ("/encoding/utf8", "/image")
# Answered by the framework, not by the router: the status is the same, the page and the
# headers are Transom's (no CORS headers on them).
_FRAMEWORK = ("GET /post", "GET /bytes/-1")


@pytest.mark.parametrize(
    ("method", "path", "options"), CASES, ids=[f"{m} {p}" for m, p, _ in CASES]
)
def test_same_answer_as_httpbin(
    servers: tuple[str, str], method: str, path: str, options: dict[str, Any]
) -> None:
    theirs, ours = servers
    with Client(trust_env=False, follow_redirects=False) as client:
        expected = _answer(client, theirs, method, path, **options)
    with Client(trust_env=False, follow_redirects=False) as client:
        got = _answer(client, ours, method, path, **options)
    if f"{method} {path}" in _FRAMEWORK:
        assert got["status"] == expected["status"]
        return
    if path.startswith(_BODY_DIFFERS):
        expected.pop("body"), got.pop("body")
    _drop_wsgiref_content_type(expected, got)
    assert got == expected


def _drop_wsgiref_content_type(expected: dict[str, Any], got: dict[str, Any]) -> None:
    """wsgiref gives a request without ``Content-Type`` a ``text/plain`` one; httpbin does not."""
    theirs, mine = expected.get("body"), got.get("body")
    if isinstance(theirs, list) and isinstance(mine, list):
        pairs = list(zip(theirs, mine, strict=False))
    else:
        pairs = [(theirs, mine)]
    for their_doc, my_doc in pairs:
        if not (isinstance(their_doc, dict) and isinstance(my_doc, dict)):
            continue
        headers = their_doc.get("headers")
        if (
            isinstance(headers, dict)
            and "Content-Type" not in my_doc.get("headers", {})
            and headers.get("Content-Type") == "text/plain"
        ):
            del headers["Content-Type"]


@pytest.mark.parametrize("accept", ["image/webp", "image/svg+xml", "image/jpeg", "image/*", None])
def test_images_by_accept_like_httpbin(servers: tuple[str, str], accept: str | None) -> None:
    types = []
    for base in servers:
        with Client(trust_env=False) as client:
            del client.headers["accept"]
            headers = {"Accept": accept} if accept else {}
            response = client.get(base + "/image", headers=headers)
            types.append((response.status_code, response.headers["content-type"]))
    assert types[0] == types[1]


def test_cache_answers_like_httpbin(servers: tuple[str, str]) -> None:
    for base in servers:
        with Client(trust_env=False) as client:
            response = client.get(base + "/cache")
            assert response.status_code == 200
            assert len(response.headers["etag"]) == 32
            assert response.headers["last-modified"].endswith(" GMT")
            modified = {"If-Modified-Since": response.headers["last-modified"]}
            assert client.get(base + "/cache", headers=modified).status_code == 304
