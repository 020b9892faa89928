"""The httpbin-compatible API over a real transom server, through transom's client and curl."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import os
import random
import shutil
import subprocess
import time
import zlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from tests.client.servers import ServerThread
from transom import App, Client
from transom.client.auth import DigestAuth
from transom.demo.httpbin import openapi, router
from transom.demo.httpbin.auth import parse_auth_params
from transom.demo.httpbin.formats import _stored_brotli
from transom.testing import TestClient


def make_app(base_path: str = "") -> App:
    app = App()
    app.include(router(base_path=base_path))
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    running = ServerThread("transom", make_app())
    yield running
    running.stop()


@pytest.fixture
def client(server: ServerThread) -> Iterator[Client]:
    with Client(base_url=server.url, trust_env=False, follow_redirects=False) as c:
        yield c


# -- request inspection --------------------------------------------------------


def test_get_shows_args_headers_origin_and_url(client: Client, server: ServerThread) -> None:
    response = client.get("/get?a=1&a=2&b=x", headers={"X-Custom-thing": "v"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    assert response.text.startswith('{\n  "args": {\n    "a": [\n      "1",')
    assert response.text.endswith("}\n")
    body = response.json()
    assert list(body) == ["args", "headers", "origin", "url"]
    assert body["args"] == {"a": ["1", "2"], "b": "x"}
    assert body["headers"]["X-Custom-Thing"] == "v"
    assert body["headers"]["Host"] == server.url.removeprefix("http://")
    assert body["origin"] == "127.0.0.1"
    assert body["url"] == f"{server.url}/get?a=1&a=2&b=x"


def test_cors_allows_every_origin_without_credentials(client: Client) -> None:
    response = client.get("/cookies", headers={"Origin": "http://localhost:9999"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_forwarded_headers_set_origin_and_scheme_and_are_hidden(client: Client) -> None:
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    body = client.get("/get", headers=headers).json()
    assert body["origin"] == "203.0.113.9"
    assert body["url"].startswith("https://")
    assert "X-Forwarded-For" not in body["headers"]
    shown = client.get("/get?show_env=1", headers=headers).json()
    assert shown["headers"]["X-Forwarded-For"] == "203.0.113.9"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_methods_echo_a_json_body(client: Client, method: str) -> None:
    response = client.request(method, f"/{method.lower()}?q=1", json={"x": [1, 2]})
    body = response.json()
    assert list(body) == ["args", "data", "files", "form", "headers", "json", "origin", "url"]
    assert body["json"] == {"x": [1, 2]}
    assert json.loads(body["data"]) == {"x": [1, 2]}
    assert body["args"] == {"q": "1"}
    assert (body["form"], body["files"]) == ({}, {})


def test_post_form_multipart_and_binary(client: Client) -> None:
    body = client.post("/post", data={"a": "1", "b": ["2", "3"]}).json()
    assert body["form"] == {"a": "1", "b": ["2", "3"]}
    assert (body["data"], body["json"]) == ("", None)
    files = {
        "text": ("a.txt", b"hello", "text/plain"),
        "blob": ("b.bin", b"\xff\x00\x01", "image/x-test"),
    }
    body = client.post("/post", data={"f": "v"}, files=files).json()
    assert body["form"] == {"f": "v"}
    assert body["files"] == {"text": "hello", "blob": "data:image/x-test;base64,/wAB"}
    raw = client.post("/post", content=b"\x00\xff", headers={"Content-Type": "x/y"}).json()
    assert raw["data"] == "data:application/octet-stream;base64,AP8="
    assert raw["json"] is None
    broken = client.post("/post", content=b"{oops", headers={"Content-Type": "application/json"})
    assert (broken.json()["data"], broken.json()["json"]) == ("{oops", None)


def test_wrong_method_is_405(client: Client) -> None:
    response = client.get("/post")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


def test_anything(client: Client) -> None:
    for path in ("/anything", "/anything/a/b"):
        body = client.put(f"{path}?k=v", data={"f": "1"}).json()
        assert body["method"] == "PUT"
        assert body["url"].endswith(f"{path}?k=v")
        assert body["form"] == {"f": "1"}
    assert client.request("TRACE", "/anything").json()["method"] == "TRACE"


def test_headers_ip_user_agent_uuid(client: Client) -> None:
    headers = client.get("/headers", headers={"User-Agent": "tester/1"}).json()["headers"]
    assert headers["User-Agent"] == "tester/1"
    assert client.get("/ip").json() == {"origin": "127.0.0.1"}
    agent = client.get("/user-agent", headers={"User-Agent": "tester/1"}).json()
    assert agent == {"user-agent": "tester/1"}
    first, second = (client.get("/uuid").json()["uuid"] for _ in range(2))
    assert first != second and len(first) == 36 and first[14] == "4"


def test_options_answers_the_cors_preflight(client: Client) -> None:
    response = client.options(
        "/post",
        headers={"Origin": "https://a.example", "Access-Control-Request-Headers": "X-Thing"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == (
        "GET, POST, PUT, DELETE, PATCH, OPTIONS"
    )
    assert response.headers["access-control-allow-headers"] == "X-Thing"
    assert response.headers["access-control-max-age"] == "3600"
    assert response.headers["allow"] == "POST, OPTIONS"


# -- status codes and redirects --------------------------------------------------


def test_status_codes(client: Client) -> None:
    assert client.get("/status/204").status_code == 204
    teapot = client.post("/status/418")
    assert teapot.status_code == 418 and "teapot" in teapot.text
    assert teapot.headers["x-more-info"] == "http://tools.ietf.org/html/rfc2324"
    moved = client.delete("/status/302")
    assert (moved.status_code, moved.headers["location"]) == (302, "/redirect/1")
    assert client.get("/status/401").headers["www-authenticate"] == 'Basic realm="Fake Realm"'
    proxy = client.get("/status/407").headers["proxy-authenticate"]
    assert proxy == 'Basic realm="Fake Realm"'
    head = client.head("/get")
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-type"] == "application/json"
    assert client.get("/status/200:0,503:1").status_code == 503
    assert {client.get("/status/201,202").status_code for _ in range(20)} <= {201, 202}
    for bad in ("abc", "99", "600", "200:x", "200:0"):
        response = client.get(f"/status/{bad}")
        assert response.status_code == 400, bad
        assert response.text == "Invalid status code"


def test_response_headers(client: Client) -> None:
    response = client.get("/response-headers?X-One=1&X-One=2&freeform=hi")
    assert response.headers.get_list("x-one") == ["1", "2"]
    body = response.json()
    assert body["X-One"] == ["1", "2"] and body["freeform"] == "hi"
    assert body["Content-Length"] == response.headers["content-length"]
    assert client.post("/response-headers?a=b").json()["a"] == "b"
    assert client.get("/response-headers?Content-Length=1").status_code == 400


def test_redirects(client: Client, server: ServerThread) -> None:
    first = client.get("/redirect/3")
    assert (first.status_code, first.headers["location"]) == (302, "/relative-redirect/2")
    assert "Redirecting..." in first.text
    absolute = client.get("/redirect/2?absolute=true")
    assert absolute.headers["location"] == f"{server.url}/absolute-redirect/1"
    assert client.get("/relative-redirect/1").headers["location"] == "/get"
    assert client.get("/absolute-redirect/1").headers["location"] == f"{server.url}/get"
    followed = client.get("/redirect/4", follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url).endswith("/get")
    assert client.get("/redirect/0").status_code == 400
    assert client.get("/redirect/-1").status_code == 404
    to = client.post("/redirect-to?url=/xyz&status_code=307")
    assert (to.status_code, to.headers["location"]) == (307, "/xyz")
    assert client.get("/redirect-to?URL=http://e.test/&status_code=200").status_code == 302
    assert client.get("/redirect-to").status_code == 400


def test_redirects_under_a_base_path() -> None:
    with TestClient(make_app("/httpbin"), follow_redirects=False) as c:
        assert c.get("/httpbin/redirect/2").headers["location"] == "/httpbin/relative-redirect/1"
        assert c.get("/httpbin/status/303").headers["location"] == "/httpbin/redirect/1"
        assert c.get("/httpbin/cookies/set?a=1").headers["location"] == "/httpbin/cookies"
        assert 'action="/httpbin/post"' in c.get("/httpbin/forms/post").text
        assert c.get("/httpbin/openapi.json").json()["servers"] == [{"url": "/httpbin"}]
        assert c.get("/get").status_code == 404


# -- cookies -------------------------------------------------------------------


def test_cookies(client: Client) -> None:
    set_one = client.get("/cookies/set/theme/dark")
    assert set_one.status_code == 302 and set_one.headers["location"] == "/cookies"
    assert set_one.headers["set-cookie"] == "theme=dark; Path=/"
    client.get("/cookies/set?a=1&b=2", follow_redirects=True)
    shown = client.get("/cookies").json()
    assert shown == {"cookies": {"theme": "dark", "a": "1", "b": "2"}}
    gone = client.get("/cookies/delete?a", follow_redirects=True).json()
    assert gone == {"cookies": {"theme": "dark", "b": "2"}}
    assert client.get("/cookies/set?bad=a%20b").status_code == 400


def test_cookies_hide_analytics_unless_show_env(client: Client) -> None:
    headers = {"Cookie": "__utma=1; kept=2"}
    assert client.get("/cookies", headers=headers).json() == {"cookies": {"kept": "2"}}
    assert client.get("/cookies?show_env", headers=headers).json()["cookies"]["__utma"] == "1"


# -- auth ----------------------------------------------------------------------


def test_basic_and_hidden_basic_auth(client: Client) -> None:
    ok = client.get("/basic-auth/ann/s3cret", auth=("ann", "s3cret"))
    assert ok.json() == {"authenticated": True, "user": "ann"}
    refused = client.get("/basic-auth/ann/s3cret", auth=("ann", "wrong"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Basic realm="Fake Realm"'
    assert client.get("/basic-auth/ann/s3cret").status_code == 401
    assert client.get("/hidden-basic-auth/ann/pw", auth=("ann", "pw")).status_code == 200
    assert client.get("/hidden-basic-auth/ann/pw", auth=("ann", "no")).status_code == 404
    garbage = client.get("/basic-auth/a/b", headers={"Authorization": "Basic !!!"})
    assert garbage.status_code == 401


def test_bearer(client: Client) -> None:
    refused = client.get("/bearer")
    assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
    ok = client.get("/bearer", headers={"Authorization": "Bearer abc.def"})
    assert ok.json() == {"authenticated": True, "token": "abc.def"}


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest_auth_with_the_client(server: ServerThread, algorithm: str) -> None:
    with Client(base_url=server.url, trust_env=False, auth=DigestAuth("ann", "pw")) as c:
        response = c.get(f"/digest-auth/auth/ann/pw/{algorithm}")
        assert response.json() == {"authenticated": True, "user": "ann"}
    with Client(base_url=server.url, trust_env=False, auth=DigestAuth("ann", "no")) as c:
        assert c.get(f"/digest-auth/auth/ann/pw/{algorithm}").status_code == 401


def _digest_header(
    challenge: str, method: str, uri: str, user: str, password: str, body: bytes = b""
) -> str:
    params = parse_auth_params(challenge.partition(" ")[2])
    algorithm = params["algorithm"]
    qop = params["qop"].split(",")[-1].strip()

    def h(data: str | bytes) -> str:
        raw = data.encode() if isinstance(data, str) else data
        return hashlib.new(algorithm.replace("-", "").lower(), raw).hexdigest()

    ha1 = h(f"{user}:{params['realm']}:{password}")
    ha2 = h(f"{method}:{uri}:{h(body)}") if qop == "auth-int" else h(f"{method}:{uri}")
    cnonce, nc = "0a4f113b", "00000001"
    answer = h(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:{qop}:{ha2}")
    return (
        f'Digest username="{user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
        f'uri="{uri}", algorithm={algorithm}, qop={qop}, nc={nc}, cnonce="{cnonce}", '
        f'response="{answer}", opaque="{params["opaque"]}"'
    )


@pytest.mark.parametrize(
    ("qop", "algorithm"), [("auth-int", "SHA-512"), ("auth-int", "MD5"), ("auth", "SHA-512")]
)
def test_digest_auth_by_hand(client: Client, qop: str, algorithm: str) -> None:
    uri = f"/digest-auth/{qop}/ann/pw/{algorithm}"
    challenge = client.get(uri)
    assert challenge.status_code == 401
    header = challenge.headers["www-authenticate"]
    assert header.startswith('Digest realm="me@kennethreitz.com", nonce="')
    assert f'qop="{qop}", algorithm={algorithm}, stale=False' in header
    assert challenge.headers.get_list("set-cookie") == [
        "stale_after=never; Path=/",
        "fake=fake_value; Path=/",
    ]
    answer = _digest_header(header, "GET", uri, "ann", "pw")
    assert client.get(uri, headers={"Authorization": answer}).json()["authenticated"] is True
    wrong = _digest_header(header, "GET", uri, "ann", "nope")
    assert client.get(uri, headers={"Authorization": wrong}).status_code == 401
    other_user = _digest_header(header, "GET", uri, "bob", "pw")
    assert client.get(uri, headers={"Authorization": other_user}).status_code == 401


def test_digest_stale_after_and_replayed_nonce(client: Client) -> None:
    uri = "/digest-auth/auth/ann/pw/MD5/1"
    header = client.get(uri).headers["www-authenticate"]
    assert client.cookies.get("stale_after") == "1"
    answer = _digest_header(header, "GET", uri, "ann", "pw")
    ok = client.get(uri, headers={"Authorization": answer})
    assert ok.status_code == 200
    assert client.cookies.get("stale_after") == "0"
    stale = client.get(uri, headers={"Authorization": answer})
    assert stale.status_code == 401 and "stale=True" in stale.headers["www-authenticate"]
    again = client.get(uri, headers={"Authorization": answer})  # the nonce now seen before
    assert again.status_code == 401 and "stale=True" in again.headers["www-authenticate"]


def test_digest_require_cookie(client: Client) -> None:
    uri = "/digest-auth/auth/ann/pw?require-cookie=true"
    header = client.get(uri).headers["www-authenticate"]
    answer = _digest_header(header, "GET", uri, "ann", "pw")
    client.cookies.clear()
    no_cookie = client.get(uri, headers={"Authorization": answer, "Cookie": "x=1"})
    assert no_cookie.status_code == 403
    assert no_cookie.json() == {"errors": ["missing cookie set on challenge"]}
    client.cookies.clear()
    cookie = {"Authorization": answer, "Cookie": "fake=fake_value"}
    assert client.get(uri, headers=cookie).status_code == 200


def test_auth_params_parser() -> None:
    assert parse_auth_params('a=b, c="d, \\"e\\"",f=,  g') == {"a": "b", "c": 'd, "e"', "f": ""}


# -- response formats ----------------------------------------------------------


def test_compressed_bodies(client: Client) -> None:
    for path, flag, encoding in (
        ("/gzip", "gzipped", "gzip"),
        ("/deflate", "deflated", "deflate"),
        ("/brotli", "brotli", "br"),
    ):
        response = client.get(path)
        assert response.headers["content-encoding"] == encoding
        body = response.json()  # decoded by the client
        assert body[flag] is True and body["method"] == "GET"
        assert list(body) == sorted(["headers", "method", "origin", flag])
    with client.stream("GET", "/gzip") as response:
        raw = b"".join(response.iter_raw())
    assert json.loads(gzip.decompress(raw))["gzipped"] is True
    with client.stream("GET", "/deflate") as response:
        raw = b"".join(response.iter_raw())
    assert json.loads(zlib.decompress(raw))["deflated"] is True


def test_stored_brotli_decodes() -> None:
    brotli = pytest.importorskip("brotli")
    for data in (b"", b"x", os.urandom(70_000) + b"tail", b"a" * 131_072):
        assert brotli.decompress(_stored_brotli(data)) == data


def test_fixed_pages(client: Client) -> None:
    utf8 = client.get("/encoding/utf8")
    assert utf8.headers["content-type"] == "text/html; charset=utf-8"
    assert "Σὲ γνωρίζω" in utf8.text
    html = client.get("/html")
    assert "<h1>Herman Melville - Moby-Dick</h1>" in html.text
    assert client.get("/json").json()["slideshow"]["author"] == "Yours Truly"
    xml = client.get("/xml")
    assert xml.headers["content-type"] == "application/xml"
    assert xml.text.startswith("<?xml version='1.0' encoding='us-ascii'?>")
    robots = client.get("/robots.txt")
    assert robots.headers["content-type"] == "text/plain"
    assert robots.text == "User-agent: *\nDisallow: /deny\n"
    assert "YOU SHOULDN'T BE HERE" in client.get("/deny").text
    form = client.get("/forms/post").text
    assert '<form method="post" action="/post">' in form and 'name="custname"' in form


# -- dynamic data --------------------------------------------------------------


def test_base64(client: Client) -> None:
    assert client.get("/base64/SFRUUEJJTiBpcyBhd2Vzb21l").text == "HTTPBIN is awesome"
    assert client.get("/base64/4pyTIMOgIGxhIG1vZGU=").text == "✓ à la mode"
    wrong = client.get("/base64/!x")
    assert wrong.status_code == 200 and wrong.text.startswith("Incorrect Base64 data")


def test_bytes_and_stream_bytes(client: Client) -> None:
    seeded = client.get("/bytes/16?seed=7")
    assert seeded.headers["content-type"] == "application/octet-stream"
    random.seed(7)
    assert seeded.content == bytes(random.randint(0, 255) for _ in range(16))
    assert len(client.get("/bytes/200000").content) == 100 * 1024
    assert client.get("/bytes/-1").status_code == 404
    assert client.get("/bytes/abc").status_code == 404
    assert client.get("/bytes/4?seed=x").status_code == 400
    streamed = client.get("/stream-bytes/100?seed=7&chunk_size=7")
    assert streamed.headers.get("transfer-encoding") == "chunked"
    random.seed(7)
    assert streamed.content == bytes(random.randint(0, 255) for _ in range(100))
    assert len(client.get("/stream-bytes/999999").content) == 100 * 1024
    assert client.get("/stream-bytes/4?chunk_size=x").status_code == 400


def test_stream(client: Client) -> None:
    lines = client.get("/stream/3").text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [0, 1, 2]
    assert json.loads(lines[0])["url"].endswith("/stream/3")
    assert len(client.get("/stream/1000").text.splitlines()) == 100


def test_range(client: Client) -> None:
    whole = client.get("/range/30")
    assert whole.status_code == 200 and whole.content == b"abcdefghijklmnopqrstuvwxyzabcd"
    assert whole.headers["etag"] == "range30" and whole.headers["accept-ranges"] == "bytes"
    part = client.get("/range/30", headers={"Range": "bytes=5-9"})
    assert (part.status_code, part.content) == (206, b"fghij")
    assert part.headers["content-range"] == "bytes 5-9/30"
    tail = client.get("/range/30", headers={"Range": "bytes=-4"})
    assert (tail.status_code, tail.content) == (206, b"abcd")
    outside = client.get("/range/30", headers={"Range": "bytes=40-"})
    assert outside.status_code == 416 and outside.headers["content-range"] == "bytes */30"
    too_big = client.get("/range/102401")
    assert too_big.status_code == 404 and too_big.headers["etag"] == "range102401"
    assert client.get("/range/0").status_code == 404
    chunked = client.get("/range/26?chunk_size=5&duration=0.05")
    assert chunked.content == b"abcdefghijklmnopqrstuvwxyz"


def test_drip(client: Client) -> None:
    start = time.monotonic()
    response = client.get("/drip?numbytes=5&duration=0.25&code=201")
    assert time.monotonic() - start >= 0.2
    assert (response.status_code, response.content) == (201, b"*****")
    assert response.headers["content-length"] == "5"
    assert client.get("/drip?numbytes=0").status_code == 400
    assert client.get("/drip?numbytes=x").status_code == 400
    assert client.get("/drip?code=700").status_code == 400
    assert client.get("/drip?duration=-1").status_code == 400
    many = client.get("/drip?numbytes=25000&duration=0")
    assert many.content == b"*" * 25000


def test_delay(client: Client) -> None:
    start = time.monotonic()
    body = client.post("/delay/0.2", data={"a": "b"}).json()
    assert time.monotonic() - start >= 0.2
    assert body["form"] == {"a": "b"} and "json" not in body
    for bad in ("-1", "abc", "nan"):
        assert client.get(f"/delay/{bad}").status_code == 400


async def _call_until_disconnect(path: str, query: bytes = b"") -> float:
    """Run the app for ``path`` with a client that disconnects after 0.1 s; the time it took."""
    app = make_app()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"test")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(0.1)
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    start = time.monotonic()
    await asyncio.wait_for(app(scope, receive, send), 5)
    return time.monotonic() - start


async def test_delay_and_drip_stop_when_the_client_goes() -> None:
    assert await _call_until_disconnect("/delay/10") < 2
    assert await _call_until_disconnect("/drip", b"delay=10") < 2
    assert await _call_until_disconnect("/drip", b"duration=10&numbytes=5") < 2


def test_links(client: Client) -> None:
    start = client.get("/links/3")
    assert (start.status_code, start.headers["location"]) == (302, "/links/3/0")
    page = client.get("/links/3/1").text
    assert page == (
        "<html><head><title>Links</title></head><body><a href='/links/3/0'>0</a> 1 "
        "<a href='/links/3/2'>2</a> </body></html>"
    )
    assert client.get("/links/500/0").text.count("<a href") == 199


# -- caching -------------------------------------------------------------------


def test_cache(client: Client) -> None:
    fresh = client.get("/cache")
    assert fresh.status_code == 200 and fresh.headers["last-modified"].endswith(" GMT")
    assert len(fresh.headers["etag"]) == 32
    assert client.get("/cache", headers={"If-None-Match": "x"}).status_code == 304
    modified = {"If-Modified-Since": fresh.headers["last-modified"]}
    assert client.get("/cache", headers=modified).status_code == 304
    assert client.get("/cache/60").headers["cache-control"] == "public, max-age=60"


def test_etag(client: Client) -> None:
    response = client.get("/etag/abc")
    assert response.headers["etag"] == "abc" and response.json()["url"].endswith("/etag/abc")
    assert client.get("/etag/abc", headers={"If-None-Match": '"x", "abc"'}).status_code == 304
    assert client.get("/etag/abc", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/etag/abc", headers={"If-Match": '"x"'}).status_code == 412
    assert client.get("/etag/abc", headers={"If-Match": 'W/"abc"'}).status_code == 200


# -- images --------------------------------------------------------------------


def test_images(client: Client) -> None:
    magic = {
        "png": b"\x89PNG\r\n\x1a\n",
        "jpeg": b"\xff\xd8\xff",
        "webp": b"RIFF",
        "svg": b"<svg",
    }
    for kind, start in magic.items():
        response = client.get(f"/image/{kind}")
        assert response.content.startswith(start)
        assert response.headers["content-type"].startswith("image/")
    assert client.get("/image/jpeg").content.endswith(b"\xff\xd9")
    by_accept = {
        "image/webp,*/*": "image/webp",
        "image/svg+xml": "image/svg+xml",
        "image/jpeg": "image/jpeg",
        "image/*": "image/png",
    }
    for accept, media_type in by_accept.items():
        response = client.get("/image", headers={"Accept": accept})
        assert response.headers["content-type"] == media_type
    refused = client.get("/image", headers={"Accept": "text/plain"})
    assert refused.status_code == 406 and refused.json()["accept"][0] == "image/webp"


# -- the rest ------------------------------------------------------------------


def test_openapi(client: Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec == json.loads(json.dumps(openapi()))
    assert spec["openapi"].startswith("3.")
    assert "get" in spec["paths"]["/get"] and "post" in spec["paths"]["/anything"]
    assert spec["paths"]["/bytes/{n}"]["get"]["parameters"][0]["schema"] == {"type": "integer"}


def test_every_documented_path_is_served() -> None:
    app = make_app()
    with TestClient(app, follow_redirects=False) as c:
        samples = {"codes": "200", "n": "1", "numbytes": "1", "offset": "0", "value": "1"}
        for path, item in openapi()["paths"].items():
            concrete = path
            for name in ("codes", "n", "numbytes", "offset", "value", "anything", "user",
                         "passwd", "qop", "algorithm", "stale_after", "name", "etag",
                         "delay"):  # fmt: skip
                concrete = concrete.replace("{" + name + "}", samples.get(name, "0"))
            if concrete == "/drip":
                concrete += "?duration=0"
            for method in item:
                response = c.request(method.upper(), concrete)
                assert response.status_code < 500, (method, concrete)
                if not concrete.startswith("/hidden-basic-auth"):
                    assert response.status_code not in (404, 405), (method, concrete)


def test_csrf_exempt_under_an_app_with_sessions() -> None:
    app = App(secret_key="k" * 32)
    app.include(router())

    @app.get("/login")
    async def login(request: Any) -> dict[str, bool]:
        request.session["user"] = "ann"
        return {"ok": True}

    with TestClient(app) as c:
        c.get("/login")
        response = c.post("/post", data={"a": "1"}, headers={"Origin": "https://evil.example"})
        assert response.status_code == 200 and response.json()["form"] == {"a": "1"}
        assert "set-cookie" not in response.headers


# -- curl ----------------------------------------------------------------------


def _curl(*args: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LC_ALL": "C"}
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--noproxy", "*", "--max-time", "10", *args],
        capture_output=True,
        env=env,
        check=True,
        timeout=20,
    )
    return done.stdout.decode("utf-8")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_with_curl(server: ServerThread) -> None:
    body = json.loads(_curl(f"{server.url}/get?x=1", "-H", "X-Test: yes"))
    assert body["args"] == {"x": "1"} and body["headers"]["X-Test"] == "yes"
    assert body["headers"]["User-Agent"].startswith("curl/")
    posted = json.loads(_curl(f"{server.url}/post", "-F", "f=@-;filename=a.txt", "-F", "k=v"))
    assert posted["form"] == {"k": "v"} and posted["files"] == {"f": ""}
    followed = json.loads(_curl("-L", f"{server.url}/redirect/2"))
    assert followed["url"] == f"{server.url}/get"
    assert json.loads(_curl("--compressed", f"{server.url}/gzip"))["gzipped"] is True
    authed = json.loads(_curl("--digest", "-u", "ann:pw", f"{server.url}/digest-auth/auth/ann/pw"))
    assert authed == {"authenticated": True, "user": "ann"}
    status = _curl("-o", "/dev/null", "-w", "%{http_code}", f"{server.url}/status/418")
    assert status == "418"
    encoded = base64.urlsafe_b64encode(b"curl works").decode()
    assert _curl(f"{server.url}/base64/{encoded}") == "curl works"
