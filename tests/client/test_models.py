"""Request and Response: body access, encodings, errors for misuse."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from transom.client import AsyncClient, Client, MockTransport, Request, Response
from transom.client.models import ByteStream
from transom.exceptions import (
    DecodingError,
    HTTPStatusError,
    ResponseNotRead,
    StreamClosed,
    StreamConsumed,
)


def _streamed(*chunks: bytes, headers: Any = None) -> Response:
    async def gen() -> Any:
        for chunk in chunks:
            yield chunk

    return Response(200, headers=headers, stream=ByteStream(gen()))


@pytest.mark.parametrize(
    ("content_type", "body", "encoding", "text"),
    [
        ("text/plain; charset=latin-1", "café".encode("latin-1"), "iso8859-1", "café"),
        ("text/plain", "café".encode(), "utf-8", "café"),
        ("text/plain; charset=nonsense", b"abc", "utf-8", "abc"),
        ('text/html; charset="UTF-16"', "hi".encode("utf-16"), "utf-16", "hi"),
    ],
    ids=["latin-1", "default-utf8", "unknown-charset", "quoted"],
)
def test_response_text_uses_charset(
    content_type: str, body: bytes, encoding: str, text: str
) -> None:
    response = Response(200, headers={"content-type": content_type}, content=body)
    assert response.encoding == encoding
    assert response.text == text


def test_response_json_error_is_decoding_error() -> None:
    with pytest.raises(DecodingError, match="not valid JSON"):
        Response(200, content=b"{nope").json()


def test_response_content_is_decoded() -> None:
    response = Response(200, headers={"content-encoding": "gzip"}, content=gzip.compress(b"hello"))
    assert response.content == b"hello"
    assert list(response.iter_raw()) == [gzip.compress(b"hello")]


@pytest.mark.parametrize(
    ("status", "raises"), [(200, False), (302, False), (404, True), (500, True)]
)
def test_response_raise_for_status(status: int, raises: bool) -> None:
    response = Response(status, request=Request("GET", "http://example.org/x"))
    if raises:
        with pytest.raises(HTTPStatusError, match=f"{status}.*http://example.org/x") as info:
            response.raise_for_status()
        assert info.value.response is response
    else:
        assert response.raise_for_status() is response


def test_response_stream_content_before_read_raises() -> None:
    response = _streamed(b"a")
    with pytest.raises(ResponseNotRead):
        _ = response.content
    assert response.read() == b"a"
    assert response.content == b"a"


def test_response_stream_twice_raises() -> None:
    response = _streamed(b"a", b"b")
    assert list(response.iter_raw()) == [b"a", b"b"]
    with pytest.raises(StreamConsumed):
        list(response.iter_raw())


def test_response_read_after_close_raises() -> None:
    response = _streamed(b"a")
    response.close()
    with pytest.raises(StreamClosed):
        response.read()


def test_response_iter_text_and_lines() -> None:
    response = _streamed("é\nb".encode()[:1], "é\nb".encode()[1:], b"\r\nlast")
    assert list(response.iter_lines()) == ["é", "b", "last"]


async def test_response_async_iteration() -> None:
    response = _streamed(b"x", b"y")
    assert [chunk async for chunk in response.aiter_bytes()] == [b"x", b"y"]
    assert response.closed


def test_request_content_for_streamed_body_raises() -> None:
    request = Request("POST", "http://example.org/", content=None)
    assert request.content == b""
    from transom.client._content import BodyStream

    streamed = Request("POST", "http://example.org/", content=BodyStream(iter([b"a"])))
    with pytest.raises(ResponseNotRead):
        _ = streamed.content


def test_mock_transport_sync_and_async() -> None:
    def handler(request: Request) -> Response:
        return Response(201, content=request.url.path.encode())

    with Client(transport=MockTransport(handler)) as client:
        assert client.get("http://example.org/ok").text == "/ok"


async def test_mock_transport_async_handler() -> None:
    async def handler(request: Request) -> Response:
        return Response(202)

    async with AsyncClient(transport=MockTransport(handler)) as client:
        assert (await client.get("http://example.org/")).status_code == 202


def test_client_build_request_without_sending() -> None:
    client = Client(transport=MockTransport(lambda r: Response(200)), base_url="http://h/api")
    request = client.build_request("GET", "/users", params={"page": 2})
    assert str(request.url) == "http://h/api/users?page=2"
    assert request.headers["host"] == "h"
    assert "content-length" not in request.headers


@pytest.mark.parametrize(
    "kwargs",
    [{"json": {"a": float("nan")}}, {"content": 12}],
    ids=["nan-json", "int-content"],
)
def test_client_rejects_unsendable_bodies(kwargs: dict[str, Any]) -> None:
    client = Client(transport=MockTransport(lambda r: Response(200)))
    with pytest.raises((TypeError, ValueError)):
        client.build_request("POST", "http://h/", **kwargs)


@pytest.mark.parametrize(
    "method", ["GET /x HTTP/1.1\r\nX: y", "G ET", ""], ids=["crlf", "space", "empty"]
)
def test_request_rejects_invalid_method(method: str) -> None:
    from transom.exceptions import LocalProtocolError

    with pytest.raises(LocalProtocolError, match="invalid HTTP method"):
        Request(method, "http://example.org/")
