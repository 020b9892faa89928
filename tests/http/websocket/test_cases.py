"""The Autobahn-style case table (``tests/wscases.py``) against the sans-IO
connection, in both roles, with a real handshake so deflate is negotiated
as it would be on the wire."""

from __future__ import annotations

import pytest

from tests.wscases import CASES, Case
from transom.http.websocket import (
    BytesMessage,
    DeflateOptions,
    Event,
    ProtocolFailure,
    Role,
    TextMessage,
    WebSocketConnection,
    accept,
    check_request,
    check_response,
    client_request,
)


def endpoint(case: Case, role: Role) -> WebSocketConnection:
    """The connection under test, built through the handshake functions."""
    options = DeflateOptions()
    if role is Role.SERVER:
        key, headers = client_request()
        offer = case.extension_offer()
        if offer is not None:
            headers.append((b"sec-websocket-extensions", offer))
        request = check_request(b"GET", b"1.1", [(b"host", b"h"), *headers])
        _, conn = accept(request, deflate=options)
    else:
        key, _ = client_request(deflate=options)
        request = check_request(b"GET", b"1.1", [(b"host", b"h"), *client_request(key=key)[1]])
        answer, _ = accept(request)
        extension = case.extension_answer()
        if extension is not None:
            answer.append((b"sec-websocket-extensions", extension))
        _, conn = check_response(101, answer, key=key, deflate=options)
    assert (conn.deflate is not None) == (case.deflate is not None)
    return conn


def echo(conn: WebSocketConnection, writes: list[bytes]) -> tuple[bytes, int | None]:
    """Run an echo endpoint over the writes: its output, and the index of
    the write that made it fail (``None``: no failure)."""
    out: list[bytes] = []
    failed_at = None
    for index, data in enumerate(writes):
        conn.receive_data(data)
        while (event := conn.next_event()) is not None:
            if isinstance(event, TextMessage):
                out.append(conn.send_text(event.data))
            elif isinstance(event, BytesMessage):
                out.append(conn.send_bytes(event.data))
            elif isinstance(event, ProtocolFailure):
                failed_at = index
            out.append(conn.data_to_send())
        if failed_at is not None:
            break
    return b"".join(out), failed_at


def observe(case: Case, role: Role, replies: bytes) -> list[Event]:
    peer = case.peer_connection(role)
    peer.receive_data(replies)
    peer.receive_data(b"")
    events = []
    while (event := peer.next_event()) is not None:
        events.append(event)
    return events


@pytest.mark.parametrize("role", [Role.SERVER, Role.CLIENT], ids=["server", "client"])
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: Case, role: Role) -> None:
    conn = endpoint(case, role)
    writes = case.peer_writes(role)
    replies, failed_at = echo(conn, writes)
    case.check(observe(case, role, replies))
    assert (failed_at is not None) == case.expect.failure, f"failed at write {failed_at}"
    if case.expect.fail_fast:
        assert failed_at is not None
        assert failed_at < len(writes) - 1, "the failure waited for the last write"


def test_table_ids_are_unique_and_groups_are_all_there() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    assert {case_id.split(".")[0] for case_id in ids} == {
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "9",
        "12",
        "13",
    }
