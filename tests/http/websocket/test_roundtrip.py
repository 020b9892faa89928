"""Property tests: whatever one side sends, the other receives, however the
messages are fragmented and the bytes split (both roles, with and without
permessage-deflate)."""

from __future__ import annotations

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from transom.http.websocket import (
    BytesMessage,
    Event,
    PerMessageDeflate,
    Role,
    TextMessage,
    WebSocketConnection,
)
from transom.http.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_TEXT, build_frame

messages = st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300)), max_size=6)


def feed(conn: WebSocketConnection, wire: bytes, cuts: list[int]) -> list[Event]:
    events: list[Event] = []
    start = 0
    for cut in [*sorted({cut for cut in cuts if 0 < cut < len(wire)}), len(wire)]:
        if cut > start:  # b"" would mean EOF
            conn.receive_data(wire[start:cut])
        start = cut
        while (event := conn.next_event()) is not None:
            events.append(event)
    return events


def expected(sent: list[str | bytes]) -> list[Event]:
    return [TextMessage(m) if isinstance(m, str) else BytesMessage(m) for m in sent]


@settings(max_examples=150, deadline=None)
@given(
    messages,
    st.sampled_from([Role.SERVER, Role.CLIENT]),
    st.booleans(),
    st.booleans(),
    st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
)
def test_send_then_receive(
    sent: list[str | bytes], role: Role, deflate: bool, no_context: bool, cuts: list[int]
) -> None:
    def extension() -> PerMessageDeflate | None:
        if not deflate:
            return None
        return PerMessageDeflate(min_size=0, send_no_context_takeover=no_context)

    sender = WebSocketConnection(role, deflate=extension())
    receiver = WebSocketConnection(
        Role.CLIENT if role is Role.SERVER else Role.SERVER, deflate=extension()
    )
    wire = b"".join(
        sender.send_text(m) if isinstance(m, str) else sender.send_bytes(m) for m in sent
    )
    assert feed(receiver, wire, cuts) == expected(sent)


@settings(max_examples=150, deadline=None)
@given(
    messages,
    st.sampled_from([Role.SERVER, Role.CLIENT]),
    st.booleans(),
    st.data(),
)
def test_any_fragmentation(
    sent: list[str | bytes], role: Role, deflate: bool, data: st.DataObject
) -> None:
    """Messages cut into frames anywhere (even inside a UTF-8 sequence), by
    the peer of a connection in ``role``."""
    mask = b"\x9a\x02\x7f\xe1" if role is Role.SERVER else None
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    wire = b""
    for message in sent:
        raw = message.encode() if isinstance(message, str) else message
        if deflate:
            raw = (compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        cuts = sorted(set(data.draw(st.lists(st.integers(0, len(raw)), max_size=4))))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        opcode = OP_TEXT if isinstance(message, str) else OP_BINARY
        for index, piece in enumerate(pieces):
            wire += build_frame(
                opcode if index == 0 else OP_CONTINUATION,
                piece,
                fin=index == len(pieces) - 1,
                rsv1=deflate and index == 0,
                mask=mask,
            )
    conn = WebSocketConnection(role, deflate=PerMessageDeflate() if deflate else None)
    splits = data.draw(st.lists(st.integers(0, len(wire)), max_size=6))
    assert feed(conn, wire, splits) == expected(sent)
