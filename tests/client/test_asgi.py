"""ASGITransport: an ASGI app called in-process, streaming for real."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
from typing import Any

import pytest

from transom.client import ASGITransport, AsyncClient, Client
from transom.client._blocking import BlockingBackend, _ThreadChannel


async def _read_body(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    body = await _read_body(receive)
    payload = {
        "method": scope["method"],
        "path": scope["path"],
        "raw_path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "body": body.decode(),
        "client": list(scope["client"]),
        "server": list(scope["server"]),
        "root_path": scope["root_path"],
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def test_asgi_transport_builds_scope_from_request() -> None:
    transport = ASGITransport(echo_app, client=("10.0.0.1", 5000), root_path="/app")
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/a%20b", params={"q": "1"}, headers={"X-Test": "yes"})
    data = response.json()
    assert data["method"] == "GET"
    assert data["path"] == "/app/a b"
    assert data["raw_path"] == "/app/a%20b"
    assert data["query"] == "q=1"
    assert data["headers"]["x-test"] == "yes"
    assert data["headers"]["host"] == "testserver"
    assert data["client"] == ["10.0.0.1", 5000]
    assert data["server"] == ["testserver", 80]
    assert data["root_path"] == "/app"


def test_asgi_transport_works_under_sync_client() -> None:
    with Client(transport=ASGITransport(echo_app), base_url="http://testserver") as client:
        response = client.post("/items", json={"a": 1})
    assert response.status_code == 200
    assert response.json()["body"] == '{"a":1}'
    assert response.json()["headers"]["content-type"] == "application/json"


async def test_asgi_transport_streams_request_body_in_pieces() -> None:
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            seen.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def body() -> Any:
        yield b"one"
        yield b"two"

    async with AsyncClient(transport=ASGITransport(app)) as client:
        response = await client.post("http://testserver/", content=body())
    assert response.status_code == 204
    assert seen == [b"one", b"two", b""]


def _gated_app(gate: Any) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await gate()
        await send({"type": "http.response.body", "body": b"second"})

    return app


async def test_asgi_transport_streams_response_before_app_finishes() -> None:
    release = asyncio.Event()

    async def gate() -> None:
        await release.wait()

    transport = ASGITransport(_gated_app(gate))
    async with (
        AsyncClient(transport=transport) as client,
        client.stream("GET", "http://testserver/") as response,
    ):
        chunks = response.aiter_bytes()
        assert await anext(chunks) == b"first"  # the app is still blocked on the gate
        release.set()
        assert await anext(chunks) == b"second"


def test_asgi_transport_streams_before_app_finishes_under_sync_client() -> None:
    release = threading.Event()

    async def gate() -> None:
        await asyncio.get_running_loop().run_in_executor(None, release.wait)

    with (
        Client(transport=ASGITransport(_gated_app(gate))) as client,
        client.stream("GET", "http://testserver/") as response,
    ):
        chunks = response.iter_bytes()
        assert next(chunks) == b"first"
        release.set()
        assert next(chunks) == b"second"


async def test_asgi_transport_close_early_cancels_app() -> None:
    cancelled = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 100, "more_body": True})
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with AsyncClient(transport=ASGITransport(app)) as client:
        async with client.stream("GET", "http://testserver/") as response:
            async for _ in response.aiter_bytes():
                break
        await asyncio.wait_for(cancelled.wait(), 5)


async def test_asgi_transport_raises_app_exception() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("boom")

    async with AsyncClient(transport=ASGITransport(app)) as client:
        with pytest.raises(LookupError, match="boom"):
            await client.get("http://testserver/")


async def test_asgi_transport_raises_exception_after_response_started() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise LookupError("mid-body")

    async with AsyncClient(transport=ASGITransport(app)) as client:
        with pytest.raises(LookupError, match="mid-body"):
            await client.get("http://testserver/")


async def test_asgi_transport_answers_500_when_not_raising() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise LookupError("boom")

    transport = ASGITransport(app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport) as client:
        response = await client.get("http://testserver/")
    assert response.status_code == 500


async def test_asgi_transport_receive_reports_disconnect_after_response() -> None:
    messages: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await _read_body(receive)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        messages.append((await receive())["type"])

    async with AsyncClient(transport=ASGITransport(app)) as client:
        response = await client.get("http://testserver/")
    assert response.text == "done"
    assert messages == ["http.disconnect"]


def _lifespan_app(events: list[str]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["db"] = "ready"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})

    return app


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_asgi_transport_runs_lifespan(kind: str) -> None:
    events: list[str] = []
    transport = ASGITransport(_lifespan_app(events), lifespan=True)
    if kind == "sync":
        with Client(transport=transport) as client:
            assert client.get("http://testserver/").text == "ready"
    else:
        async with AsyncClient(transport=transport) as client:
            assert (await client.get("http://testserver/")).text == "ready"
    assert events == ["lifespan.startup", "lifespan.shutdown"]


async def test_asgi_transport_lifespan_tolerates_apps_without_it() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async with AsyncClient(transport=ASGITransport(app, lifespan=True)) as client:
        assert (await client.get("http://testserver/")).text == "ok"


def test_asgi_transport_close_early_cancels_app_under_sync_client() -> None:
    cancelled = threading.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 100, "more_body": True})
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with Client(transport=ASGITransport(app)) as client:
        with client.stream("GET", "http://testserver/") as response:
            next(response.iter_bytes())
        assert cancelled.is_set()  # closing waited for the app to unwind


def test_asgi_transport_close_stops_an_app_that_never_suspends_under_sync_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The race, made certain: the caller closes the response while the app is
    # running on the portal's loop (here: blocked in it), so the cancellation,
    # sent across threads, is still queued when the app next sends. The app's
    # sends never suspend (the channel has room), so only send() itself can stop it.
    closed = threading.Event()

    class SignallingChannel(_ThreadChannel):
        def close(self) -> None:
            super().close()
            closed.set()

    monkeypatch.setattr(
        BlockingBackend, "channel", lambda self, n: SignallingChannel(self.portal.loop, n)
    )
    outcome: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        closed.wait(10)  # holds the loop: the cancellation cannot land before the next send
        try:
            for _ in range(1000):
                await send({"type": "http.response.body", "body": b"x", "more_body": True})
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("ran on unheard")

    with Client(transport=ASGITransport(app)) as client:
        with client.stream("GET", "http://testserver/") as response:
            next(response.iter_bytes())
        assert closed.is_set()
        assert outcome == ["cancelled"]


def _portal_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "transom-client-portal"}


def test_asgi_transport_portal_ends_when_an_unclosed_client_is_collected() -> None:
    before = _portal_threads()
    client = Client(transport=ASGITransport(echo_app))
    assert client.get("http://testserver/").status_code == 200
    (thread,) = _portal_threads() - before
    del client
    gc.collect()
    thread.join(30)  # a bound for a broken build, not a timing expectation
    assert not thread.is_alive()
