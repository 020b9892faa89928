"""permessage-deflate: negotiation both ways and (de)compression (RFC 7692)."""

from __future__ import annotations

import zlib

import pytest

from transom.exceptions import ConfigurationError
from transom.http.websocket import (
    BytesMessage,
    DeflateOptions,
    PerMessageDeflate,
    ProtocolFailure,
    Role,
    TextMessage,
    WebSocketConnection,
    WebSocketLimits,
)
from transom.http.websocket.deflate import client_accept, client_offer, server_negotiate
from transom.http.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_TEXT, build_frame

MASK = b"\x01\x02\x03\x04"


@pytest.mark.parametrize(
    ("options", "offer"),
    [
        (DeflateOptions(), b"permessage-deflate; client_max_window_bits"),
        (
            DeflateOptions(
                server_no_context_takeover=True,
                client_no_context_takeover=True,
                server_max_window_bits=10,
                client_max_window_bits=12,
            ),
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            b"server_max_window_bits=10; client_max_window_bits=12",
        ),
    ],
    ids=["default", "everything"],
)
def test_client_offer(options: DeflateOptions, offer: bytes) -> None:
    assert client_offer(options) == offer


@pytest.mark.parametrize(
    ("offer", "options", "answer"),
    [
        (b"permessage-deflate", DeflateOptions(), b"permessage-deflate"),
        (
            b"permessage-deflate; client_max_window_bits",
            DeflateOptions(),
            b"permessage-deflate",
        ),
        (
            b"permessage-deflate; client_max_window_bits",
            DeflateOptions(client_max_window_bits=10),
            b"permessage-deflate; client_max_window_bits=10",
        ),
        (
            b"permessage-deflate; client_max_window_bits=9",
            DeflateOptions(client_max_window_bits=12),
            b"permessage-deflate; client_max_window_bits=9",
        ),
        (
            b"permessage-deflate",
            DeflateOptions(client_max_window_bits=10),
            b"permessage-deflate",  # the client did not say it could shrink its window
        ),
        (
            b"permessage-deflate; server_max_window_bits=12",
            DeflateOptions(),
            b"permessage-deflate; server_max_window_bits=12",
        ),
        (
            b"permessage-deflate; server_max_window_bits=12",
            DeflateOptions(server_max_window_bits=10),
            b"permessage-deflate; server_max_window_bits=10",
        ),
        (
            b"permessage-deflate",
            DeflateOptions(server_max_window_bits=11),
            b"permessage-deflate; server_max_window_bits=11",
        ),
        (
            b"PerMessage-Deflate; Server_No_Context_Takeover; client_no_context_takeover",
            DeflateOptions(),
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            b"permessage-deflate",
            DeflateOptions(server_no_context_takeover=True, client_no_context_takeover=True),
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            b'permessage-deflate; server_max_window_bits="10"',
            DeflateOptions(),
            b"permessage-deflate; server_max_window_bits=10",
        ),
    ],
)
def test_server_negotiate(offer: bytes, options: DeflateOptions, answer: bytes) -> None:
    result = server_negotiate([offer], options)
    assert result is not None
    assert result[0] == answer


@pytest.mark.parametrize(
    "offer",
    [
        b"permessage-deflate; unknown",
        b"permessage-deflate; server_no_context_takeover=1",
        b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        b"permessage-deflate; server_max_window_bits",
        b"permessage-deflate; server_max_window_bits=16",
        b"permessage-deflate; server_max_window_bits=7",
        b"permessage-deflate; server_max_window_bits=010",
        b"permessage-deflate; client_max_window_bits=x",
        b"x-webkit-deflate-frame",
    ],
)
def test_server_declines_invalid_offers_and_takes_the_next(offer: bytes) -> None:
    assert server_negotiate([offer], DeflateOptions()) is None
    result = server_negotiate(
        [offer + b", permessage-deflate; server_no_context_takeover"], DeflateOptions()
    )
    assert result is not None
    assert result[0] == b"permessage-deflate; server_no_context_takeover"


def test_server_negotiate_malformed_field_is_value_error() -> None:
    with pytest.raises(ValueError, match="malformed"):
        server_negotiate([b"permessage-deflate; ="], DeflateOptions())
    with pytest.raises(ValueError, match="token"):
        server_negotiate([b'permessage-deflate; a="b c"'], DeflateOptions())


def test_server_negotiate_empty_elements_and_several_fields() -> None:
    result = server_negotiate([b" , ", b"x, ,permessage-deflate ,"], DeflateOptions())
    assert result is not None


@pytest.mark.parametrize(
    ("answer", "options"),
    [
        (b"permessage-deflate; unknown", DeflateOptions()),
        (b"x-other", DeflateOptions()),
        (b"permessage-deflate, permessage-deflate", DeflateOptions()),
        (
            b"permessage-deflate; server_max_window_bits=12",
            DeflateOptions(server_max_window_bits=10),
        ),
        (b"permessage-deflate", DeflateOptions(server_max_window_bits=10)),
        (b"permessage-deflate", DeflateOptions(server_no_context_takeover=True)),
        (b"permessage-deflate; client_max_window_bits", DeflateOptions()),
        (
            b"permessage-deflate; client_max_window_bits=12",
            DeflateOptions(client_max_window_bits=10),
        ),
        (b"permessage-deflate; server_max_window_bits=16", DeflateOptions()),
        (b"permessage-deflate;", DeflateOptions()),
    ],
)
def test_client_refuses_bad_answers(answer: bytes, options: DeflateOptions) -> None:
    with pytest.raises(ValueError):
        client_accept([answer], options)


def test_client_refuses_an_answer_to_no_offer() -> None:
    with pytest.raises(ValueError):
        client_accept([b"permessage-deflate"], None)
    assert client_accept([], None) is None
    assert client_accept([b" , "], DeflateOptions()) is None


def test_client_accept_reads_the_parameters() -> None:
    extension = client_accept(
        [
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            b"server_max_window_bits=9; client_max_window_bits=8"
        ],
        DeflateOptions(),
    )
    assert extension is not None
    assert extension.receive_no_context_takeover
    assert extension.send_no_context_takeover
    assert extension.receive_max_window_bits == 9
    assert extension.send_max_window_bits == 8


def test_options_validation() -> None:
    for kwargs in (
        {"server_max_window_bits": 8},
        {"client_max_window_bits": 16},
        {"compress_level": 10},
        {"min_size": -1},
        {"mem_level": 0},
        {"mem_level": 10},
        {"mem_level": 5.0},
    ):
        with pytest.raises(ConfigurationError):
            DeflateOptions(**kwargs)  # type: ignore[arg-type]  # each is a bad value


def test_mem_level_reaches_the_compressor_and_round_trips() -> None:
    # The same stream with memLevel 1 and 9: both valid deflate, and they differ.
    message = b"".join(b"record %d: some text that repeats, " % (n % 40) for n in range(2000))
    outputs = []
    for mem_level in (1, 9):
        answer, server = server_negotiate(
            [b"permessage-deflate"], DeflateOptions(mem_level=mem_level, min_size=0)
        )
        assert answer is not None and server is not None
        compressed = server.compress(message)
        assert compressed is not None
        outputs.append(compressed)
        receiver = PerMessageDeflate()
        assert receiver.decompress(compressed, 0, True) == message
    assert outputs[0] != outputs[1]


def pair(
    send: PerMessageDeflate, receive: PerMessageDeflate, limits: WebSocketLimits | None = None
) -> tuple[WebSocketConnection, WebSocketConnection]:
    """A client that compresses with ``send`` and a server that inflates with ``receive``."""
    return (
        WebSocketConnection(Role.CLIENT, deflate=send),
        WebSocketConnection(Role.SERVER, deflate=receive, limits=limits),
    )


@pytest.mark.parametrize("no_context_takeover", [False, True])
@pytest.mark.parametrize("bits", [9, 12, 15])
def test_round_trip(no_context_takeover: bool, bits: int) -> None:
    client, server = pair(
        PerMessageDeflate(send_no_context_takeover=no_context_takeover, send_max_window_bits=bits),
        PerMessageDeflate(receive_max_window_bits=bits),
    )
    sizes = []
    for _ in range(3):
        wire = client.send_text("hello world " * 100)
        sizes.append(len(wire))
        assert wire[0] == 0xC1  # RSV1: compressed
        server.receive_data(wire)
        assert server.next_event() == TextMessage("hello world " * 100)
    if no_context_takeover:
        assert sizes[0] == sizes[1] == sizes[2]
    else:
        assert sizes[1] < sizes[0]  # the second refers to the first


def test_small_messages_go_uncompressed() -> None:
    client, server = pair(PerMessageDeflate(min_size=10), PerMessageDeflate())
    wire = client.send_bytes(b"short")
    assert wire[0] == 0x82
    server.receive_data(wire + client.send_bytes(b"long enough!"))
    assert server.next_event() == BytesMessage(b"short")
    assert server.next_event() == BytesMessage(b"long enough!")


def test_window_of_8_bits_means_no_compression() -> None:
    client, server = pair(PerMessageDeflate(send_max_window_bits=8), PerMessageDeflate())
    wire = client.send_bytes(b"x" * 1000)
    assert wire[0] == 0x82
    server.receive_data(wire)
    assert server.next_event() == BytesMessage(b"x" * 1000)


def test_receives_a_stream_made_with_an_8_bit_window() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -9)  # zlib's nearest to 8
    payload = compressor.compress(b"abc" * 100) + compressor.flush(zlib.Z_SYNC_FLUSH)
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate(receive_max_window_bits=8))
    server.receive_data(build_frame(OP_BINARY, payload[:-4], rsv1=True, mask=MASK))
    assert server.next_event() == BytesMessage(b"abc" * 100)


def test_fragmented_compressed_message_and_final_block() -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = compressor.compress("ünïcode ".encode() * 50) + compressor.flush(zlib.Z_FINISH)
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate())
    third = len(payload) // 3
    server.receive_data(
        build_frame(OP_TEXT, payload[:third], fin=False, rsv1=True, mask=MASK)
        + build_frame(OP_CONTINUATION, payload[third : 2 * third], fin=False, mask=MASK)
        + build_frame(OP_CONTINUATION, payload[2 * third :], mask=MASK)
    )
    assert server.next_event() == TextMessage("ünïcode " * 50)
    # BFINAL ended the peer's stream: the next message starts a fresh one.
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = compressor.compress(b"again") + compressor.flush(zlib.Z_SYNC_FLUSH)
    server.receive_data(build_frame(OP_BINARY, payload[:-4], rsv1=True, mask=MASK))
    assert server.next_event() == BytesMessage(b"again")


def test_empty_compressed_message() -> None:
    client, server = pair(PerMessageDeflate(min_size=0), PerMessageDeflate())
    wire = client.send_text("")
    assert wire[0] == 0xC1
    server.receive_data(wire + build_frame(OP_TEXT, b"\x00", rsv1=True, mask=MASK))
    assert server.next_event() == TextMessage("")
    assert server.next_event() == TextMessage("")


def test_deflate_bomb_is_refused_without_inflating_it_all() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = compressor.compress(bytes(20_000_000)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 30_000
    _, server = pair(PerMessageDeflate(), PerMessageDeflate(), WebSocketLimits(1 << 20, 1 << 20))
    server.receive_data(build_frame(OP_BINARY, bomb[:-4], rsv1=True, mask=MASK))
    failure = server.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1009


def test_message_exactly_at_the_limit_inflates() -> None:
    client, server = pair(
        PerMessageDeflate(), PerMessageDeflate(), WebSocketLimits(max_message_size=1000)
    )
    server.receive_data(client.send_bytes(bytes(1000)))
    assert server.next_event() == BytesMessage(bytes(1000))
    server.receive_data(client.send_bytes(bytes(1001)))
    failure = server.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1009


def test_invalid_compressed_data_is_1007() -> None:
    server = WebSocketConnection(Role.SERVER, deflate=PerMessageDeflate())
    server.receive_data(build_frame(OP_BINARY, b"\xff\xff\xff", rsv1=True, mask=MASK))
    failure = server.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1007


def test_invalid_utf8_inside_compressed_text_is_1007() -> None:
    client, server = pair(PerMessageDeflate(min_size=0), PerMessageDeflate())
    compressed = client.deflate.compress(b"ok\xff" * 50)  # type: ignore[union-attr]
    assert compressed is not None
    server.receive_data(build_frame(OP_TEXT, compressed, rsv1=True, mask=MASK))
    failure = server.next_event()
    assert isinstance(failure, ProtocolFailure)
    assert failure.code == 1007


def test_repr() -> None:
    assert "send_max_window_bits=15" in repr(PerMessageDeflate())
