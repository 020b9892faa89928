"""AsyncClient and Client against real servers (uvicorn and transom's)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from transom.client import AsyncClient, Client, MockTransport, Request, Response
from transom.exceptions import TooManyRedirects, TransportError

from .servers import ServerThread


def _headers(response: Response) -> dict[str, str]:
    return dict(response.json()["headers"])


async def test_client_get_plaintext(server: ServerThread) -> None:
    async with AsyncClient() as client:
        response = await client.get(server.url + "/plaintext")
    assert response.status_code == 200
    assert response.text == "Hello, World!"
    assert response.reason_phrase == "OK"
    assert response.http_version == "HTTP/1.1"
    assert str(response.url) == server.url + "/plaintext"


def test_client_sync_get_plaintext(server: ServerThread) -> None:
    with Client() as client:
        response = client.get(server.url + "/plaintext")
    assert response.text == "Hello, World!"
    assert response.elapsed.total_seconds() > 0


async def test_client_base_url_params_and_headers(server: ServerThread) -> None:
    async with AsyncClient(
        base_url=server.url + "/", params={"a": "1"}, headers={"X-Client": "c"}
    ) as client:
        response = await client.get("echo", params={"b": ["2", "3"]}, headers={"X-Req": "r"})
    data = response.json()
    assert data["query"] == "a=1&b=2&b=3"
    headers = _headers(response)
    assert headers["x-client"] == "c"
    assert headers["x-req"] == "r"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert "gzip" in headers["accept-encoding"]


@pytest.mark.parametrize(
    ("kwargs", "body", "content_type"),
    [
        ({"json": {"a": [1, 2]}}, '{"a":[1,2]}', "application/json"),
        ({"data": {"a": "1", "b": "x y"}}, "a=1&b=x+y", "application/x-www-form-urlencoded"),
        ({"content": b"raw bytes"}, "raw bytes", None),
        ({"content": "text"}, "text", None),
        ({"data": b"raw data"}, "raw data", None),
    ],
    ids=["json", "form", "bytes", "str", "data-bytes"],
)
async def test_client_post_bodies(
    server: ServerThread, kwargs: dict[str, Any], body: str, content_type: str | None
) -> None:
    async with AsyncClient() as client:
        response = await client.post(server.url + "/echo", **kwargs)
    assert response.json()["body"] == body
    headers = _headers(response)
    assert headers.get("content-type") == content_type
    assert headers["content-length"] == str(len(body))


async def test_client_streams_iterator_body_chunked(server: ServerThread) -> None:
    async def pieces() -> Any:
        yield b"one,"
        yield b"two"

    async with AsyncClient() as client:
        response = await client.put(server.url + "/echo", content=pieces())
    assert response.json()["body"] == "one,two"
    assert _headers(response)["transfer-encoding"] == "chunked"


def test_client_sends_file_body_with_length(server: ServerThread) -> None:
    with Client() as client:
        response = client.post(server.url + "/echo", content=io.BytesIO(b"file body"))
    assert response.json()["body"] == "file body"
    assert _headers(response)["content-length"] == "9"


def test_client_uploads_files_as_multipart(server: ServerThread) -> None:
    with Client() as client:
        response = client.post(
            server.url + "/echo",
            data={"title": "notes"},
            files={"upload": ("notes.txt", io.BytesIO(b"file content"), "text/plain")},
        )
    body = response.json()["body"]
    content_type = _headers(response)["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    assert 'name="title"\r\n\r\nnotes\r\n' in body
    assert 'filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\nfile content\r\n' in body


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_client_follows_redirect(server: ServerThread, status: int) -> None:
    async with AsyncClient() as client:
        response = await client.post(
            server.url + f"/redirect/{status}", params={"to": "/echo?x=1"}, content=b"payload"
        )
    data = response.json()
    kept = status in (307, 308)
    assert data["method"] == ("POST" if kept else "GET")
    assert data["body"] == ("payload" if kept else "")
    assert data["query"] == "x=1"
    assert [r.status_code for r in response.history] == [status]
    assert "content-length" not in _headers(response) or kept


@pytest.mark.parametrize("status", [301, 302])
async def test_client_redirect_keeps_head(server: ServerThread, status: int) -> None:
    async with AsyncClient() as client:
        response = await client.head(server.url + f"/redirect/{status}?to=/plaintext")
    assert response.status_code == 200
    assert response.request is not None and response.request.method == "HEAD"


async def test_client_redirect_relative_location_resolved(server: ServerThread) -> None:
    async with AsyncClient() as client:
        response = await client.get(server.url + "/redirect/302?to=../echo?y=2")
    assert response.json()["path"] == "/echo"
    assert response.json()["query"] == "y=2"


async def test_client_redirect_not_followed_when_disabled(server: ServerThread) -> None:
    async with AsyncClient(follow_redirects=False) as client:
        response = await client.get(server.url + "/redirect/302")
    assert response.status_code == 302
    assert response.is_redirect


async def test_client_too_many_redirects(server: ServerThread) -> None:
    async with AsyncClient(max_redirects=3) as client:
        with pytest.raises(TooManyRedirects):
            await client.get(server.url + "/loop")


async def test_client_redirect_with_one_shot_body_fails_clearly(server: ServerThread) -> None:
    async def once() -> Any:
        yield b"data"

    async with AsyncClient() as client:
        with pytest.raises(Exception, match="one-shot stream"):
            await client.post(server.url + "/redirect/307", content=once())


async def test_client_redirect_drops_authorization_across_origins(
    uvicorn_server: ServerThread, transom_server: ServerThread
) -> None:
    target = transom_server.url + "/echo"
    async with AsyncClient() as client:
        response = await client.get(
            uvicorn_server.url + "/redirect/302",
            params={"to": target},
            headers={"Authorization": "Bearer secret", "Cookie": "mine=1"},
        )
    headers = _headers(response)
    assert "authorization" not in headers
    assert "cookie" not in headers


async def test_client_redirect_keeps_authorization_same_origin(server: ServerThread) -> None:
    async with AsyncClient() as client:
        response = await client.get(
            server.url + "/redirect/302", headers={"Authorization": "Bearer secret"}
        )
    assert _headers(response)["authorization"] == "Bearer secret"


async def test_client_cookies_persist_per_host(server: ServerThread) -> None:
    other = server.url.replace("127.0.0.1", "localhost")
    async with AsyncClient() as client:
        await client.get(server.url + "/set-cookie", params={"session": "abc"})
        same = await client.get(server.url + "/cookies")
        cross = await client.get(other + "/cookies")
    assert same.json() == {"cookie": "session=abc"}
    assert cross.json() == {"cookie": None}
    assert client.cookies.get("session") == "abc"


async def test_client_cookies_argument_sent(server: ServerThread) -> None:
    async with AsyncClient(cookies={"a": "1"}) as client:
        response = await client.get(server.url + "/cookies", cookies={"b": "2"})
    assert response.json()["cookie"] in ("b=2; a=1", "a=1; b=2")


async def test_client_response_cookies(server: ServerThread) -> None:
    async with AsyncClient() as client:
        response = await client.get(server.url + "/set-cookie", params={"k": "v"})
    assert response.cookies == {"k": "v"}


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
async def test_client_decodes_content_encoding(server: ServerThread, coding: str) -> None:
    async with AsyncClient() as client:
        response = await client.get(server.url + "/encoded", params={"coding": coding})
    assert response.content == b"compressed " * 100


async def test_client_stream_reads_lines(server: ServerThread) -> None:
    async with (
        AsyncClient() as client,
        client.stream("GET", server.url + "/stream", params={"n": "4"}) as response,
    ):
        lines = [line async for line in response.aiter_lines()]
    assert lines == ["line 0", "line 1", "line 2", "line 3"]


def test_client_sync_stream_iterates_bytes(server: ServerThread) -> None:
    with Client() as client, client.stream("GET", server.url + "/stream") as response:
        data = b"".join(response.iter_bytes())
    assert data == b"line 0\nline 1\nline 2\n"


async def test_client_event_hooks_called(server: ServerThread) -> None:
    seen: list[str] = []

    def on_request(request: Request) -> None:
        seen.append(f"request {request.method}")

    async def on_response(response: Response) -> None:
        seen.append(f"response {response.status_code}")

    hooks = {"request": [on_request], "response": [on_response]}
    async with AsyncClient(event_hooks=hooks) as client:
        await client.get(server.url + "/plaintext")
    assert seen == ["request GET", "response 200"]


async def test_client_raise_for_status(server: ServerThread) -> None:
    from transom.exceptions import HTTPStatusError

    async with AsyncClient() as client:
        response = await client.get(server.url + "/status/418")
    with pytest.raises(HTTPStatusError, match="418"):
        response.raise_for_status()


def test_client_one_shot_helpers(server: ServerThread) -> None:
    import transom.client

    assert transom.client.get(server.url + "/plaintext").text == "Hello, World!"
    assert transom.client.post(server.url + "/echo", json=[1]).json()["body"] == "[1]"


async def test_client_closed_refuses_requests() -> None:
    client = AsyncClient(transport=MockTransport(lambda request: Response(204)))
    await client.aclose()
    with pytest.raises(TransportError, match="closed"):
        await client.get("http://example.org/")


def test_client_sync_rejects_async_hook() -> None:
    async def hook(request: Request) -> None:
        import asyncio

        await asyncio.sleep(0)

    client = Client(
        transport=MockTransport(lambda request: Response(204)), event_hooks={"request": [hook]}
    )
    with pytest.raises(RuntimeError, match="needs an event loop"):
        client.get("http://example.org/")


def test_client_307_resends_seekable_file_body(server: ServerThread) -> None:
    with Client() as client:
        response = client.post(server.url + "/redirect/307", content=io.BytesIO(b"file data"))
    assert response.json()["method"] == "POST"
    assert response.json()["body"] == "file data"


def test_client_redirect_fragment_rules(server: ServerThread) -> None:
    # RFC 9110 §10.2.2: the Location's own fragment wins, else the original one is kept
    with Client() as client:
        own = client.get(server.url + "/redirect/302?to=/echo%23own#original")
        inherited = client.get(server.url + "/redirect/302#keep")
    assert own.url is not None and own.url.fragment == "own"
    assert inherited.url is not None and inherited.url.fragment == "keep"


async def test_client_auth_not_sent_to_redirected_origin(
    uvicorn_server: ServerThread, transom_server: ServerThread
) -> None:
    async with AsyncClient(auth=("user", "secret")) as client:
        same = await client.get(uvicorn_server.url + "/redirect/302?to=/basic")
        other = await client.get(
            uvicorn_server.url + "/redirect/302", params={"to": transom_server.url + "/basic"}
        )
    assert same.json()["authorization"].startswith("Basic ")
    assert other.json() == {"authorization": None}
