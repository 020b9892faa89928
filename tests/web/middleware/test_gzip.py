from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from transom.exceptions import ConfigurationError
from transom.web.middleware.gzip import CompressionMiddleware, GZipMiddleware, choose_encoding
from transom.web.responses import PlainTextResponse, Response, StreamingResponse

TEXT = "lorem ipsum dolor sit amet " * 100


def respond(response_factory):
    async def app(scope, receive, send):
        await response_factory()(scope, receive, send)

    return app


big = respond(lambda: PlainTextResponse(TEXT))
small = respond(lambda: PlainTextResponse("tiny"))


async def chunks():
    for i in range(5):
        yield f"chunk {i} " * 50


streaming = respond(lambda: StreamingResponse(chunks(), media_type="text/plain"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", "gzip"),
        ("br, gzip", "br"),
        ("gzip, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("identity", None),
        ("GZIP;Q=0.1", "gzip"),
        ("gzip;q=abc", None),
        ("", None),
    ],
)
def test_gzip_choose_encoding_respects_qvalues(header, expected):
    assert choose_encoding(header, ["br", "gzip"]) == expected


async def test_gzip_compresses_whole_body_with_exact_length(call):
    r = await call(GZipMiddleware(big), headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert int(r.headers["content-length"]) == len(r.body)
    assert gzip.decompress(r.body).decode() == TEXT


async def test_gzip_middleware_never_picks_brotli(call):
    r = await call(GZipMiddleware(big), headers={"Accept-Encoding": "br, gzip"})
    assert r.headers["content-encoding"] == "gzip"


async def test_gzip_compression_picks_brotli_when_preferred(call):
    r = await call(CompressionMiddleware(big), headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br"
    assert brotli.decompress(r.body).decode() == TEXT


async def test_gzip_refused_encoding_sends_identity_with_vary(call):
    r = await call(GZipMiddleware(big), headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.body.decode() == TEXT


async def test_gzip_skips_small_bodies(call):
    r = await call(GZipMiddleware(small), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.body == b"tiny"


async def test_gzip_streams_chunk_by_chunk_and_drops_length(call):
    r = await call(GZipMiddleware(streaming), headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert "content-length" not in r.headers
    bodies = [m["body"] for m in r.messages[1:]]
    assert len([b for b in bodies if b]) >= 5  # one flushed piece per app chunk
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first = decoder.decompress(bodies[0])
    assert first.decode() == "chunk 0 " * 50  # readable before the stream ends
    assert gzip.decompress(r.body).decode() == "".join(f"chunk {i} " * 50 for i in range(5))


async def test_gzip_streams_brotli(call):
    app = CompressionMiddleware(streaming)
    r = await call(app, headers={"Accept-Encoding": "br"})
    assert brotli.decompress(r.body).decode() == "".join(f"chunk {i} " * 50 for i in range(5))


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Encoding": "br"},
        {"Content-Type": "text/event-stream"},
        {"Content-Type": "image/png"},
        {"Content-Type": "application/gzip"},
        {"Content-Range": "bytes 0-2999/5000"},
    ],
    ids=["encoded", "sse", "image", "gzip-type", "partial"],
)
async def test_gzip_leaves_some_responses_alone(call, headers):
    app = GZipMiddleware(respond(lambda: Response(TEXT, headers=headers)))
    r = await call(app, headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == headers.get("Content-Encoding")
    assert r.body.decode() == TEXT


async def test_gzip_compresses_svg(call):
    app = GZipMiddleware(respond(lambda: Response(TEXT, media_type="image/svg+xml")))
    r = await call(app, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"


async def test_gzip_leaves_head_alone(call):
    r = await call(GZipMiddleware(big, minimum_size=0), "HEAD", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.headers["content-length"] == str(len(TEXT))


async def test_gzip_merges_existing_vary(call):
    app = GZipMiddleware(respond(lambda: PlainTextResponse(TEXT, headers={"Vary": "Cookie"})))
    r = await call(app, headers={"Accept-Encoding": "gzip"})
    assert r.headers["vary"] == "Cookie, Accept-Encoding"


async def test_gzip_passes_pathsend_through(call):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": "/x"})

    r = await call(GZipMiddleware(app), headers={"Accept-Encoding": "gzip"})
    assert [m["type"] for m in r.messages] == ["http.response.start", "http.response.pathsend"]


@pytest.mark.parametrize(
    "kwargs",
    [{"compresslevel": 10}, {"brotli_quality": 12}, {"encodings": ["zstd"]}, {"encodings": "br"}],
)
def test_gzip_bad_configuration_raises(kwargs):
    with pytest.raises(ConfigurationError):
        CompressionMiddleware(big, **kwargs)


async def test_gzip_small_streamed_body_with_length_is_left_alone(call):
    async def app(scope, receive, send):
        headers = [(b"content-length", b"4"), (b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ti", "more_body": True})
        await send({"type": "http.response.body", "body": b"ny"})

    r = await call(GZipMiddleware(app), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.body == b"tiny"


async def test_gzip_weakens_strong_etag_and_drops_accept_ranges(call):
    headers = {"ETag": '"abc"', "Accept-Ranges": "bytes"}
    app = GZipMiddleware(respond(lambda: PlainTextResponse(TEXT, headers=headers)))
    r = await call(app, headers={"Accept-Encoding": "gzip"})
    assert r.headers["etag"] == 'W/"abc"'
    assert "accept-ranges" not in r.headers
    r = await call(app, headers={"Accept-Encoding": "identity"})
    assert r.headers["etag"] == '"abc"'


def test_gzip_in_an_app_streaming_decoded_by_the_client():
    from transom.testing import TestClient
    from transom.web.application import App

    app = App()

    @app.get("/stream")
    async def stream(request):
        return StreamingResponse(chunks(), media_type="text/plain")

    app.add_middleware(GZipMiddleware)
    with TestClient(app) as client:
        r = client.get("/stream", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.text == "".join(f"chunk {i} " * 50 for i in range(5))


async def test_gzip_small_body_without_length_is_left_alone(call):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"tiny"})

    r = await call(GZipMiddleware(app), headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.body == b"tiny"


async def test_gzip_vary_already_naming_accept_encoding_is_kept(call):
    headers = {"Vary": "accept-encoding"}
    app = GZipMiddleware(respond(lambda: PlainTextResponse(TEXT, headers=headers)))
    r = await call(app, headers={"Accept-Encoding": "gzip,,"})
    assert r.headers["vary"] == "accept-encoding"
    assert r.headers["content-encoding"] == "gzip"
