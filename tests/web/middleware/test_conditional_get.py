"""ConditionalGetMiddleware (transom/web/conditional.py): ETags and 304s for dynamic responses."""

from __future__ import annotations

from transom.http.dates import format_http_date
from transom.web.conditional import ConditionalGetMiddleware, body_etag
from transom.web.responses import PlainTextResponse, StreamingResponse

AT = format_http_date(1_700_000_000.0)
AFTER = format_http_date(1_700_000_060.0)


def app_returning(factory):
    async def app(scope, receive, send):
        await factory()(scope, receive, send)

    return app


hello = ConditionalGetMiddleware(app_returning(lambda: PlainTextResponse("hello")))


async def test_conditional_middleware_adds_etag(call):
    r = await call(hello)
    assert r.headers["etag"] == body_etag(b"hello")
    assert r.body == b"hello"


async def test_conditional_middleware_answers_304(call):
    r = await call(hello, headers={"If-None-Match": body_etag(b"hello")})
    assert r.status == 304
    assert r.body == b""
    assert r.headers["etag"] == body_etag(b"hello")
    assert "content-length" not in r.headers


async def test_conditional_middleware_changed_body_gets_200(call):
    r = await call(hello, headers={"If-None-Match": body_etag(b"old")})
    assert (r.status, r.body) == (200, b"hello")


async def test_conditional_middleware_uses_app_etag_and_last_modified(call):
    headers = {"ETag": '"mine"', "Last-Modified": AT}
    app = ConditionalGetMiddleware(app_returning(lambda: PlainTextResponse("x", headers=headers)))
    assert (await call(app, headers={"If-None-Match": '"mine"'})).status == 304
    assert (await call(app, "HEAD", headers={"If-None-Match": '"mine"'})).status == 304


async def test_conditional_middleware_if_modified_since_with_hashed_etag(call):
    headers = {"Last-Modified": AT}
    app = ConditionalGetMiddleware(app_returning(lambda: PlainTextResponse("x", headers=headers)))
    assert (await call(app, headers={"If-Modified-Since": AFTER})).status == 304


async def test_conditional_middleware_streamed_body_untouched(call):
    async def parts():
        yield "a"
        yield "b"

    app = ConditionalGetMiddleware(app_returning(lambda: StreamingResponse(parts())))
    r = await call(app, headers={"If-None-Match": "*"})
    assert (r.status, r.body) == (200, b"ab")
    assert "etag" not in r.headers


async def test_conditional_middleware_ignores_errors_and_posts(call):
    app = ConditionalGetMiddleware(
        app_returning(lambda: PlainTextResponse("gone", status_code=404))
    )
    r = await call(app, headers={"If-None-Match": "*"})
    assert r.status == 404
    assert "etag" not in r.headers
    r = await call(hello, "POST", headers={"If-None-Match": "*"})
    assert r.status == 200


async def test_conditional_middleware_passes_pathsend_through(call):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/x"})

    r = await call(ConditionalGetMiddleware(app), headers={"If-None-Match": "*"})
    assert [m["type"] for m in r.messages] == ["http.response.start", "http.response.pathsend"]
    assert r.status == 200
