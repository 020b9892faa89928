"""Conformance: every case of the Autobahn-style table (``tests/wscases.py``)
over a raw socket against an echo app on the server, with permessage-deflate
enabled and disabled on the server.

A case's peer writes its frames, then reads the server's replies: up to
the TCP close when the case expects a close, or until its replies are in
when the endpoint is to stay open. Whether a failure came before the last
write (``fail_fast``) cannot be seen through a socket, which may coalesce
writes; the sans-IO table test covers it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from tests.wscases import CASES, Case
from transom.http.connection import Role
from transom.http.websocket import Event, client_request

from .rawhttp import WAIT, RawClient
from .test_websocket import EchoApp, StartServer, serve_ws, upgrade_request

__all__ = ["serve_ws"]  # a fixture, imported to be used here

PLAIN = [case for case in CASES if case.deflate is None]


async def run_case(port: int, case: Case) -> list[Event]:
    """Play ``case`` as the client; the events the peer saw."""
    _, headers = client_request()
    offer = case.extension_offer()
    if offer is not None:
        headers.append((b"sec-websocket-extensions", offer))
    raw = await RawClient.connect(port)
    try:
        response = await raw.request(upgrade_request(headers=headers), head=True)
        assert response.status == 101, response
        negotiated = response.header(b"sec-websocket-extensions")
        assert (negotiated is not None) == (offer is not None), negotiated
        with contextlib.suppress(ConnectionError):
            for data in case.peer_writes(Role.SERVER):
                raw.send(data)
                await raw.writer.drain()  # one write each, as the table groups them
        return await asyncio.wait_for(read_replies(raw, case), WAIT)
    finally:
        await raw.close()


async def read_replies(raw: RawClient, case: Case) -> list[Event]:
    peer = case.peer_connection(Role.SERVER)
    events: list[Event] = []
    wanted = len(case.expect.replies)
    while True:
        try:
            data = await raw.reader.read(65536)
        except ConnectionError:
            data = b""
        peer.receive_data(data)
        while (event := peer.next_event()) is not None:
            events.append(event)
        if not data:
            return events
        if case.expect.close is None and len(events) >= wanted:
            return events  # the endpoint stays open: its replies are all in


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_websocket_cases_with_deflate(serve_ws: StartServer, case: Case) -> None:
    server = await serve_ws(EchoApp(), ws_max_size=1 << 24, ws_ping_interval=None)
    case.check(await run_case(server.port, case))


@pytest.mark.parametrize("case", PLAIN, ids=[case.id for case in PLAIN])
async def test_websocket_cases_without_deflate(serve_ws: StartServer, case: Case) -> None:
    server = await serve_ws(EchoApp(), ws_per_message_deflate=False, ws_ping_interval=None)
    case.check(await run_case(server.port, case))


def test_websocket_cases_cover_the_table(request: Any) -> None:
    assert len(CASES) > 100
    assert len(PLAIN) < len(CASES)  # the deflate groups (12, 13) run with deflate only
