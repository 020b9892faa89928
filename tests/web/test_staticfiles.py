from __future__ import annotations

import asyncio
import gzip
import os
from contextlib import asynccontextmanager

import brotli
import pytest

from transom.client import ASGITransport, AsyncClient
from transom.exceptions import ConfigurationError
from transom.server.config import ServerConfig
from transom.server.server import Server
from transom.web.staticfiles import StaticFiles

SECRET = b"TOP SECRET"


@pytest.fixture
def root(tmp_path):
    """static/ with files, subdirectories and symlinks; a secret beside it."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_bytes(SECRET)
    static = tmp_path / "static"
    static.mkdir()
    (static / "hello.txt").write_text("hello, world\n")
    (static / "app.js").write_text("console.log('hi')\n" * 50)
    (static / "app.js.gz").write_bytes(gzip.compress(b"from the gz file"))
    (static / "app.js.br").write_bytes(brotli.compress(b"from the br file"))
    (static / "style.css").write_text("body{}\n")
    (static / "style.css.gz").write_bytes(gzip.compress(b"css gz"))
    (static / "docs").mkdir()
    (static / "docs" / "index.html").write_text("<h1>docs</h1>")
    (static / "empty").mkdir()
    (static / "index.html").write_text("<h1>home</h1>")
    (static / "404.html").write_text("<h1>custom 404</h1>")
    (static / ".env").write_text("PASSWORD=x")
    (static / ".well-known").mkdir()
    (static / ".well-known" / "security.txt").write_text("Contact: me")
    (static / "link_out").symlink_to(tmp_path / "outside")
    (static / "link_secret").symlink_to(tmp_path / "secret.txt")
    (static / "link_in").symlink_to(static / "hello.txt")
    (static / "leak.txt").write_text("identity")
    (static / "leak.txt.gz").symlink_to(tmp_path / "secret.txt")
    return static


@asynccontextmanager
async def client_for(app):
    transport = ASGITransport(app)
    async with AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as client:
        yield client


async def fetch(app, path, method="GET", headers=None):
    headers = {"Accept-Encoding": "identity", **(headers or {})}
    async with client_for(app) as client:
        return await client.request(method, path, headers=headers)


async def call_scope(app, path, root_path=""):
    """Call with a scope as the server builds it: ``path`` already percent-decoded."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": root_path,
        "headers": [(b"host", b"testserver")],
        "query_string": b"",
    }
    messages = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        messages.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return messages[0]["status"], body


async def test_staticfiles_serves_a_file(root):
    r = await fetch(StaticFiles(root), "/hello.txt")
    assert r.status_code == 200
    assert r.text == "hello, world\n"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["accept-ranges"] == "bytes"
    assert "etag" in r.headers
    assert "last-modified" in r.headers


async def test_staticfiles_missing_is_404(root):
    r = await fetch(StaticFiles(root), "/nope.txt")
    assert (r.status_code, r.text) == (404, "Not Found")


async def test_staticfiles_directory_without_html_is_404(root):
    assert (await fetch(StaticFiles(root), "/docs")).status_code == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
async def test_staticfiles_other_methods_are_405(root, method):
    r = await fetch(StaticFiles(root), "/hello.txt", method)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


async def test_staticfiles_head(root):
    r = await fetch(StaticFiles(root), "/hello.txt", "HEAD")
    assert r.status_code == 200
    assert r.headers["content-length"] == "13"
    assert r.content == b""


async def test_staticfiles_etag_304(root):
    app = StaticFiles(root)
    first = await fetch(app, "/hello.txt")
    again = await fetch(app, "/hello.txt", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    dated = await fetch(
        app, "/hello.txt", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert dated.status_code == 304


async def test_staticfiles_range(root):
    r = await fetch(StaticFiles(root), "/hello.txt", headers={"Range": "bytes=7-11"})
    assert (r.status_code, r.text) == (206, "world")
    assert r.headers["content-range"] == "bytes 7-11/13"


async def test_staticfiles_cache_control(root):
    app = StaticFiles(root, cache_control="public, max-age=3600")
    r = await fetch(app, "/hello.txt")
    assert r.headers["cache-control"] == "public, max-age=3600"
    r = await fetch(app, "/hello.txt", headers={"If-None-Match": r.headers["etag"]})
    assert r.headers["cache-control"] == "public, max-age=3600"


# -- html mode -----------------------------------------------------------------


async def test_staticfiles_html_serves_index(root):
    app = StaticFiles(root, html=True)
    r = await fetch(app, "/")
    assert r.text == "<h1>home</h1>"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    r = await fetch(app, "/docs/")
    assert r.text == "<h1>docs</h1>"


async def test_staticfiles_html_redirects_directory_to_slash(root):
    async with client_for(StaticFiles(root, html=True)) as client:
        r = await client.get("/docs?x=1")
        assert r.status_code == 307
        assert r.headers["location"] == "./docs/?x=1"
        followed = await client.get("/docs", follow_redirects=True)
        assert followed.text == "<h1>docs</h1>"


async def test_staticfiles_html_custom_404(root):
    app = StaticFiles(root, html=True)
    for path in ("/nope", "/empty/"):
        r = await fetch(app, path)
        assert (r.status_code, r.text) == (404, "<h1>custom 404</h1>")


async def test_staticfiles_html_404_ignores_conditionals(root):
    r = await fetch(StaticFiles(root, html=True), "/nope", headers={"If-None-Match": "*"})
    assert r.status_code == 404


# -- precompressed siblings ----------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "encoding", "text"),
    [
        ("gzip", "gzip", "from the gz file"),
        ("gzip, br", "br", "from the br file"),
        ("br;q=0.5, gzip", "gzip", "from the gz file"),
        ("identity", None, "console.log('hi')\n" * 50),
        ("gzip;q=0, br;q=0", None, "console.log('hi')\n" * 50),
    ],
    ids=["gzip", "br-preferred", "q-values", "identity", "refused"],
)
async def test_staticfiles_precompressed_selection(root, accept, encoding, text):
    r = await fetch(StaticFiles(root), "/app.js", headers={"Accept-Encoding": accept})
    assert r.headers.get("content-encoding") == encoding
    assert r.headers["content-type"] == "text/javascript; charset=utf-8"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.text == text


async def test_staticfiles_precompressed_has_its_own_etag(root):
    app = StaticFiles(root)
    plain = await fetch(app, "/style.css")
    gz = await fetch(app, "/style.css", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert plain.headers["etag"] != gz.headers["etag"]


async def test_staticfiles_range_always_gets_identity(root):
    headers = {"Accept-Encoding": "gzip", "Range": "bytes=0-6"}
    r = await fetch(StaticFiles(root), "/app.js", headers=headers)
    assert r.status_code == 206
    assert "content-encoding" not in r.headers
    assert r.text == "console"


async def test_staticfiles_precompressed_off(root):
    app = StaticFiles(root, precompressed=False)
    r = await fetch(app, "/app.js", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert "vary" not in r.headers


async def test_staticfiles_no_vary_without_siblings(root):
    r = await fetch(StaticFiles(root), "/hello.txt", headers={"Accept-Encoding": "gzip"})
    assert "vary" not in r.headers


async def test_staticfiles_sibling_symlink_out_is_not_served(root):
    r = await fetch(StaticFiles(root), "/leak.txt", headers={"Accept-Encoding": "gzip"})
    assert r.text == "identity"
    assert "content-encoding" not in r.headers


# -- no way out ------------------------------------------------------------------

NASTY = [
    "/../secret.txt",
    "/docs/../../secret.txt",
    "/docs/./../../secret.txt",
    "/..",
    "/../",
    "/../static/../secret.txt",
    "/..\\secret.txt",
    "/docs\\..\\..\\secret.txt",
    "/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt",
    "/..%2fsecret.txt",
    "/docs/..%5c..%5csecret.txt",
    "/hello.txt\x00.png",
    "/\x00",
    "//secret.txt",
    "/" + str(os.sep) + "etc/passwd",
    "/C:/Windows/win.ini",
    "/c:secret.txt",
    "/link_out/secret.txt",
    "/link_secret",
    "/.env",
    "/docs/../.env",
    "/" + "a/" * 5000,
    "/" + "x" * 5000,
]


@pytest.mark.parametrize("path", NASTY, ids=[repr(p)[:40] for p in NASTY])
async def test_staticfiles_no_escape(root, path):
    status, body = await call_scope(StaticFiles(root), path)
    assert status == 404
    assert SECRET not in body


@pytest.mark.parametrize("path", NASTY[:6], ids=[repr(p) for p in NASTY[:6]])
async def test_staticfiles_lookup_refuses_traversal(root, path):
    assert StaticFiles(root).lookup(path) is None


async def test_staticfiles_symlink_inside_is_served(root):
    status, body = await call_scope(StaticFiles(root), "/link_in")
    assert (status, body) == (200, b"hello, world\n")


async def test_staticfiles_follow_symlinks_allows_outside_targets(root):
    status, body = await call_scope(StaticFiles(root, follow_symlinks=True), "/link_out/secret.txt")
    assert (status, body) == (200, SECRET)
    status, _ = await call_scope(StaticFiles(root, follow_symlinks=True), "/../secret.txt")
    assert status == 404


async def test_staticfiles_well_known_is_served(root):
    status, body = await call_scope(StaticFiles(root), "/.well-known/security.txt")
    assert (status, body) == (200, b"Contact: me")


async def test_staticfiles_dotfiles_when_allowed(root):
    status, body = await call_scope(StaticFiles(root, allow_dotfiles=True), "/.env")
    assert (status, body) == (200, b"PASSWORD=x")


@pytest.mark.parametrize(
    ("path", "root_path"),
    [("/static/hello.txt", "/static"), ("/hello.txt", "/static"), ("/hello.txt", "")],
    ids=["path-includes-root", "path-relative", "no-mount"],
)
async def test_staticfiles_mounted_route_path(root, path, root_path):
    status, body = await call_scope(StaticFiles(root), path, root_path)
    assert (status, body) == (200, b"hello, world\n")


async def test_staticfiles_websocket_is_refused(root):
    sent = []

    async def send(message):
        sent.append(message)

    await StaticFiles(root)({"type": "websocket", "path": "/"}, None, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


def test_staticfiles_missing_directory_raises(tmp_path):
    with pytest.raises(ConfigurationError, match="check_dir=False"):
        StaticFiles(tmp_path / "nope")
    StaticFiles(tmp_path / "nope", check_dir=False)


# -- over a real socket ----------------------------------------------------------

RAW_TARGETS = [
    b"/../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/%2e%2e/secret.txt",
    b"/docs/%2e%2e/%2e%2e/secret.txt",
    b"/..%2fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/..%5csecret.txt",
    b"/%00",
    b"/link_out/secret.txt",
]


@pytest.fixture
async def served_root(root):
    """A real server (port 0) for ``root``; yields its port, stops it after."""
    server = Server(ServerConfig(StaticFiles(root), port=0, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    started = asyncio.create_task(server.started.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if not started.done():  # serve() ended before listening: show why, do not wait forever
        started.cancel()
        task.result()
        pytest.fail("the server stopped before it started")
    try:
        yield server.port
    finally:
        server.request_shutdown()
        await task


async def test_staticfiles_no_escape_over_the_wire(served_root):
    port = served_root
    for target in RAW_TARGETS:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        response = await reader.read()
        writer.close()
        await writer.wait_closed()
        status = int(response.split(b" ", 2)[1])
        assert status in (400, 404), target
        assert SECRET not in response, target
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert response.startswith(b"HTTP/1.1 200 ")
    assert response.endswith(b"\r\n\r\nhello, world\n")


def test_staticfiles_mounted_in_an_app(root):
    from transom.testing import TestClient
    from transom.web.application import App

    app = App()
    app.mount("/static", StaticFiles(root, html=True))
    with TestClient(app) as client:
        r = client.get("/static/hello.txt", headers={"Range": "bytes=0-4"})
        assert (r.status_code, r.text) == (206, "hello")
        r = client.get("/static/docs", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (307, "./docs/")
        assert client.get("/static/docs").text == "<h1>docs</h1>"
        assert client.get("/static").text == "<h1>home</h1>"
        assert client.get("/static/../secret.txt").status_code == 404
        r = client.get("/static/app.js", headers={"Accept-Encoding": "br"})
        assert (r.headers["content-encoding"], r.text) == ("br", "from the br file")


async def test_staticfiles_file_deleted_after_stat_is_404(root, monkeypatch):
    import transom.web.files as files_module

    def vanished(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(files_module, "open", vanished, raising=False)
    status, body = await call_scope(StaticFiles(root), "/hello.txt")
    assert (status, body) == (404, b"Not Found")


# -- versioned URLs: file_hash and the immutable Cache-Control -----------------


def _sha12(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:12]


def test_staticfiles_file_hash_is_sha256_prefix(root):
    assert StaticFiles(root).file_hash("hello.txt") == _sha12(b"hello, world\n")


@pytest.mark.parametrize(
    "path", ["nope.txt", "docs", "../secret.txt", "link_secret", ".env"], ids=str
)
def test_staticfiles_file_hash_none_for_what_is_not_served(root, path):
    assert StaticFiles(root).file_hash(path) is None


def test_staticfiles_file_hash_recheck_sees_a_changed_file(root):
    static = StaticFiles(root)
    before = static.file_hash("hello.txt")
    (root / "hello.txt").write_text("changed, and longer\n")
    assert static.file_hash("hello.txt", recheck=False) == before  # no stat: cached
    assert static.file_hash("hello.txt") == _sha12(b"changed, and longer\n")
    assert static.file_hash("hello.txt", recheck=False) == _sha12(b"changed, and longer\n")


async def test_staticfiles_current_version_is_immutable(root):
    app = StaticFiles(root, cache_control="public, max-age=60")
    digest = app.file_hash("hello.txt")
    r = await fetch(app, f"/hello.txt?v={digest}")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["v=000000000000", "v=", "x=1", ""], ids=repr)
async def test_staticfiles_other_version_gets_usual_cache_control(root, query):
    app = StaticFiles(root, cache_control="public, max-age=60")
    r = await fetch(app, f"/hello.txt?{query}")
    assert r.headers["cache-control"] == "public, max-age=60"


async def test_staticfiles_old_version_after_change_is_not_immutable(root):
    app = StaticFiles(root)
    old = app.file_hash("hello.txt")
    (root / "hello.txt").write_text("new content\n")
    r = await fetch(app, f"/hello.txt?v={old}")
    assert r.text == "new content\n"
    assert "cache-control" not in r.headers
    fresh = await fetch(app, f"/hello.txt?v={_sha12(b'new content' + bytes([10]))}")
    assert fresh.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_staticfiles_version_hashed_without_file_hash_call(root):
    # A worker that never rendered the page still knows the hash (it hashes once).
    app = StaticFiles(root)
    r = await fetch(app, f"/style.css?v={_sha12(b'body{}' + bytes([10]))}")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_staticfiles_version_hashed_once_per_file_version(root, monkeypatch):
    app = StaticFiles(root)
    calls = []
    real_hash = app._hash

    def counting(path, st):
        calls.append(path)
        return real_hash(path, st)

    monkeypatch.setattr(app, "_hash", counting)
    for _ in range(3):
        await fetch(app, "/app.js?v=0123456789ab")
    assert len(calls) == 1


async def test_staticfiles_precompressed_version_is_immutable(root):
    app = StaticFiles(root)
    digest = app.file_hash("app.js")
    r = await fetch(app, f"/app.js?v={digest}", headers={"Accept-Encoding": "br"})
    assert r.headers["content-encoding"] == "br"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
