"""The client as an echo endpoint against the Autobahn-style cases of ``tests/wscases.py``.

A raw asyncio server answers the handshake, writes each case's frames
(unmasked: the endpoint is a client) and parses what the client sends back.
The client echoes every message until it is disconnected.

Two differences from a sans-IO driver, both the I/O layer's right: a
trailing close frame is written only once the replies expected before it
have arrived, as Autobahn's own fuzzing peer waits (the client parses
lazily, one message at a time, so a caller echoes each before a close
behind it is taken; but its keeper parses eagerly when the caller is away,
and a slow test machine must not turn that into a failure); and pongs, sent
by the I/O layer as soon as a ping is read, are compared in their own order
rather than interleaved with the application's echoes.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib

import pytest

from tests.wscases import CASES, Case, Role
from transom.client import AsyncClient
from transom.exceptions import WebSocketDisconnect
from transom.http.websocket import CloseReceived, Event, Pong

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_CLOSE = 0x8
_GUARD = 10.0  # seconds: only against a hang, never reached by a passing case


async def _handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, case: Case
) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    key = b""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"sec-websocket-key":
            key = value.strip()
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    answer = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + accept + b"\r\n"
    )
    extension = case.extension_answer()
    if extension is not None:
        answer += b"Sec-WebSocket-Extensions: " + extension + b"\r\n"
    writer.write(answer + b"\r\n")


class _Peer:
    """Parses the client's replies (see ``Case.peer_connection``)."""

    def __init__(self, case: Case, reader: asyncio.StreamReader) -> None:
        self.conn = case.peer_connection(Role.CLIENT)
        self.reader = reader
        self.events: list[Event] = []
        self.ended = False

    @property
    def replies(self) -> int:
        return sum(1 for event in self.events if not isinstance(event, CloseReceived))

    async def read_until(self, replies: int | None) -> None:
        while not self.ended and (replies is None or self.replies < replies):
            data = await self.reader.read(65536)
            self.conn.receive_data(data)
            while (event := self.conn.next_event()) is not None:
                self.events.append(event)
                if isinstance(event, CloseReceived):
                    self.ended = True
            if not data:
                self.ended = True


async def _serve(case: Case, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Peer:
    await _handshake(reader, writer, case)
    frames = case.frames
    held = frames[-1] if frames and frames[-1].opcode == _CLOSE else None
    before = dataclasses.replace(case, frames=frames[:-1]) if held is not None else case
    for chunk in before.peer_writes(Role.CLIENT):
        writer.write(chunk)
        await writer.drain()
    peer = _Peer(case, reader)
    await peer.read_until(len(case.expect.replies))
    if held is not None and not peer.ended:
        writer.write(held.wire(Role.CLIENT, len(frames) - 1))
        await peer.read_until(None)
    elif case.expect.close is not None:
        await peer.read_until(None)
    writer.close()
    return peer


async def _echo(port: int) -> None:
    async with (
        AsyncClient() as client,
        client.websocket(f"ws://127.0.0.1:{port}", ping_interval=None) as ws,
    ):
        try:
            while True:
                message = await ws.receive()
                if isinstance(message, str):
                    await ws.send_text(message)
                else:
                    await ws.send_bytes(message)
        except WebSocketDisconnect:
            pass


def _check(case: Case, events: list[Event]) -> None:
    pongs = [event for event in events if isinstance(event, Pong)]
    others = [event for event in events if not isinstance(event, Pong)]
    expected_pongs = [r for r in case.expect.replies if isinstance(r, Pong)]
    expected = dataclasses.replace(
        case,
        expect=dataclasses.replace(
            case.expect, replies=tuple(r for r in case.expect.replies if not isinstance(r, Pong))
        ),
    )
    assert pongs == expected_pongs, f"case {case.id}: pongs {pongs} != {expected_pongs}"
    expected.check(others)


@pytest.mark.parametrize("case", [c for c in CASES], ids=[c.id for c in CASES])
async def test_websocket_client_conformance(case: Case) -> None:
    result: asyncio.Future[_Peer] = asyncio.get_running_loop().create_future()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            result.set_result(await _serve(case, reader, writer))
        except Exception as exc:  # reported by the test, not lost in the server
            result.set_exception(exc)

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        client = asyncio.ensure_future(_echo(port))
        peer = await asyncio.wait_for(result, _GUARD)
        await asyncio.wait_for(client, _GUARD)
    finally:
        server.close()
        await server.wait_closed()
    _check(case, peer.events)
