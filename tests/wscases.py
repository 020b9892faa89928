"""An Autobahn|Testsuite-style table of WebSocket cases, for either role.

Each ``Case`` is what a peer sends to an *echo endpoint* (one that sends
every text or binary message back as it came, and otherwise relies on the
protocol's automatic replies: pongs, close echo, failure close) and what
the peer must then observe. The groups follow Autobahn's numbering
(https://github.com/crossbario/autobahn-testsuite): 1 framing, 2 pings and
pongs, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close
handling, 9 big messages (sizes scaled down so tests stay fast), 12/13
permessage-deflate. Ids are ``"<group>.<n>"`` with Autobahn's where a case
mirrors one.

API (stdlib and transom only)::

    from tests.wscases import CASES, Role

    for case in CASES:
        # role: the role of the endpoint under test. Frames from a client
        # are masked (RFC 6455 §5.3), so the peer's bytes depend on it.
        writes = case.peer_writes(role)     # list[bytes]: write each, in order
        extension = case.extension_offer()  # endpoint is SERVER: the client's
                                            # Sec-WebSocket-Extensions, or None
        extension = case.extension_answer() # endpoint is CLIENT: the server's
                                            # answer (the endpoint must offer
                                            # DeflateOptions() defaults), or None
        peer = case.peer_connection(role)   # parses the endpoint's replies
        peer.receive_data(replies); peer.receive_data(b"")   # at EOF
        case.check(events)                  # events from peer.next_event();
                                            # AssertionError says what differs

``case.expect`` is an ``Expect``: ``replies`` (the messages echoed and the
pongs sent, in order, as transom events), ``close`` (the code of the
endpoint's close frame: an echo of the peer's close, 1005 when that had no
code, or the failure code; ``None``: the endpoint stays open), ``failure``
(the endpoint must fail the connection, RFC 6455 §7.1.7, rather than answer
a close) and ``fail_fast`` (the failure must come before the last write is
fed, e.g. Autobahn 6.4.x; only a sans-IO driver can see that, since a
socket may coalesce writes).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from transom.http.connection import Role
from transom.http.websocket import (
    BytesMessage,
    CloseReceived,
    Event,
    PerMessageDeflate,
    Pong,
    TextMessage,
    WebSocketConnection,
    WebSocketLimits,
)
from transom.http.websocket.frames import build_frame

__all__ = ["CASES", "Case", "Deflate", "Expect", "Frame", "Role", "cases_by_id"]

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# Masking keys used in turn: fixed, so a failure reproduces; they include
# all-zero and all-one keys, which hide masking bugs of other kinds.
MASKS = (b"\x37\xfa\x21\x3d", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x12\x34\x56\x78")
Reply = TextMessage | BytesMessage | Pong


@dataclass(frozen=True)
class Frame:
    """One frame the peer sends; ``chunk`` > 0 writes it in pieces of that size."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    chunk: int = 0

    def wire(self, role: Role, index: int = 0) -> bytes:
        """The frame's bytes as sent to an endpoint of ``role`` (masked when
        that endpoint is a server, since the peer is then a client)."""
        mask = MASKS[index % len(MASKS)] if role is Role.SERVER else None
        return build_frame(
            self.opcode,
            self.payload,
            fin=self.fin,
            rsv1=self.rsv1,
            rsv2=self.rsv2,
            rsv3=self.rsv3,
            mask=mask,
        )


@dataclass(frozen=True)
class Deflate:
    """How the peer compresses (RFC 7692): its context takeover and window."""

    no_context_takeover: bool = False
    max_window_bits: int = 15


@dataclass(frozen=True)
class Expect:
    replies: tuple[Reply, ...] = ()
    close: int | None = 1000
    failure: bool = False
    fail_fast: bool = False


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    frames: tuple[Frame, ...]
    expect: Expect
    deflate: Deflate | None = None
    # Frame boundaries between writes: the frames are written in groups,
    # each group one write (after any chunking), so a driver can pause there.
    groups: tuple[int, ...] = field(default=())

    def peer_writes(self, role: Role) -> list[bytes]:
        """The peer's bytes for an endpoint of ``role``, one item per write."""
        writes: list[bytes] = []
        pending = b""
        for index, frame in enumerate(self.frames):
            if index in self.groups and pending:
                writes.append(pending)
                pending = b""
            wire = frame.wire(role, index)
            if frame.chunk:
                if pending:
                    writes.append(pending)
                    pending = b""
                writes.extend(wire[i : i + frame.chunk] for i in range(0, len(wire), frame.chunk))
            else:
                pending += wire
        if pending:
            writes.append(pending)
        return writes

    def peer_bytes(self, role: Role) -> bytes:
        return b"".join(self.peer_writes(role))

    def extension_offer(self) -> bytes | None:
        """The Sec-WebSocket-Extensions a peer client sends (endpoint: server)."""
        if self.deflate is None:
            return None
        value = b"permessage-deflate"
        if self.deflate.no_context_takeover:
            value += b"; client_no_context_takeover"
        if self.deflate.max_window_bits < 15:
            return value + b"; client_max_window_bits=%d" % self.deflate.max_window_bits
        return value + b"; client_max_window_bits"

    def extension_answer(self) -> bytes | None:
        """The Sec-WebSocket-Extensions a peer server answers (endpoint: client)."""
        if self.deflate is None:
            return None
        value = b"permessage-deflate"
        if self.deflate.no_context_takeover:
            value += b"; server_no_context_takeover"
        if self.deflate.max_window_bits < 15:
            value += b"; server_max_window_bits=%d" % self.deflate.max_window_bits
        return value

    def peer_connection(self, role: Role) -> WebSocketConnection:
        """A connection in the peer's role that parses the endpoint's replies."""
        peer_role = Role.CLIENT if role is Role.SERVER else Role.SERVER
        return WebSocketConnection(
            peer_role,
            limits=WebSocketLimits(1 << 30, 1 << 30),
            deflate=PerMessageDeflate() if self.deflate is not None else None,
        )

    def check(self, events: list[Event]) -> None:
        """Compare the peer's events (up to its CloseReceived) with ``expect``."""
        replies = [event for event in events if isinstance(event, Reply)]
        closes = [event.code for event in events if isinstance(event, CloseReceived)]
        expected = list(self.expect.replies)
        if replies != expected:
            raise AssertionError(
                f"case {self.id}: replies {_short(replies)} != expected {_short(expected)}"
            )
        close = closes[0] if closes else None
        if close == 1006:
            close = None  # EOF without a close frame
        if close != self.expect.close:
            raise AssertionError(
                f"case {self.id}: close code {close} != expected {self.expect.close}"
            )


def _short(items: list[Reply]) -> str:
    shown = [f"{type(item).__name__}({len(_data(item))} bytes)" for item in items[:5]]
    return "[" + ", ".join(shown) + (", ..." if len(items) > 5 else "") + f"] ({len(items)})"


def _data(item: Reply) -> bytes | str:
    return item.payload if isinstance(item, Pong) else item.data


def cases_by_id() -> dict[str, Case]:
    return {case.id: case for case in CASES}


# --- building blocks ---------------------------------------------------------


def text(data: str | bytes, **kwargs: object) -> Frame:
    payload = data.encode() if isinstance(data, str) else data
    return Frame(TEXT, payload, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def binary(data: bytes, **kwargs: object) -> Frame:
    return Frame(BINARY, data, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def cont(data: str | bytes, **kwargs: object) -> Frame:
    payload = data.encode() if isinstance(data, str) else data
    return Frame(CONT, payload, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def ping(payload: bytes = b"", **kwargs: object) -> Frame:
    return Frame(PING, payload, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def pong(payload: bytes = b"", **kwargs: object) -> Frame:
    return Frame(PONG, payload, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def close(code: int | None = 1000, reason: bytes = b"", **kwargs: object) -> Frame:
    payload = b"" if code is None else code.to_bytes(2, "big") + reason
    return Frame(CLOSE, payload, **kwargs)  # type: ignore[arg-type]  # Frame's own fields


def ok(*replies: Reply, close: int | None = 1000) -> Expect:
    return Expect(tuple(replies), close=close)


def fail(code: int, *replies: Reply, fast: bool = False) -> Expect:
    return Expect(tuple(replies), close=code, failure=True, fail_fast=fast)


T = TextMessage
B = BytesMessage


def _case(
    case_id: str,
    description: str,
    frames: list[Frame],
    expect: Expect,
    *,
    deflate: Deflate | None = None,
    groups: tuple[int, ...] = (),
) -> Case:
    return Case(case_id, description, tuple(frames), expect, deflate, groups)


# --- 1 framing ---------------------------------------------------------------

_SIZES = (0, 125, 126, 127, 128, 65535, 65536)


def _framing() -> list[Case]:
    cases = []
    for number, size in enumerate(_SIZES, 1):
        cases.append(
            _case(
                f"1.1.{number}",
                f"text, {size} bytes",
                [text("*" * size), close()],
                ok(T("*" * size)),
            )
        )
        cases.append(
            _case(
                f"1.2.{number}",
                f"binary, {size} bytes",
                [binary(b"\xfe" * size), close()],
                ok(B(b"\xfe" * size)),
            )
        )
    cases.append(
        _case(
            "1.1.8",
            "text, 65536 bytes in writes of 997",
            [text("*" * 65536, chunk=997), close()],
            ok(T("*" * 65536)),
        )
    )
    cases.append(
        _case(
            "1.2.8",
            "binary, 65536 bytes in writes of 997",
            [binary(b"\xfe" * 65536, chunk=997), close()],
            ok(B(b"\xfe" * 65536)),
        )
    )
    cases.append(
        _case(
            "1.3.1",
            "text and binary in one write",
            [text("a"), binary(b"b"), text(""), close()],
            ok(T("a"), B(b"b"), T("")),
        )
    )
    return cases


# --- 2 pings and pongs -------------------------------------------------------


def _pings() -> list[Case]:
    return [
        _case("2.1", "ping without payload", [ping(), close()], ok(Pong(b""))),
        _case(
            "2.2",
            "ping with a text payload",
            [ping(b"Hello, world!"), close()],
            ok(Pong(b"Hello, world!")),
        ),
        _case(
            "2.3",
            "ping with a binary payload",
            [ping(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"), close()],
            ok(Pong(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")),
        ),
        _case(
            "2.4", "ping with 125 bytes", [ping(b"\xfe" * 125), close()], ok(Pong(b"\xfe" * 125))
        ),
        _case("2.5", "ping with 126 bytes", [ping(b"\xfe" * 126), close()], fail(1002)),
        _case(
            "2.6",
            "ping with 125 bytes in writes of 1",
            [ping(b"\xfe" * 125, chunk=1), close()],
            ok(Pong(b"\xfe" * 125)),
        ),
        _case("2.7", "unsolicited pong without payload", [pong(), close()], ok()),
        _case("2.8", "unsolicited pong with payload", [pong(b"unsolicited"), close()], ok()),
        _case(
            "2.9", "unsolicited pong, then ping", [pong(b"x"), ping(b"y"), close()], ok(Pong(b"y"))
        ),
        _case(
            "2.10",
            "10 pings",
            [*(ping(b"%d" % i) for i in range(10)), close()],
            ok(*(Pong(b"%d" % i) for i in range(10))),
        ),
        _case(
            "2.11",
            "10 pings in writes of 1",
            [*(ping(b"%d" % i, chunk=1) for i in range(10)), close()],
            ok(*(Pong(b"%d" % i) for i in range(10))),
        ),
    ]


# --- 3 reserved bits ---------------------------------------------------------


def _reserved_bits() -> list[Case]:
    return [
        _case(
            "3.1", "RSV1 on a text frame without an extension", [text("x", rsv1=True)], fail(1002)
        ),
        _case(
            "3.2",
            "text, then text with RSV2, then ping",
            [text("a"), text("b", rsv2=True), ping()],
            fail(1002, T("a")),
        ),
        _case(
            "3.3",
            "text, then RSV1+RSV2 text, then ping",
            [text("a"), text("b", rsv1=True, rsv2=True), ping()],
            fail(1002, T("a")),
        ),
        _case(
            "3.4",
            "text, then RSV3 text in writes of 1, then ping",
            [text("a"), text("b", rsv3=True, chunk=1), ping()],
            fail(1002, T("a")),
        ),
        _case("3.5", "binary with RSV1+RSV3", [binary(b"\x00", rsv1=True, rsv3=True)], fail(1002)),
        _case("3.6", "ping with RSV2+RSV3", [ping(b"p", rsv2=True, rsv3=True)], fail(1002)),
        _case(
            "3.7", "close with all RSV bits", [close(rsv1=True, rsv2=True, rsv3=True)], fail(1002)
        ),
        _case(
            "3.8",
            "RSV1 on a ping with deflate",
            [ping(b"p", rsv1=True)],
            fail(1002),
            deflate=Deflate(),
        ),
        _case(
            "3.9",
            "RSV1 on a continuation frame with deflate",
            [text("a", fin=False), cont("b", rsv1=True)],
            fail(1002),
            deflate=Deflate(),
        ),
    ]


# --- 4 opcodes ---------------------------------------------------------------


def _opcodes() -> list[Case]:
    cases = []
    for number, opcode in enumerate((3, 4, 5, 6, 7), 1):
        cases.append(
            _case(
                f"4.1.{number}",
                f"reserved data opcode {opcode}",
                [text("a"), Frame(opcode, b"reserved"), ping()],
                fail(1002, T("a")),
            )
        )
    for number, opcode in enumerate((11, 12, 13, 14, 15), 1):
        cases.append(
            _case(
                f"4.2.{number}",
                f"reserved control opcode {opcode}",
                [text("a"), Frame(opcode, b"reserved"), ping()],
                fail(1002, T("a")),
            )
        )
    cases.append(
        _case(
            "4.2.6",
            "reserved opcode in a fragmented message",
            [text("a", fin=False), Frame(0xB), cont("b")],
            fail(1002),
        )
    )
    return cases


# --- 5 fragmentation ---------------------------------------------------------


def _fragmentation() -> list[Case]:
    frags = [text("frag", fin=False), cont("ment")]
    return [
        _case("5.1", "fragmented ping", [ping(b"a", fin=False), cont(b"b")], fail(1002)),
        _case("5.2", "fragmented pong", [pong(b"a", fin=False), cont(b"b")], fail(1002)),
        _case("5.3", "text in 2 fragments", [*frags, close()], ok(T("fragment"))),
        _case(
            "5.4",
            "text in 2 fragments, one write each",
            [*frags, close()],
            ok(T("fragment")),
            groups=(1, 2),
        ),
        _case(
            "5.5",
            "text in 2 fragments in writes of 1",
            [text("frag", fin=False, chunk=1), cont("ment", chunk=1), close()],
            ok(T("fragment")),
        ),
        _case(
            "5.6",
            "text in 2 fragments with a ping between",
            [frags[0], ping(b"p"), frags[1], close()],
            ok(Pong(b"p"), T("fragment")),
        ),
        _case(
            "5.7",
            "as 5.6, one write each",
            [frags[0], ping(b"p"), frags[1], close()],
            ok(Pong(b"p"), T("fragment")),
            groups=(1, 2, 3),
        ),
        _case(
            "5.8",
            "as 5.6, in writes of 1",
            [text("frag", fin=False, chunk=1), ping(b"p", chunk=1), cont("ment", chunk=1), close()],
            ok(Pong(b"p"), T("fragment")),
        ),
        _case(
            "5.9",
            "continuation (FIN) without a message",
            [cont("x"), text("a"), close()],
            fail(1002),
        ),
        _case("5.10", "as 5.9, in writes of 1", [cont("x", chunk=1), text("a")], fail(1002)),
        _case(
            "5.12",
            "continuation (no FIN) without a message",
            [cont("x", fin=False), text("a")],
            fail(1002),
        ),
        _case(
            "5.15",
            "message, then continuation without a start",
            [text("a", fin=False), cont("b"), cont("c", fin=False), cont("d")],
            fail(1002, T("ab")),
        ),
        _case("5.17", "continuation (FIN) then a text", [cont("x"), text("a")], fail(1002)),
        _case("5.18", "two text starts in a row", [text("a", fin=False), text("b")], fail(1002)),
        _case(
            "5.19",
            "text in 5 fragments with pings between",
            [
                text("f1", fin=False),
                cont("f2", fin=False),
                ping(b"1"),
                cont("f3", fin=False),
                cont("f4", fin=False),
                ping(b"2"),
                cont("f5"),
                close(),
            ],
            ok(Pong(b"1"), Pong(b"2"), T("f1f2f3f4f5")),
        ),
        _case(
            "5.20",
            "as 5.19, one write each",
            [
                text("f1", fin=False),
                cont("f2", fin=False),
                ping(b"1"),
                cont("f3", fin=False),
                cont("f4", fin=False),
                ping(b"2"),
                cont("f5"),
                close(),
            ],
            ok(Pong(b"1"), Pong(b"2"), T("f1f2f3f4f5")),
            groups=(1, 2, 3, 4, 5, 6, 7),
        ),
        _case(
            "5.21",
            "binary in 3 fragments, empty first and last",
            [binary(b"", fin=False), cont(b"\x00\x01"), close()],
            ok(B(b"\x00\x01")),
        ),
        _case(
            "5.22",
            "new binary start inside a text message",
            [text("a", fin=False), binary(b"b")],
            fail(1002),
        ),
    ]


# --- 6 UTF-8 -----------------------------------------------------------------

_KOSME = "κόσμε".encode()
_VALID = [
    "",
    "κόσμε",
    "\x00",
    "\x7f",
    "\x80",
    "\u07ff",
    "\u0800",
    "\uffff",
    "\U00010000",
    "\U0010ffff",
    "\ud7ff",
    "\ue000",
    "\ufffd",
    "\ufeff",
    "Hello-µ@ßöäüàá-UTF-8!!",
]
# Invalid sequences (Markus Kuhn's UTF-8 decoder stress test, as Autobahn 6.3-6.21 use).
_INVALID = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
    b"\x80",
    b"\xbf",
    b"\x80\xbf\x80\xbf",
    b"\xc0 ",
    b"\xe0\x80 ",
    b"\xf8\x88\x80\x80\x80",
    b"\xfc\x84\x80\x80\x80\x80",
    b"\xc0\xaf",
    b"\xe0\x80\xaf",
    b"\xf0\x80\x80\xaf",
    b"\xc1\xbf",
    b"\xe0\x9f\xbf",
    b"\xf0\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xed\xa0\x80\xed\xb0\x80",
    b"\xfe",
    b"\xff",
    b"\xfe\xfe\xff\xff",
    b"\xc2",
    b"\xe0\xa0",
    b"\xf0\x90\x80",
    b"ok\xf5\x80\x80\x80",
]


def _utf8() -> list[Case]:
    cases = [
        _case("6.1.1", "empty text", [text(""), close()], ok(T(""))),
        _case(
            "6.1.2",
            "empty fragments",
            [text("", fin=False), cont("", fin=False), cont(""), close()],
            ok(T("")),
        ),
        _case(
            "6.1.3",
            "empty, nonempty, empty fragments",
            [text("", fin=False), cont("middle", fin=False), cont(""), close()],
            ok(T("middle")),
        ),
    ]
    for number, valid in enumerate(_VALID, 1):
        data = valid.encode()
        cases.append(
            _case(
                f"6.2.{number}", f"valid UTF-8 {data[:16]!r}", [text(data), close()], ok(T(valid))
            )
        )
    for number, valid in enumerate(_VALID[1:], 1):
        # Every split point: fragments may cut a code point anywhere.
        data = valid.encode()
        frames = [text(data[:1], fin=len(data) == 1)]
        frames += [cont(data[i : i + 1], fin=i == len(data) - 1) for i in range(1, len(data))]
        cases.append(
            _case(
                f"6.6.{number}",
                f"valid UTF-8 {data[:16]!r}, one byte per frame",
                [*frames, close()],
                ok(T(valid)),
            )
        )
    for number, invalid in enumerate(_INVALID, 1):
        cases.append(
            _case(
                f"6.3.{number}",
                f"invalid UTF-8 {invalid[:16]!r}",
                [text(invalid), close()],
                fail(1007),
            )
        )
        cases.append(
            _case(
                f"6.8.{number}",
                f"invalid UTF-8 {invalid[:16]!r}, one byte per frame",
                [
                    text(invalid[:1], fin=len(invalid) == 1),
                    *(
                        cont(invalid[i : i + 1], fin=i == len(invalid) - 1)
                        for i in range(1, len(invalid))
                    ),
                    close(),
                ],
                fail(1007),
            )
        )
    bad = b"\xf4\x90\x80\x80"
    cases += [
        _case(
            "6.4.1",
            "invalid UTF-8 in the second of 3 fragments: fail before the third",
            [text(_KOSME, fin=False), cont(bad, fin=False), cont(b"edited")],
            fail(1007, fast=True),
            groups=(1, 2),
        ),
        _case(
            "6.4.2",
            "invalid sequence split over fragments: fail at its second byte",
            [text(_KOSME + bad[:1], fin=False), cont(bad[1:], fin=False), cont(b"edited")],
            fail(1007, fast=True),
            groups=(1, 2),
        ),
        _case(
            "6.4.3",
            "one frame in 3 writes, invalid in the second: fail before the third",
            [text(_KOSME + bad + b"edited" * 20, chunk=len(_KOSME) + 10)],
            fail(1007, fast=True),
        ),
        _case(
            "6.4.4",
            "one frame in writes of 1: fail at the first byte that cannot fit",
            [text(_KOSME + bad + b"edited", chunk=1)],
            fail(1007, fast=True),
        ),
        _case(
            "6.4.5",
            "surrogate start ED A0 in writes of 1: fail before its third byte",
            [text(_KOSME + b"\xed\xa0\x80" + b"edited", chunk=1)],
            fail(1007, fast=True),
        ),
    ]
    return cases


# --- 7 close handling --------------------------------------------------------

_VALID_CODES = (
    1000,
    1001,
    1002,
    1003,
    1007,
    1008,
    1009,
    1010,
    1011,
    1012,
    1013,
    1014,
    3000,
    3999,
    4000,
    4999,
)
_INVALID_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535)


def _close_handling() -> list[Case]:
    cases = [
        _case("7.1.1", "text then close", [text("Hello"), close()], ok(T("Hello"))),
        _case("7.1.2", "close then close", [close(), close()], ok()),
        _case("7.1.3", "close then ping: no pong", [close(), ping(b"p")], ok()),
        _case("7.1.4", "close then text: no echo", [close(), text("late")], ok()),
        _case(
            "7.1.5", "fragment, close, fragment", [text("a", fin=False), close(), cont("b")], ok()
        ),
        _case(
            "7.1.6",
            "big text, ping, close",
            [text("*" * 65536), ping(b"p"), close()],
            ok(T("*" * 65536), Pong(b"p")),
        ),
        _case("7.3.1", "close without payload", [close(None)], ok(close=1005)),
        _case("7.3.2", "close with a 1-byte payload", [Frame(CLOSE, b"\x03")], fail(1002)),
        _case("7.3.3", "close with a code only", [close(1000)], ok()),
        _case("7.3.4", "close with code and reason", [close(1000, b"Hello World!")], ok()),
        _case("7.3.5", "close with a 123-byte reason", [close(1000, b"*" * 123)], ok()),
        _case(
            "7.3.6",
            "close with a 124-byte reason (payload 126)",
            [close(1000, b"*" * 124)],
            fail(1002),
        ),
        _case(
            "7.5.1",
            "close reason with invalid UTF-8",
            [close(1000, _KOSME + b"\xed\xa0\x80edited")],
            fail(1007),
        ),
        _case("7.5.2", "close reason, valid UTF-8", [close(1000, _KOSME)], ok()),
        _case("7.6.1", "fragmented close", [close(fin=False)], fail(1002)),
    ]
    for number, code in enumerate(_VALID_CODES, 1):
        cases.append(_case(f"7.7.{number}", f"close code {code}", [close(code)], ok(close=code)))
    for number, code in enumerate(_INVALID_CODES, 1):
        cases.append(
            _case(f"7.9.{number}", f"invalid close code {code}", [close(code)], fail(1002))
        )
    return cases


# --- 9 big messages (scaled down) --------------------------------------------


def _big() -> list[Case]:
    cases = []
    for number, size in enumerate((64 * 1024, 256 * 1024), 1):
        cases.append(
            _case(
                f"9.1.{number}",
                f"text, {size} bytes",
                [text("*" * size), close()],
                ok(T("*" * size)),
            )
        )
        cases.append(
            _case(
                f"9.2.{number}",
                f"binary, {size} bytes",
                [binary(b"\xfe" * size), close()],
                ok(B(b"\xfe" * size)),
            )
        )
    for number, piece in enumerate((64, 256, 4096, 65536), 1):
        size = 256 * 1024
        data = b"*" * size
        frames = [text(data[:piece], fin=False)]
        frames += [
            cont(data[i : i + piece], fin=i + piece >= size) for i in range(piece, size, piece)
        ]
        cases.append(
            _case(
                f"9.3.{number}",
                f"text of {size} bytes in frames of {piece}",
                [*frames, close()],
                ok(T("*" * size)),
            )
        )
    for number, chunk in enumerate((64, 4096), 1):
        cases.append(
            _case(
                f"9.5.{number}",
                f"text of 64 KiB in writes of {chunk}",
                [text("*" * 65536, chunk=chunk), close()],
                ok(T("*" * 65536)),
            )
        )
    cases.append(
        _case(
            "9.7.1",
            "200 small text messages",
            [*(text(f"m{i}") for i in range(200)), close()],
            ok(*(T(f"m{i}") for i in range(200))),
        )
    )
    cases.append(
        _case(
            "9.8.1",
            "200 small binary messages",
            [*(binary(b"%d" % i) for i in range(200)), close()],
            ok(*(B(b"%d" % i) for i in range(200))),
        )
    )
    return cases


# --- 12/13 permessage-deflate ------------------------------------------------


def _compressed(
    messages: list[str | bytes], deflate: Deflate, *, fragment: int = 0, final_block: bool = False
) -> list[Frame]:
    """Frames carrying ``messages`` compressed as a peer with ``deflate`` would
    (RFC 7692 §7.2.1), each message cut into frames of ``fragment`` bytes."""
    bits = max(deflate.max_window_bits, 9)  # zlib has no raw 8-bit window: see deflate.py
    compressor = zlib.compressobj(6, zlib.DEFLATED, -bits)
    frames: list[Frame] = []
    for message in messages:
        if deflate.no_context_takeover:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -bits)
        raw = message.encode() if isinstance(message, str) else message
        if final_block:
            payload = compressor.compress(raw) + compressor.flush(zlib.Z_FINISH)
            compressor = zlib.compressobj(6, zlib.DEFLATED, -bits)
        else:
            payload = (compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
        opcode = TEXT if isinstance(message, str) else BINARY
        pieces = (
            [payload[i : i + fragment] for i in range(0, len(payload), fragment)]
            if (fragment)
            else [payload]
        )
        pieces = pieces or [b""]
        for index, piece in enumerate(pieces):
            frames.append(
                Frame(
                    opcode if index == 0 else CONT,
                    piece,
                    fin=index == len(pieces) - 1,
                    rsv1=index == 0,
                )
            )
    return frames


def _echoes(messages: list[str | bytes]) -> tuple[Reply, ...]:
    return tuple(T(m) if isinstance(m, str) else B(m) for m in messages)


def _deflate_cases() -> list[Case]:
    cases = []
    sizes = (16, 64, 256, 1024, 4096, 16384, 65536, 131072)
    for number, size in enumerate(sizes, 1):
        messages: list[str | bytes] = [("Hello, world! " * (size // 14 + 1))[:size]] * 5
        cases.append(
            _case(
                f"12.1.{number}",
                f"5 compressed texts of {size} bytes",
                [*_compressed(messages, Deflate()), close()],
                ok(*_echoes(messages)),
                deflate=Deflate(),
            )
        )
        data = bytes(range(256)) * (size // 256 + 1)
        binaries: list[str | bytes] = [data[:size]] * 5
        cases.append(
            _case(
                f"12.2.{number}",
                f"5 compressed binaries of {size} bytes",
                [*_compressed(binaries, Deflate()), close()],
                ok(*_echoes(binaries)),
                deflate=Deflate(),
            )
        )
    mixed: list[str | bytes] = ["plain " * 50, b"\x00" * 300, "κόσμε" * 40]
    for number, deflate in enumerate(
        (
            Deflate(no_context_takeover=True),
            Deflate(max_window_bits=9),
            Deflate(no_context_takeover=True, max_window_bits=9),
            Deflate(max_window_bits=12),
            Deflate(max_window_bits=8),
        ),
        1,
    ):
        cases.append(
            _case(
                f"13.{number}.1",
                f"compressed messages, {deflate}",
                [*_compressed(mixed * 3, deflate), close()],
                ok(*_echoes(mixed * 3)),
                deflate=deflate,
            )
        )
    cases += [
        _case(
            "13.6.1",
            "compressed messages in fragments of 7 bytes",
            [*_compressed(mixed, Deflate(), fragment=7), close()],
            ok(*_echoes(mixed)),
            deflate=Deflate(),
        ),
        _case(
            "13.6.2",
            "compressed message ending with a final block",
            [*_compressed(mixed, Deflate(), final_block=True), close()],
            ok(*_echoes(mixed)),
            deflate=Deflate(),
        ),
        _case(
            "13.6.3",
            "compressed and uncompressed messages mixed",
            [*_compressed(["a" * 300], Deflate()), text("raw"), close()],
            ok(T("a" * 300), T("raw")),
            deflate=Deflate(),
        ),
        _case(
            "13.6.4",
            "empty compressed message",
            [Frame(TEXT, b"\x00", rsv1=True), Frame(BINARY, b"", rsv1=True), close()],
            ok(T(""), B(b"")),
            deflate=Deflate(),
        ),
        _case(
            "13.7.1",
            "compressed data that is not deflate",
            [Frame(BINARY, b"\xff\xff\xff\xff", rsv1=True)],
            fail(1007),
            deflate=Deflate(),
        ),
        _case(
            "13.7.2",
            "compressed text with invalid UTF-8",
            [
                *_compressed([b"ok\xff" * 10], Deflate())[:0],
                Frame(TEXT, _compressed([b"ok\xff" * 10], Deflate())[0].payload, rsv1=True),
            ],
            fail(1007),
            deflate=Deflate(),
        ),
    ]
    return cases


CASES: list[Case] = [
    *_framing(),
    *_pings(),
    *_reserved_bits(),
    *_opcodes(),
    *_fragmentation(),
    *_utf8(),
    *_close_handling(),
    *_big(),
    *_deflate_cases(),
]
