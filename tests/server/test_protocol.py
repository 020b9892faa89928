"""The protocol over real sockets: scopes, keep-alive, pipelining, 100-continue, errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from transom._types import Receive, Scope, Send

from .rawhttp import RawClient, get, hello_app, scope_app


@pytest.fixture(params=["llhttp", "python"])
def serve(request: pytest.FixtureRequest, serve: Any) -> Any:
    """Every test here runs on both parser backends of the connection core."""

    async def start(app: Any, **options: Any) -> Any:
        options.setdefault("http_parser", request.param)
        return await serve(app, **options)

    return start


async def test_protocol_scope_is_complete(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    response = await client.request(get("/caf%C3%A9/x%2Fy?a=1&b=%20", "X-Thing: Yes"))
    scope = response.json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/café/x/y"
    assert scope["raw_path"] == "/caf%C3%A9/x%2Fy"
    assert scope["query_string"] == "a=1&b=%20"
    assert scope["root_path"] == ""
    assert ["x-thing", "Yes"] in scope["headers"]
    assert scope["client"][0] == "127.0.0.1"
    assert scope["server"] == ["127.0.0.1", server.port]


async def test_protocol_absolute_form_authority_wins_over_host(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    response = await client.request(get("http://example.com:8080/p?q=1"))
    scope = response.json()
    assert (scope["path"], scope["query_string"]) == ("/p", "q=1")
    assert [h for h in scope["headers"] if h[0] == "host"] == [["host", "example.com:8080"]]


async def test_protocol_root_path_prefixes_path(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app, root_path="/api")
    client = await client_factory(server.port)
    scope = (await client.request(get("/users"))).json()
    assert (scope["root_path"], scope["path"], scope["raw_path"]) == (
        "/api",
        "/api/users",
        "/api/users",
    )


async def test_protocol_keep_alive_serves_many_requests(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    for _ in range(5):
        response = await client.request(get("/"))
        assert (response.status, response.body) == (200, b"hello")
    assert response.header(b"date") is not None


async def test_protocol_pipelined_requests_answered_in_order(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    client.send(b"".join(get(f"/{i}") for i in range(16)))
    paths = [(await client.response()).json()["path"] for _ in range(16)]
    assert paths == [f"/{i}" for i in range(16)]


async def test_protocol_pipelined_responses_leave_in_one_write(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    client.send(get("/") * 16)
    first = await asyncio.wait_for(client.reader.read(1 << 20), 5)
    assert first.count(b"HTTP/1.1 200 OK") == 16


async def test_protocol_pipelined_behind_slow_app_stay_in_order(
    serve: Any, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        delay = 0.05 if scope["path"] == "/slow" else 0
        await asyncio.sleep(delay)
        body = scope["path"].encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    server = await serve(app)
    client = await client_factory(server.port)
    client.send(get("/slow") + get("/fast") + get("/slow") + get("/fast"))
    bodies = [(await client.response()).body for _ in range(4)]
    assert bodies == [b"/slow", b"/fast", b"/slow", b"/fast"]


async def test_protocol_http10_closes_after_response(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    response = await client.request(get("/", version="1.0"))
    assert response.status == 200
    assert await client.is_closed()


async def test_protocol_http10_keep_alive_when_asked(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    for _ in range(2):
        response = await client.request(get("/", "Connection: keep-alive", version="1.0"))
        assert response.status == 200


async def test_protocol_connection_close_request_closes(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    response = await client.request(get("/", "Connection: close"))
    assert response.status == 200
    assert await client.is_closed()


async def test_protocol_head_response_has_no_body(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    response = await client.request(get("/", method="HEAD"), head=True)
    assert response.header(b"content-length") == b"5"
    follow = await client.request(get("/"))
    assert follow.body == b"hello"


async def test_protocol_streaming_response_is_chunked(serve: Any, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one ", b"two ", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    server = await serve(app, lifespan="off")
    client = await client_factory(server.port)
    response = await client.request(get("/"))
    assert response.header(b"transfer-encoding") == b"chunked"
    assert response.body == b"one two three"


async def test_protocol_request_body_delivered(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    body = b"x" * 300_000
    head = f"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n"
    response = await client.request(head.encode() + body)
    assert response.json()["body_size"] == len(body)


async def test_protocol_chunked_request_body_delivered(serve: Any, client_factory: Any) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    request = (
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    assert (await client.request(request)).json()["body_size"] == 11


async def test_protocol_expect_continue_sent_when_body_wanted(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(scope_app)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    interim = await client.response()
    assert interim.status == 100
    client.send(b"data")
    assert (await client.response()).json()["body_size"] == 4


async def test_protocol_expect_continue_not_sent_if_body_ignored(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    response = await client.response()
    assert response.status == 200  # no 100 first: the app never asked for the body


async def test_protocol_disconnect_reaches_app(serve: Any) -> None:
    seen: asyncio.Queue[str] = asyncio.Queue()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await receive()  # the (empty) body
        seen.put_nowait((await receive())["type"])  # then: wait for the client to go

    server = await serve(app)
    client = await RawClient.connect(server.port)
    client.send(get("/"))
    await asyncio.sleep(0.05)
    await client.close()
    assert await asyncio.wait_for(seen.get(), 5) == "http.disconnect"


async def test_protocol_send_after_disconnect_raises_oserror(serve: Any) -> None:
    outcome: asyncio.Queue[BaseException | None] = asyncio.Queue()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await receive()
        await receive()  # returns once the client is gone
        try:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        except OSError as exc:
            outcome.put_nowait(exc)
            raise
        outcome.put_nowait(None)

    server = await serve(app)
    client = await RawClient.connect(server.port)
    client.send(get("/"))
    await asyncio.sleep(0.05)
    await client.close()
    assert isinstance(await asyncio.wait_for(outcome.get(), 5), OSError)


async def test_protocol_app_exception_before_start_gives_500(
    serve: Any, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raise RuntimeError("secret internals")

    server = await serve(app)
    client = await client_factory(server.port)
    response = await client.request(get("/"))
    assert response.status == 500
    assert b"secret" not in response.body
    assert "secret internals" in caplog.text
    assert (await client.request(get("/"))).status == 500  # the connection lives on


async def test_protocol_app_exception_after_start_closes(serve: Any, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("boom")

    server = await serve(app)
    client = await client_factory(server.port)
    client.send(get("/"))
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 200 OK")
    assert not data.endswith(b"0\r\n\r\n")  # no terminating chunk: the client sees the cut


async def test_protocol_app_returning_without_response_gives_500(
    serve: Any, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    server = await serve(app, lifespan="off")
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).status == 500


async def test_protocol_invalid_message_order_gives_500(serve: Any, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.body", "body": b"no start"})

    server = await serve(app)
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).status == 500


async def test_protocol_header_injection_from_app_gives_500(
    serve: Any, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"x-evil", b"a\r\nset-cookie: stolen=1")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x"})

    server = await serve(app)
    client = await client_factory(server.port)
    client.send(get("/"))
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 500")
    assert b"stolen" not in data


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GARBAGE\r\n\r\n", id="no-version"),
        pytest.param(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", id="no-colon"),
        pytest.param(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", id="bad-length"),
    ],
)
async def test_protocol_malformed_request_gets_400_and_close(
    serve: Any, client_factory: Any, request_bytes: bytes
) -> None:
    server = await serve(hello_app)
    client = await client_factory(server.port)
    client.send(request_bytes)
    data = await client.read_until_closed()
    assert data.startswith(b"HTTP/1.1 400")


async def test_protocol_state_is_shallow_copy_per_request(serve: Any, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            scope["state"]["db"] = "connection"
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = ",".join(sorted(scope["state"])).encode()
        scope["state"]["leak"] = True  # must not reach the next request
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    server = await serve(app)
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).body == b"db"
    assert (await client.request(get("/"))).body == b"db"


async def test_protocol_app_sees_current_task_from_first_line(
    serve: Any, client_factory: Any
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        async with asyncio.timeout(5):  # needs asyncio.current_task() at once
            await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    server = await serve(app)
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).status == 200


async def test_protocol_app_connection_close_header_closes(serve: Any, client_factory: Any) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"connection", b"close")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"bye"})

    server = await serve(app)
    client = await client_factory(server.port)
    client.send(get("/") + get("/"))  # the second request is never answered
    assert (await client.response()).body == b"bye"
    assert await client.read_until_closed() == b""
