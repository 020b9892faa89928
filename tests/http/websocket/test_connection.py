"""The WebSocket connection state machine (RFC 6455 §5-§7), both roles.

The Autobahn-style table in ``tests/wscases.py`` (run by ``test_cases.py``)
covers the protocol case by case; these tests pin the API and the paths
the table does not reach (partial input, EOF, misuse, ``buffered``).
"""

from __future__ import annotations

import pytest

from transom.exceptions import ConfigurationError, LocalProtocolError
from transom.http.websocket import (
    BytesMessage,
    CloseReceived,
    Event,
    Ping,
    Pong,
    ProtocolFailure,
    Role,
    TextMessage,
    WebSocketConnection,
    WebSocketLimits,
    WebSocketState,
)
from transom.http.websocket.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    build_frame,
)

MASK = b"\x11\x22\x33\x44"


def frame(role: Role, opcode: int, payload: bytes, **kwargs: bool) -> bytes:
    """A frame as the peer of a ``role`` connection sends it (clients mask)."""
    return build_frame(opcode, payload, mask=MASK if role is Role.SERVER else None, **kwargs)


def drain(conn: WebSocketConnection) -> list[Event]:
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    return events


def peer_of(role: Role) -> WebSocketConnection:
    return WebSocketConnection(Role.CLIENT if role is Role.SERVER else Role.SERVER)


@pytest.fixture(params=[Role.SERVER, Role.CLIENT], ids=["server", "client"])
def role(request: pytest.FixtureRequest) -> Role:
    return request.param  # type: ignore[no-any-return]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_messages_of_every_length_class(role: Role, size: int) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_bytes(bytes(size)) + peer.send_text("é" * size))
    assert drain(conn) == [BytesMessage(bytes(size)), TextMessage("é" * size)]
    assert conn.buffered == 0


def test_input_one_byte_at_a_time(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    wire = peer.send_text("héllo" * 30) + peer.send_ping(b"p") + peer.send_bytes(b"b" * 300)
    events: list[Event] = []
    for index in range(len(wire)):
        conn.receive_data(wire[index : index + 1])
        events.extend(drain(conn))
    assert events == [TextMessage("héllo" * 30), Ping(b"p"), BytesMessage(b"b" * 300)]


def test_fragmented_message_with_control_frames_between(role: Role) -> None:
    conn = WebSocketConnection(role)
    data = "κόσμε".encode()
    conn.receive_data(
        frame(role, OP_TEXT, data[:3], fin=False)
        + frame(role, OP_PING, b"1")
        + frame(role, OP_CONTINUATION, data[3:7], fin=False)
        + frame(role, 0xA, b"2")
        + frame(role, OP_CONTINUATION, data[7:])
    )
    assert drain(conn) == [Ping(b"1"), Pong(b"2"), TextMessage("κόσμε")]
    peer = peer_of(role)
    peer.receive_data(conn.data_to_send())
    assert peer.next_event() == Pong(b"1")


def test_automatic_pong(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_ping(b"abc"))
    assert conn.next_event() == Ping(b"abc")
    peer.receive_data(conn.data_to_send())
    assert peer.next_event() == Pong(b"abc")
    assert conn.data_to_send() == b""


def test_close_initiated_by_the_peer(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_close(1001, "bye"))
    assert conn.next_event() == CloseReceived(1001, "bye")
    assert conn.state is WebSocketState.CLOSED
    assert (conn.close_code, conn.close_reason) == (1001, "bye")
    peer.receive_data(conn.data_to_send())
    assert peer.next_event() == CloseReceived(1001, "")
    assert peer.state is WebSocketState.CLOSED
    assert conn.next_event() is None
    conn.receive_data(b"\x81\x00")  # dropped once closed
    assert conn.next_event() is None
    assert conn.send_close() == b""
    with pytest.raises(LocalProtocolError):
        conn.send_text("x")


def test_close_initiated_by_us(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    peer.receive_data(conn.send_close(4000, "done"))
    assert conn.state is WebSocketState.CLOSING
    assert conn.send_close() == b""  # idempotent
    with pytest.raises(LocalProtocolError):
        conn.send_bytes(b"x")
    with pytest.raises(LocalProtocolError):
        conn.send_ping()
    # The peer may still send data and pings before its close.
    conn.receive_data(peer.send_text("last") + peer.send_ping(b"p"))
    assert drain(conn) == [TextMessage("last"), Ping(b"p")]
    assert conn.data_to_send() == b""  # nothing follows our close frame
    assert peer.next_event() == CloseReceived(4000, "done")
    conn.receive_data(peer.data_to_send())
    assert conn.next_event() == CloseReceived(4000, "")
    assert conn.state is WebSocketState.CLOSED
    assert conn.data_to_send() == b""


def test_close_without_code(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_close(1005))
    assert conn.next_event() == CloseReceived(1005, "")
    peer.receive_data(conn.data_to_send())
    assert peer.next_event() == CloseReceived(1005, "")


def test_eof_without_close_is_1006(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_text("x")[:-1])
    conn.receive_data(b"")
    assert conn.next_event() == CloseReceived(1006, "")
    assert conn.close_code == 1006
    assert conn.state is WebSocketState.CLOSED
    assert conn.data_to_send() == b""
    assert conn.next_event() is None


def test_eof_after_whole_messages_delivers_them_first(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    conn.receive_data(peer.send_text("a") + peer.send_text("b"))
    conn.receive_data(b"")
    assert drain(conn) == [TextMessage("a"), TextMessage("b"), CloseReceived(1006, "")]


def test_receive_data_after_eof_is_misuse(role: Role) -> None:
    conn = WebSocketConnection(role)
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"x")


@pytest.mark.parametrize("masked", [True, False])
def test_masking_rules(role: Role, masked: bool) -> None:
    conn = WebSocketConnection(role)
    conn.receive_data(build_frame(OP_TEXT, b"hi", mask=MASK if masked else None))
    expected_ok = masked == (role is Role.SERVER)
    event = conn.next_event()
    if expected_ok:
        assert event == TextMessage("hi")
    else:
        assert event == ProtocolFailure(1002, event.reason)  # type: ignore[union-attr]
        assert conn.state is WebSocketState.CLOSED
        assert conn.close_code == 1006
        peer = peer_of(role)
        peer.receive_data(conn.data_to_send())
        assert peer.next_event() == CloseReceived(1002, event.reason)  # type: ignore[union-attr]


def test_failure_after_our_close_queues_no_second_close(role: Role) -> None:
    conn = WebSocketConnection(role)
    conn.send_close()
    conn.receive_data(frame(role, 0x3, b""))
    assert isinstance(conn.next_event(), ProtocolFailure)
    assert conn.data_to_send() == b""


def test_frame_over_max_frame_size_fails_from_its_head(role: Role) -> None:
    conn = WebSocketConnection(role, limits=WebSocketLimits(max_frame_size=100))
    conn.receive_data(frame(role, OP_BINARY, bytes(101))[:8])  # the head only
    failure = conn.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1009


def test_message_over_max_message_size_fails_from_the_frame_head(role: Role) -> None:
    conn = WebSocketConnection(role, limits=WebSocketLimits(max_message_size=100))
    conn.receive_data(frame(role, OP_BINARY, bytes(60), fin=False))
    assert conn.next_event() is None
    assert conn.buffered == 60
    conn.receive_data(frame(role, OP_CONTINUATION, bytes(41))[:6])
    failure = conn.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1009


def test_message_at_the_limit_is_fine(role: Role) -> None:
    conn = WebSocketConnection(role, limits=WebSocketLimits(max_message_size=100))
    conn.receive_data(frame(role, OP_BINARY, bytes(60), fin=False))
    conn.receive_data(frame(role, OP_CONTINUATION, bytes(40)))
    assert drain(conn) == [BytesMessage(bytes(100))]


def test_buffered_counts_unparsed_bytes_and_the_partial_message(role: Role) -> None:
    conn = WebSocketConnection(role)
    first = frame(role, OP_BINARY, bytes(1000), fin=False)
    conn.receive_data(first)
    assert conn.buffered == len(first)
    assert conn.next_event() is None
    assert conn.buffered == 1000


def test_invalid_utf8_fails_in_the_middle_of_a_frame(role: Role) -> None:
    conn = WebSocketConnection(role)
    wire = frame(role, OP_TEXT, b"abc\xff" + bytes(10_000))
    conn.receive_data(wire[:20])  # the frame is far from complete
    failure = conn.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1007


@pytest.mark.parametrize("payload", [b"\xed\xa0", b"\xf4\x90", b"\xc0"], ids=repr)
def test_utf8_fails_as_soon_as_no_continuation_can_be_valid(role: Role, payload: bytes) -> None:
    conn = WebSocketConnection(role)
    conn.receive_data(frame(role, OP_TEXT, b"ok" + payload, fin=False))
    failure = conn.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1007


def test_utf8_split_across_fragments_is_fine(role: Role) -> None:
    conn = WebSocketConnection(role)
    data = "€𝄞".encode()
    conn.receive_data(
        b"".join(
            frame(
                role,
                OP_TEXT if i == 0 else OP_CONTINUATION,
                data[i : i + 1],
                fin=i == len(data) - 1,
            )
            for i in range(len(data))
        )
    )
    assert drain(conn) == [TextMessage("€𝄞")]


def test_text_ending_in_an_incomplete_sequence_fails(role: Role) -> None:
    conn = WebSocketConnection(role)
    conn.receive_data(frame(role, OP_TEXT, b"ok\xe2\x82"))
    failure = conn.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1007


def test_send_misuse(role: Role) -> None:
    conn = WebSocketConnection(role)
    # A wrong type is a TypeError, as from any typed API (in the compiled
    # build, mypyc's argument check raises it).
    with pytest.raises(TypeError, match="str"):
        conn.send_text(b"bytes")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(LocalProtocolError):
        conn.send_text("\ud800")
    with pytest.raises(TypeError, match="bytes"):
        conn.send_bytes("text")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(LocalProtocolError):
        conn.send_ping(bytes(126))
    with pytest.raises(TypeError):
        conn.send_pong("x")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(TypeError):
        conn.send_close("1000")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(LocalProtocolError):
        conn.send_close(1006)
    assert conn.state is WebSocketState.OPEN


def test_send_accepts_bytes_like(role: Role) -> None:
    conn = WebSocketConnection(role)
    peer = peer_of(role)
    peer.receive_data(conn.send_bytes(bytearray(b"ab")) + conn.send_bytes(memoryview(b"cd")))
    peer.receive_data(conn.send_pong(b"hb"))
    assert drain(peer) == [BytesMessage(b"ab"), BytesMessage(b"cd"), Pong(b"hb")]


def test_client_frames_are_masked_with_fresh_keys() -> None:
    conn = WebSocketConnection(Role.CLIENT)
    first = conn.send_text("hello")
    second = conn.send_text("hello")
    assert first[1] & 0x80
    assert first[2:6] != second[2:6]  # a 2**-32 chance of a false failure
    assert WebSocketConnection(Role.SERVER).send_text("hello") == b"\x81\x05hello"


def test_limits_validation() -> None:
    with pytest.raises(ConfigurationError):
        WebSocketLimits(max_frame_size=0)
    with pytest.raises(ConfigurationError):
        WebSocketLimits(max_queue=True)  # a bool is not a size
    assert WebSocketLimits().max_queue == 1024 * 1024


def test_repr_and_role() -> None:
    conn = WebSocketConnection(Role.CLIENT)
    assert repr(conn) == "<WebSocketConnection client open>"
    assert conn.role is Role.CLIENT


def test_close_frame_payload_rules(role: Role) -> None:
    for payload, code in [(b"\x03", 1002), (b"\x03\xe8\xff", 1007), (b"\x03\xed", 1002)]:
        conn = WebSocketConnection(role)
        conn.receive_data(frame(role, OP_CLOSE, payload))
        failure = conn.next_event()
        assert isinstance(failure, ProtocolFailure)
        assert failure.code == code
