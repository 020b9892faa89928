"""Responses: headers, charset, JSON, redirects, streaming, cookies."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from transom.testing import TestClient
from transom.web.application import App
from transom.web.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)


def serve(response: Response) -> TestClient:
    app = App()
    app.add_route("/", lambda: response)
    return TestClient(app)


async def run(response: Response, receive: Any = None, method: str = "GET") -> list[Any]:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def never() -> Any:
        await asyncio.Event().wait()

    await response({"type": "http", "method": method}, receive or never, send)
    return sent


def test_response_sets_content_length_and_type() -> None:
    response = Response(b"abc", media_type="image/png")
    assert response.raw_headers == [(b"content-length", b"3"), (b"content-type", b"image/png")]


@pytest.mark.parametrize(
    ("cls", "content_type"),
    [(PlainTextResponse, "text/plain; charset=utf-8"), (HTMLResponse, "text/html; charset=utf-8")],
    ids=["plain", "html"],
)
def test_response_text_types_carry_charset(cls: type[Response], content_type: str) -> None:
    response = serve(cls("héllo")).get("/")
    assert response.headers["content-type"] == content_type
    assert response.content == "héllo".encode()


def test_response_explicit_headers_win() -> None:
    response = Response("x", headers={"Content-Type": "text/csv"}, media_type="text/plain")
    assert response.headers.get_list("content-type") == ["text/csv"]


def test_response_no_body_status_has_no_content_length() -> None:
    assert Response(status_code=204).raw_headers == []


def test_response_rejects_unsupported_content() -> None:
    with pytest.raises(TypeError, match="use JSONResponse"):
        Response({"a": 1})


def test_response_header_injection_refused() -> None:
    with pytest.raises(ValueError, match="x-evil"):
        Response("x", headers={"X-Evil": "a\r\nSet-Cookie: b=1"})


async def test_response_head_sends_no_body_but_same_headers() -> None:
    sent = await run(PlainTextResponse("hello"), method="HEAD")
    assert (b"content-length", b"5") in sent[0]["headers"]
    assert sent[1] == {"type": "http.response.body", "body": b""}


def test_json_response_is_compact_utf8() -> None:
    assert JSONResponse({"a": "é", "b": [1, 2]}).body == '{"a":"é","b":[1,2]}'.encode()


def test_json_response_refuses_nan() -> None:
    with pytest.raises(ValueError, match="NaN or Infinity"):
        JSONResponse({"x": math.nan})


def test_json_response_refuses_unserialisable() -> None:
    with pytest.raises(TypeError, match="cannot send as JSON"):
        JSONResponse({"x": object()})


def test_redirect_response_quotes_url() -> None:
    response = RedirectResponse("/a b/é?q=1&r=%20")
    assert response.status_code == 307
    assert response.headers["location"] == "/a%20b/%C3%A9?q=1&r=%20"


@pytest.mark.parametrize(
    "bad", ["/a\r\nSet-Cookie: x=1", "/a\nb", "/a\x00"], ids=["crlf", "lf", "nul"]
)
def test_redirect_response_rejects_control_characters(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        RedirectResponse(bad)


def test_redirect_response_followed_by_client() -> None:
    app = App()
    app.add_route("/old", lambda: RedirectResponse("/new", status_code=303))
    app.add_route("/new", lambda: "new")
    assert TestClient(app).get("/old").text == "new"


def test_streaming_response_async_iterator() -> None:
    async def numbers() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i}\n"

    response = serve(StreamingResponse(numbers(), media_type="text/plain")).get("/")
    assert response.text == "0\n1\n2\n"
    assert "content-length" not in response.headers


def test_streaming_response_sync_iterator_runs_in_thread() -> None:
    import threading

    threads = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"a", b"b"):
            threads.append(threading.current_thread() is threading.main_thread())
            yield chunk

    assert serve(StreamingResponse(chunks())).get("/").content == b"ab"
    assert threads == [False, False]


def test_streaming_response_is_read_while_produced() -> None:
    app = App()
    gate = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"first"
        await gate.wait()
        yield b"second"

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(slow())

    @app.get("/open")
    async def open_gate() -> str:
        gate.set()
        return "ok"

    async def scenario() -> None:
        from transom.testing import AsyncTestClient

        async with AsyncTestClient(app) as client, client.stream("GET", "/stream") as response:
            chunks = response.aiter_bytes()
            assert await anext(chunks) == b"first"
            await client.get("/open")
            assert await anext(chunks) == b"second"

    asyncio.run(scenario())


async def test_streaming_response_stops_async_generator_on_disconnect() -> None:
    closed = asyncio.Event()
    disconnect = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    async def receive() -> dict[str, Any]:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)
        if len(sent) == 3:
            disconnect.set()

    await StreamingResponse(endless())({"type": "http", "method": "GET"}, receive, send)
    assert closed.is_set()


async def test_streaming_response_closes_sync_generator_on_disconnect() -> None:
    closed = []

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
        finally:
            closed.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        await asyncio.sleep(0.001)

    await StreamingResponse(endless())({"type": "http", "method": "GET"}, receive, send)
    assert closed == [True]


async def test_streaming_response_send_oserror_ends_quietly() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    async def never() -> Any:
        await asyncio.Event().wait()

    await StreamingResponse(chunks())({"type": "http", "method": "GET"}, never, send)


def test_set_cookie_secure_defaults() -> None:
    response = PlainTextResponse("x")
    response.set_cookie("theme", "dark", max_age=60)
    assert response.headers["set-cookie"] == (
        "theme=dark; Max-Age=60; Path=/; HttpOnly; SameSite=Lax"
    )


def test_set_cookie_all_options() -> None:
    response = PlainTextResponse("x")
    response.set_cookie(
        "id",
        "1",
        domain="example.com",
        path="/app",
        secure=True,
        httponly=False,
        samesite="none",
        partitioned=True,
        expires=0,
    )
    value = response.headers["set-cookie"]
    assert value.startswith("id=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Domain=example.com")
    assert "Secure" in value and "HttpOnly" not in value
    assert value.endswith("SameSite=None; Partitioned")


def test_set_cookie_invalid_value_refused() -> None:
    with pytest.raises(ValueError, match="RFC 6265"):
        PlainTextResponse("x").set_cookie("a", "b c;")


def test_delete_cookie_expires_it() -> None:
    response = PlainTextResponse("x")
    response.delete_cookie("session")
    value = response.headers["set-cookie"]
    assert "Max-Age=0" in value and "Expires=Thu, 01 Jan 1970" in value


def test_cookies_reach_test_client_jar() -> None:
    app = App()

    @app.get("/set")
    async def set_cookie() -> Response:
        response = PlainTextResponse("set")
        response.set_cookie("token", "abc")
        return response

    @app.get("/read")
    async def read(request: Any) -> dict[str, str]:
        return dict(request.cookies)

    client = TestClient(app)
    client.get("/set")
    assert client.get("/read").json() == {"token": "abc"}


async def test_streaming_response_head_closes_iterator_unread() -> None:
    closed = []

    def chunks() -> Iterator[bytes]:
        try:
            yield b"never sent"
        finally:
            closed.append(True)

    iterator = chunks()
    next(iterator, None)  # started, so close() runs its finally
    sent = await run(StreamingResponse(iterator), method="HEAD")
    assert sent[1] == {"type": "http.response.body", "body": b""}
    assert closed == [True]
