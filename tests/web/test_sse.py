from __future__ import annotations

import asyncio

import pytest

from transom.client import ASGITransport, AsyncClient
from transom.web.sse import PING, EventSourceResponse, ServerSentEvent


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (ServerSentEvent("hi"), b"data: hi\n\n"),
        (ServerSentEvent(""), b"data: \n\n"),
        (ServerSentEvent("a\nb"), b"data: a\ndata: b\n\n"),
        (ServerSentEvent("a\r\nb\rc\n"), b"data: a\ndata: b\ndata: c\ndata: \n\n"),
        (ServerSentEvent({"n": 1, "s": "é"}), b'data: {"n":1,"s":"\xc3\xa9"}\n\n'),
        (ServerSentEvent([1, 2]), b"data: [1,2]\n\n"),
        (
            ServerSentEvent("x", event="update", id="42", retry=3000),
            b"event: update\nid: 42\nretry: 3000\ndata: x\n\n",
        ),
        (ServerSentEvent(comment="keep\nalive"), b": keep\n: alive\n\n"),
        (ServerSentEvent(id=""), b"id: \n\n"),
    ],
    ids=[
        "plain",
        "empty",
        "lf",
        "crlf-cr-trailing",
        "json-dict",
        "json-list",
        "all-fields",
        "comment",
        "id-reset",
    ],
)
def test_sse_event_encoding(event, wire):
    assert event.encode() == wire


@pytest.mark.parametrize(
    "event",
    [
        ServerSentEvent("x", event="a\nb"),
        ServerSentEvent("x", event="a\rb"),
        ServerSentEvent("x", id="1\n2"),
        ServerSentEvent("x", id="1\x002"),
        ServerSentEvent("x", retry=-1),
        ServerSentEvent("x", retry="10"),
        ServerSentEvent(float("nan")),
    ],
    ids=["event-lf", "event-cr", "id-lf", "id-nul", "retry-negative", "retry-str", "nan"],
)
def test_sse_event_invalid_fields_raise(event):
    with pytest.raises(ValueError):
        event.encode()


def test_sse_headers():
    response = EventSourceResponse(iter([]))
    h = response.headers
    assert h["content-type"] == "text/event-stream; charset=utf-8"
    assert h["cache-control"] == "no-cache"
    assert h["x-accel-buffering"] == "no"
    assert "content-length" not in h


def test_sse_custom_headers_win():
    response = EventSourceResponse(iter([]), headers={"Cache-Control": "no-store"})
    assert response.headers["cache-control"] == "no-store"


def test_sse_bad_ping_interval():
    with pytest.raises(ValueError, match="ping_interval"):
        EventSourceResponse(iter([]), ping_interval=0)


class Peer:
    """A client for direct ASGI calls: records messages, disconnects on demand."""

    def __init__(self, on_send=None):
        self.messages = []
        self.requested = False
        self.gone = asyncio.Event()
        self.on_send = on_send

    async def receive(self):
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message):
        self.messages.append(message)
        if self.on_send is not None:
            self.on_send(self, message)

    async def run(self, response, method="GET"):
        scope = {"type": "http", "method": method, "path": "/", "headers": []}
        await response(scope, self.receive, self.send)

    @property
    def bodies(self):
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


async def test_sse_streams_every_item_kind():
    async def events():
        yield "plain"
        yield {"data": {"k": 1}, "event": "json"}
        yield ServerSentEvent("obj", id="3")

    peer = Peer()
    await peer.run(EventSourceResponse(events()))
    assert peer.messages[0]["status"] == 200
    assert b"".join(peer.bodies) == (
        b'data: plain\n\nevent: json\ndata: {"k":1}\n\nid: 3\ndata: obj\n\n'
    )
    assert peer.messages[-1] == {"type": "http.response.body", "body": b""}


async def test_sse_sync_iterator_runs_in_thread():
    peer = Peer()
    await peer.run(EventSourceResponse(iter(["a", "b"])))
    assert b"".join(peer.bodies) == b"data: a\n\ndata: b\n\n"


async def test_sse_bad_item_raises_type_error():
    peer = Peer()
    with pytest.raises(TypeError, match="yield a str"):
        await peer.run(EventSourceResponse(iter([b"bytes"])))


async def test_sse_pings_while_idle():
    resume = asyncio.Event()

    async def events():
        yield "first"
        await resume.wait()  # idle until the client has seen a ping
        yield "second"

    def on_send(peer, message):
        if message.get("body") == PING:
            resume.set()

    peer = Peer(on_send)
    await peer.run(EventSourceResponse(events(), ping_interval=0.01))
    bodies = [b for b in peer.bodies if b]
    assert bodies[0] == b"data: first\n\n"
    assert PING in bodies[1:-1]
    assert bodies[-1] == b"data: second\n\n"


async def test_sse_disconnect_stops_and_closes_iterator():
    closed = asyncio.Event()

    async def events():
        try:
            yield "one"
            await asyncio.Event().wait()  # nothing more, ever
            yield "never"
        finally:
            closed.set()

    def on_send(peer, message):
        if message.get("body", b"").startswith(b"data: one"):
            peer.gone.set()

    peer = Peer(on_send)
    await peer.run(EventSourceResponse(events(), ping_interval=None))
    assert closed.is_set()
    assert peer.bodies == [b"data: one\n\n"]  # no end-of-body after a disconnect


async def test_sse_send_failure_closes_iterator():
    closed = asyncio.Event()

    async def events():
        try:
            while True:
                yield "tick"
        finally:
            closed.set()

    async def send(message):
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    async def receive():
        await asyncio.Event().wait()

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await EventSourceResponse(events())(scope, receive, send)
    assert closed.is_set()


async def test_sse_head_sends_no_events():
    started = False

    async def events():
        nonlocal started
        started = True
        yield "x"

    peer = Peer()
    await peer.run(EventSourceResponse(events()), "HEAD")
    assert peer.bodies == [b""]
    assert not started


async def test_sse_end_to_end_client_reads_then_leaves():
    closed = asyncio.Event()

    async def events():
        try:
            n = 0
            while True:
                n += 1
                yield ServerSentEvent(str(n), event="count")
                await asyncio.sleep(0)
        finally:
            closed.set()

    async def app(scope, receive, send):
        await EventSourceResponse(events())(scope, receive, send)

    client = AsyncClient(transport=ASGITransport(app), base_url="http://testserver")
    async with client, client.stream("GET", "/events") as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        lines = []
        async for line in response.aiter_lines():
            lines.append(line)
            if len(lines) == 6:
                break
    assert lines == ["event: count", "data: 1", "", "event: count", "data: 2", ""]
    await asyncio.wait_for(closed.wait(), 10)


async def test_sse_sync_generator_is_closed_at_the_end():
    closed = []

    def events():
        try:
            yield "a"
        finally:
            closed.append(True)

    peer = Peer()
    await peer.run(EventSourceResponse(events()))
    assert b"".join(peer.bodies) == b"data: a\n\n"
    assert closed == [True]


async def test_sse_over_a_real_socket_stops_when_the_client_leaves():
    from transom.server.config import ServerConfig
    from transom.server.server import Server

    closed = asyncio.Event()

    async def events():
        try:
            yield ServerSentEvent("hello", event="greeting")
            await asyncio.Event().wait()  # idle: only pings from now on
        finally:
            closed.set()

    async def app(scope, receive, send):
        await EventSourceResponse(events(), ping_interval=0.05)(scope, receive, send)

    server = Server(ServerConfig(app, port=0, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await server.started.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert b"transfer-encoding: chunked" in head.lower()
        received = b""
        while b": ping" not in received:
            received += await reader.read(1024)
        assert b"event: greeting\ndata: hello\n\n" in received
        writer.close()
        await asyncio.wait_for(closed.wait(), 30)
    finally:
        server.request_shutdown()
        await task
