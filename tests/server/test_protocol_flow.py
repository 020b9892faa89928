"""The protocol driven through a fake transport: writes per batch and flow control."""

from __future__ import annotations

import asyncio
from typing import Any

from transom._types import ASGIApp, Receive, Scope, Send
from transom.server.config import ServerConfig
from transom.server.protocol import HttpProtocol
from transom.server.state import ServerState

from .rawhttp import get, hello_app


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.reading = True
        self.closed = False
        self.pauses = 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(name)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def pause_reading(self) -> None:
        self.reading = False
        self.pauses += 1

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def connect(app: ASGIApp, **options: Any) -> tuple[HttpProtocol, FakeTransport]:
    config = ServerConfig(app, access_log=False, **options)
    state = ServerState(config, app, asyncio.get_running_loop())
    protocol = HttpProtocol(state)
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def test_flow_one_response_is_one_write() -> None:
    protocol, transport = connect(hello_app)
    protocol.data_received(get("/"))
    assert len(transport.writes) == 1
    assert transport.writes[0].endswith(b"\r\n\r\nhello")


async def test_flow_pipelined_responses_are_one_write() -> None:
    protocol, transport = connect(hello_app)
    protocol.data_received(get("/") * 16)
    assert len(transport.writes) == 1
    assert transport.writes[0].count(b"HTTP/1.1 200 OK") == 16


async def test_flow_unread_body_pauses_reading_until_consumed() -> None:
    go = asyncio.Event()
    received: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await go.wait()
        while True:
            message = await receive()
            received.append(len(message["body"]))
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    protocol, transport = connect(app, read_high_water=1000)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
    protocol.data_received(b"x" * 3000)
    assert not transport.reading  # 3000 bytes unread > 1000: stop reading
    go.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert transport.reading  # the app took the bytes and wants more
    protocol.data_received(b"x" * 2000)
    for _ in range(5):
        await asyncio.sleep(0)
    assert sum(received) == 5000
    assert transport.writes[-1].startswith(b"HTTP/1.1 204")


async def test_flow_streaming_send_waits_while_writing_paused() -> None:
    sent: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            sent.append(i)
        await send({"type": "http.response.body", "body": b""})

    protocol, _transport = connect(app)
    protocol.pause_writing()
    protocol.data_received(get("/"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert sent == []  # the first chunk is out, the app waits for the transport to drain
    protocol.resume_writing()
    for _ in range(10):
        await asyncio.sleep(0)
        if len(sent) == 3:
            break
        protocol.resume_writing()
    assert sent == [0, 1, 2]


async def test_flow_disconnect_releases_paused_writer() -> None:
    outcome: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        try:
            await send({"type": "http.response.body", "body": b"y", "more_body": True})
        except OSError:
            outcome.append("raised")

    protocol, _transport = connect(app)
    protocol.pause_writing()
    protocol.data_received(get("/"))
    await asyncio.sleep(0)
    protocol.connection_lost(None)
    for _ in range(5):
        await asyncio.sleep(0)
    assert outcome == ["raised"]


async def test_flow_continue_written_once_body_is_awaited() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    protocol, transport = connect(app)
    protocol.data_received(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
    )
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    protocol.data_received(b"hi")
    for _ in range(5):
        await asyncio.sleep(0)
    assert transport.writes[-1].startswith(b"HTTP/1.1 200 OK")


async def test_flow_async_app_response_is_one_write() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0)  # finish outside data_received
        await hello_app(scope, receive, send)

    protocol, transport = connect(app)
    protocol.data_received(get("/"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(transport.writes) == 1
    assert transport.writes[0].endswith(b"\r\n\r\nhello")


async def test_flow_app_system_exit_does_not_escape() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise SystemExit(1)

    protocol, transport = connect(app)
    protocol.data_received(get("/"))
    assert transport.writes[0].startswith(b"HTTP/1.1 500 ")


async def test_flow_client_that_stops_reading_is_dropped() -> None:
    outcome: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            while True:
                await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
        except OSError:
            outcome.append("disconnected")

    protocol, transport = connect(app, write_timeout=1.0)
    protocol.pause_writing()
    protocol.data_received(get("/"))
    protocol.check_deadline(protocol.state.clock + 0.5)
    assert not transport.closed  # still within write_timeout
    protocol.check_deadline(protocol.state.clock + 2.0)
    assert transport.closed
    protocol.connection_lost(None)
    for _ in range(5):
        await asyncio.sleep(0)
    assert outcome == ["disconnected"]


async def test_flow_no_new_request_while_client_not_reading() -> None:
    protocol, transport = connect(hello_app)
    protocol.pause_writing()
    protocol.data_received(get("/") * 3)
    assert b"".join(transport.writes).count(b"HTTP/1.1 200") == 1
    protocol.resume_writing()
    for _ in range(5):
        await asyncio.sleep(0)
    assert b"".join(transport.writes).count(b"HTTP/1.1 200") == 3


async def test_flow_big_batch_goes_out_before_the_batch_ends() -> None:
    big = b"y" * 300_000

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": big})

    protocol, transport = connect(app)
    protocol.data_received(get("/") * 2)
    assert len(transport.writes) == 2  # each response left as soon as it passed the limit


async def test_flow_body_pace_counts_only_the_time_the_app_waits() -> None:
    proceed = asyncio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            await proceed.wait()  # busy with each piece: not the client's time
            proceed.clear()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    protocol, transport = connect(app, body_timeout=10.0, body_min_rate=100)
    state = protocol.state
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n")
    await asyncio.sleep(0)
    start = state.clock
    # Nothing received yet: the grace (body_timeout) is all there is.
    assert protocol.deadline == start + 10.0
    state.clock = start + 5.0  # five seconds of waiting, then 100 bytes
    protocol.data_received(b"x" * 100)
    await asyncio.sleep(0)
    assert protocol.deadline == 0.0  # the app is busy: no body deadline
    state.clock = start + 105.0  # a hundred seconds of the app's own work
    proceed.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # 10 s grace + 100 bytes / 100 bytes/s - 5 s waited: 6 s left at this pace.
    assert protocol.deadline == state.clock + 6.0
    state.clock += 7.0
    protocol.check_deadline(state.clock)
    assert transport.writes[-1].startswith(b"HTTP/1.1 408 ")
    assert transport.closed
