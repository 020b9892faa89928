"""Connection and 101 Switching Protocols, both roles (RFC 9110 §7.8, §15.2.2)."""

from __future__ import annotations

import pytest

from tests.http.conftest import client, drain, server
from transom.exceptions import LocalProtocolError, RemoteProtocolError
from transom.http.connection import PAUSED, State
from transom.http.events import EndOfMessage, Request, Response

UPGRADE = (
    b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
SWITCH = Response(101, [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")])
SWITCH_WIRE = (
    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n"
)
ASK = Request(
    b"GET",
    b"/chat",
    [(b"host", b"a"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade")],
)


def test_connection_upgrade_server_switches_with_send(backend: str) -> None:
    conn = server(backend, UPGRADE)
    assert [type(e) for e in drain(conn)] == [Request, EndOfMessage]
    assert conn.send(SWITCH) == SWITCH_WIRE
    assert conn.our_state is State.SWITCHED_PROTOCOL
    assert conn.their_state is State.SWITCHED_PROTOCOL
    assert not conn.keep_alive


def test_connection_upgrade_server_switches_right_after_the_head(backend: str) -> None:
    conn = server(backend, UPGRADE)
    assert isinstance(conn.next_event(), Request)
    assert conn.send_response(SWITCH, b"") == SWITCH_WIRE
    assert conn.their_state is State.SWITCHED_PROTOCOL
    assert conn.next_event() is PAUSED


def test_connection_upgrade_server_keeps_the_new_protocol_bytes(backend: str) -> None:
    conn = server(backend, UPGRADE + b"\x81\x85abcd")
    drain(conn)
    conn.send(SWITCH)
    conn.receive_data(b"more")
    assert conn.next_event() is PAUSED
    assert conn.trailing_data == (b"\x81\x85abcdmore", False)


def test_connection_upgrade_server_refuses_101_without_upgrade(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n")
    drain(conn)
    with pytest.raises(LocalProtocolError, match="101"):
        conn.send(SWITCH)


@pytest.mark.parametrize(
    "head",
    [
        UPGRADE.replace(b"GET", b"POST", 1),
        UPGRADE.replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    ],
    ids=["post", "http10"],
)
def test_connection_upgrade_server_refuses_101_to_other_requests(backend: str, head: bytes) -> None:
    conn = server(backend, head)
    drain(conn)
    with pytest.raises(LocalProtocolError, match="101"):
        conn.send_response(SWITCH, b"")


def test_connection_upgrade_server_refuses_101_before_the_body(backend: str) -> None:
    conn = server(backend, UPGRADE.replace(b"\r\n\r\n", b"\r\nContent-Length: 5\r\n\r\n", 1))
    assert isinstance(conn.next_event(), Request)
    with pytest.raises(LocalProtocolError, match="body"):
        conn.send(SWITCH)


def test_connection_upgrade_server_refuses_a_body_with_101(backend: str) -> None:
    conn = server(backend, UPGRADE)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(SWITCH, b"no")


def test_connection_upgrade_server_refused_upgrade_stays_http(backend: str) -> None:
    conn = server(backend, UPGRADE + b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    drain(conn)
    conn.send_response(Response(403, []), b"")
    conn.start_next_cycle()
    assert [type(e) for e in drain(conn)] == [Request, EndOfMessage]
    # The next request asked for no upgrade: no 101 for it.
    with pytest.raises(LocalProtocolError, match="101"):
        conn.send(SWITCH)


def test_connection_upgrade_server_sends_nothing_http_after_the_switch(backend: str) -> None:
    conn = server(backend, UPGRADE)
    drain(conn)
    conn.send(SWITCH)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, []), b"")
    with pytest.raises(LocalProtocolError):
        conn.start_next_cycle()


def test_connection_upgrade_client_takes_a_101(backend: str) -> None:
    conn = client(backend)
    conn.send_request(ASK)
    conn.receive_data(SWITCH_WIRE + b"\x81\x02hi")
    event = conn.next_event()
    assert event == Response(101, SWITCH.headers, b"1.1", b"Switching Protocols")
    assert conn.our_state is State.SWITCHED_PROTOCOL
    assert conn.their_state is State.SWITCHED_PROTOCOL
    assert conn.next_event() is PAUSED
    assert conn.trailing_data == (b"\x81\x02hi", False)


def test_connection_upgrade_client_refuses_101_to_a_plain_request(backend: str) -> None:
    conn = client(backend)
    conn.send_request(Request(b"GET", b"/", [(b"host", b"a")]))
    conn.receive_data(SWITCH_WIRE)
    with pytest.raises(RemoteProtocolError, match="101"):
        conn.next_event()
    assert conn.their_state is State.ERROR


def test_connection_upgrade_client_takes_a_refusal_as_http(backend: str) -> None:
    conn = client(backend)
    conn.send_request(ASK)
    conn.receive_data(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")
    assert [type(e).__name__ for e in drain(conn)] == ["Response", "Data", "EndOfMessage"]
    conn.start_next_cycle()
    conn.send_request(Request(b"GET", b"/", [(b"host", b"a")]))
    conn.receive_data(SWITCH_WIRE)
    with pytest.raises(RemoteProtocolError, match="101"):
        conn.next_event()
