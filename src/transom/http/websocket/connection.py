"""One WebSocket connection as a state machine, for either role (RFC 6455).

Theory of operation
-------------------
Bytes in, events out; calls in, bytes out. Nothing here reads a socket or
a clock::

    conn = WebSocketConnection(Role.SERVER)      # usually from handshake.accept()
    conn.receive_data(data)                      # b"" means the peer closed TCP
    while (event := conn.next_event()) is not None:
        ...                                      # TextMessage, BytesMessage, Ping, ...
    transport.write(conn.data_to_send())         # pongs, the close echo, a failure close
    transport.write(conn.send_text("hello"))

The state is ours and the peer's close handshake together (§7)::

    OPEN --send_close()--> CLOSING --their close--> CLOSED
    OPEN --their close (echo queued)-------------> CLOSED
    any  --protocol failure or EOF----------------> CLOSED

``CloseReceived`` and ``ProtocolFailure`` are the last events; after them
``next_event()`` returns ``None`` and received bytes are dropped. Data
frames still arrive while CLOSING (the peer may send until it sees our
close, §5.5.1). A ping arriving after our close frame went out is reported
but not answered: nothing may follow our close frame (§5.5.1).

Receiving. Bytes go into one ``bytearray`` (``del buf[:n]`` is cheap: the
array keeps a start offset). ``next_event`` first tries the fast path: a
whole unfragmented, uncompressed text or binary frame of under 64 KiB, the
common case, is cut out, unmasked and decoded in one go. Everything else
takes the general path, which reads a frame head, then feeds the payload
to the message being assembled *as it arrives*, piece by piece. That is
what makes the checks fail fast: a text message's UTF-8 is validated by an
incremental decoder, which raises at the first byte that no continuation
can make valid (§8.1), even in the middle of a frame; a frame longer than
``max_frame_size`` is refused from its head; a message over
``max_message_size`` is refused as soon as its frames' declared lengths
(or, compressed, its inflated bytes) pass the limit.

Every violation fails the connection (§7.1.7): a close frame with the code
is queued and ``ProtocolFailure(code, reason)`` returned. Codes: 1002 for
framing (RSV bits without an extension that defines them, unknown opcodes,
fragmented or long control frames, a continuation with no message or a new
message inside a fragmented one, wrong masking for the role, §5.1; a 64-bit
length with its top bit set, §5.2; a close payload of one byte or with a
code that may not be sent, §7.4), 1007 for invalid UTF-8 or undecodable
compressed data, 1009 for the limits.

Sending. ``send_text`` / ``send_bytes`` return the frame as one bytes
object, compressed when permessage-deflate was negotiated and the message
is not too small (see ``deflate.py``), and masked with a fresh random key
in the client role (§5.3). Messages are never fragmented: the I/O layer
writes them whole. ``data_to_send()`` returns what the connection queued
by itself.

Details beyond the shared contract: ``send_close()`` once a close frame has
gone out (ours, the echo or a failure close) returns ``b""``, so closing is
idempotent; after a ``ProtocolFailure`` ``close_code`` is 1006 (no close
frame was received); ``role``, ``limits`` and ``deflate`` are readable.
"""

from __future__ import annotations

import codecs
import enum
import zlib
from os import urandom
from typing import Any, Final

from transom.exceptions import LocalProtocolError
from transom.http.connection import Role
from transom.http.websocket import frames
from transom.http.websocket.deflate import PerMessageDeflate
from transom.http.websocket.events import (
    BytesMessage,
    CloseReceived,
    Event,
    Ping,
    Pong,
    ProtocolFailure,
    TextMessage,
)
from transom.http.websocket.frames import (
    MAX_CONTROL_PAYLOAD,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    PACK_16,
    PACK_64,
    apply_mask,
    close_payload,
    is_valid_received_code,
    mask_in_place,
    unmask,
)
from transom.http.websocket.limits import WebSocketLimits

__all__ = ["WebSocketConnection", "WebSocketLimits", "WebSocketState"]


class WebSocketState(enum.Enum):
    """OPEN -> CLOSING (we sent close) -> CLOSED; CLOSED also on failure or EOF."""

    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


_OPEN: Final = WebSocketState.OPEN
_CLOSING: Final = WebSocketState.CLOSING
_CLOSED: Final = WebSocketState.CLOSED
_CLIENT: Final = Role.CLIENT  # a global: enum attribute access is slow on CPython 3.11

_AT_HEAD: Final = -1  # _frame_left: the next bytes are a frame head
_FINISHED: Final = -2  # _frame_left: no more events
_FAST_LIMIT: Final = 0xFFFF  # the fast path takes frames with a 7- or 16-bit length
_LANES_FROM: Final = frames._LANES_FROM  # where apply_mask changes strategy
_CONTROL_OPS: Final = (OP_CLOSE, OP_PING, OP_PONG)
# Unmasked heads of small frames, by payload length.
_TEXT_HEADS: Final = tuple(bytes((0x80 | OP_TEXT, size)) for size in range(126))
_BINARY_HEADS: Final = tuple(bytes((0x80 | OP_BINARY, size)) for size in range(126))
_new_decoder: Final = codecs.getincrementaldecoder("utf-8")


class _Failure(Exception):
    """The peer broke the protocol: fail the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class WebSocketConnection:
    """The state machine of one WebSocket connection (RFC 6455 §5-§7).

    ``deflate`` is the negotiated permessage-deflate extension, if any; the
    handshake functions (``accept``, ``check_response``) build it.
    """

    __slots__ = (
        "_client",
        "_decoder",
        "_deflate",
        "_eof",
        "_fast_max",
        "_frame_fin",
        "_frame_left",
        "_frame_mask",
        "_frame_offset",
        "_mask_bit",
        "_max_frame",
        "_max_message",
        "_msg_compressed",
        "_msg_opcode",
        "_msg_parts",
        "_msg_size",
        "_out",
        "_recv",
        "_state",
        "close_code",
        "close_reason",
        "limits",
        "role",
    )

    def __init__(
        self,
        role: Role,
        *,
        limits: WebSocketLimits | None = None,
        deflate: PerMessageDeflate | None = None,
    ) -> None:
        self.role = role
        self.limits = limits = limits if limits is not None else WebSocketLimits()
        self._deflate = deflate
        self._client = role is _CLIENT
        # §5.1: a server receives masked frames only, a client unmasked ones only.
        self._mask_bit = 0 if self._client else 0x80
        self._max_frame = limits.max_frame_size
        self._max_message = limits.max_message_size
        self._fast_max = min(limits.max_frame_size, limits.max_message_size, _FAST_LIMIT)
        self._recv = bytearray()
        self._eof = False
        self._out: list[bytes] = []
        self._state = _OPEN
        self.close_code: int | None = None
        self.close_reason = ""
        # The frame being read (general path).
        self._frame_left = _AT_HEAD
        self._frame_fin = True
        self._frame_mask: bytes | None = None
        self._frame_offset = 0  # payload bytes already unmasked: where the key turns
        # The message being assembled (general path); opcode 0: none.
        self._msg_opcode = 0
        self._msg_compressed = False
        self._msg_size = 0
        self._msg_parts: list[Any] = []  # str pieces of a text message, else bytes
        self._decoder = _new_decoder()

    def __repr__(self) -> str:
        return f"<WebSocketConnection {self.role.value} {self._state.value}>"

    @property
    def state(self) -> WebSocketState:
        return self._state

    @property
    def deflate(self) -> PerMessageDeflate | None:
        """The negotiated permessage-deflate extension, or ``None``."""
        return self._deflate

    @property
    def buffered(self) -> int:
        """Received bytes not yet returned as events, including the message
        being assembled: compare with ``limits.max_queue`` to pause reading."""
        return len(self._recv) + self._msg_size

    # --- receiving ---------------------------------------------------------
    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Buffer bytes from the peer; ``b""`` records EOF (the TCP close)."""
        if not data:
            self._eof = True
        elif self._frame_left != _FINISHED:
            if self._eof:
                raise LocalProtocolError("receive_data() after EOF was recorded")
            self._recv += data
        # Once closed, bytes that still arrive are dropped (§7.1.1 lets the peer be slow).

    def next_event(self) -> Event | None:
        """The next event, or ``None`` when more bytes are needed or the
        connection is closed."""
        buf = self._recv
        if not buf and not self._eof:
            return None  # nothing to parse, whatever the state: the common last call
        if self._frame_left == _AT_HEAD and not self._msg_opcode and len(buf) > 1:
            # Fast path: one whole FIN text/binary frame, no RSV bits but RSV1
            # when permessage-deflate was negotiated, the masking the role
            # expects, under the limits.
            head = buf[0]
            plain = head & 0xBF  # without RSV1, permessage-deflate's "compressed"
            if (plain == 0x81 or plain == 0x82) and (head == plain or self._deflate is not None):
                size = buf[1] ^ self._mask_bit  # >= 128 when the MASK bit is wrong
                start = 2
                if size > 125:
                    if size == 126 and len(buf) > 3:
                        size = (buf[2] << 8) | buf[3]
                        start = 4
                    else:
                        size = _FAST_LIMIT + 1  # not for the fast path
                if size <= self._fast_max:
                    if self._mask_bit:
                        end = start + 4 + size
                        if len(buf) >= end:
                            payload = unmask(buf, start, size)
                            del buf[:end]
                            if head != plain:
                                return self._inflated(plain, payload)
                            if head == 0x82:
                                return BytesMessage(payload)
                            try:
                                return TextMessage(payload.decode())
                            except UnicodeDecodeError:
                                return self._fail(1007, "invalid UTF-8 in a text message")
                    else:
                        end = start + size
                        if len(buf) >= end:
                            if head != plain:
                                payload = bytes(buf[start:end])
                                del buf[:end]
                                return self._inflated(plain, payload)
                            if head == 0x82:
                                payload = bytes(buf[start:end])
                                del buf[:end]
                                return BytesMessage(payload)
                            try:
                                text = buf[start:end].decode()
                            except UnicodeDecodeError:
                                return self._fail(1007, "invalid UTF-8 in a text message")
                            del buf[:end]
                            return TextMessage(text)
        if self._frame_left == _FINISHED:
            return None
        try:
            event = self._parse()
        except _Failure as failure:
            return self._fail(failure.code, failure.reason)
        if event is None and self._eof:
            # §7.1.5: the TCP connection closed without a close frame: 1006.
            self._finish(1006, "")
            return CloseReceived(1006, "")
        return event

    def _inflated(self, head: int, payload: bytes) -> Event:
        """The event of a whole compressed frame the fast path took (RFC 7692
        §6.2): the same checks as ``_feed``'s, on one piece."""
        deflate = self._deflate
        assert deflate is not None  # the fast path takes RSV1 only with it
        limit = self._max_message
        try:
            data = deflate.decompress(payload, limit + 1, True)
        except zlib.error:
            return self._fail(1007, "invalid compressed data")
        if len(data) > limit:
            return self._fail(1009, f"message over the limit of {limit} bytes")
        if head == 0x82:
            return BytesMessage(data)
        try:
            return TextMessage(data.decode())
        except UnicodeDecodeError:
            return self._fail(1007, "invalid UTF-8 in a text message")

    def _parse(self) -> Event | None:
        """General path: heads, then payload pieces as they arrive."""
        buf = self._recv
        while True:
            left = self._frame_left
            if left < 0:
                head = self._read_head()
                if head is None:
                    return None
                if not isinstance(head, bool):
                    return head  # a control frame's event
                continue
            take = left if left <= len(buf) else len(buf)
            if left and not take:
                return None
            mask = self._frame_mask
            if mask is not None and take:
                turn = self._frame_offset & 3
                self._frame_offset += take
                if take < _LANES_FROM:
                    chunk = apply_mask(buf[:take], mask[turn:] + mask[:turn])
                else:
                    chunk = mask_in_place(buf[:take], mask[turn:] + mask[:turn])
            else:
                chunk = bytes(buf[:take])
            del buf[:take]
            left -= take
            final = self._frame_fin and not left
            self._feed(chunk, final)
            if left:
                self._frame_left = left
                continue
            self._frame_left = _AT_HEAD
            if final:
                return self._message()

    def _read_head(self) -> Event | bool | None:
        """Read a frame head: ``None`` if incomplete, ``True`` for a data
        frame (its payload is next), or the event of a whole control frame."""
        buf = self._recv
        available = len(buf)
        if available < 2:
            return None
        first = buf[0]
        second = buf[1]
        opcode = first & 0x0F
        if second & 0x80 != self._mask_bit:  # §5.1
            if self._client:
                raise _Failure(1002, "masked frame from a server")
            raise _Failure(1002, "unmasked frame from a client")
        if opcode >= 8:
            self._check_control_head(first, opcode, second & 0x7F)
        else:
            self._check_data_head(first, opcode)
        size = second & 0x7F
        start = 2
        if size == 126:
            if available < 4:
                return None
            size = (buf[2] << 8) | buf[3]
            start = 4
        elif size == 127:
            if available < 10:
                return None
            size = int.from_bytes(buf[2:10], "big")
            start = 10
            if size >> 63:  # §5.2: "the most significant bit MUST be 0"
                raise _Failure(1002, "64-bit frame length with the top bit set")
        mask: bytes | None = None
        if self._mask_bit:
            if available < start + 4:
                return None
            mask = bytes(buf[start : start + 4])
            start += 4
        if opcode >= 8:
            end = start + size
            if available < end:
                return None
            payload = bytes(buf[start:end])
            del buf[:end]
            return self._control(opcode, apply_mask(payload, mask) if mask else payload)
        self._start_data(first, opcode, size)
        del buf[:start]
        self._frame_left = size
        self._frame_mask = mask
        self._frame_offset = 0
        self._frame_fin = bool(first & 0x80)
        return True

    def _check_control_head(self, first: int, opcode: int, size: int) -> None:
        if opcode not in _CONTROL_OPS:
            raise _Failure(1002, f"unknown opcode {opcode:#x}")
        if first & 0x70:
            raise _Failure(1002, "RSV bits set on a control frame")
        if not first & 0x80:
            raise _Failure(1002, "fragmented control frame")  # §5.5
        if size > MAX_CONTROL_PAYLOAD:
            raise _Failure(1002, "control frame payload over 125 bytes")  # §5.5

    def _check_data_head(self, first: int, opcode: int) -> None:
        if opcode > OP_BINARY:
            raise _Failure(1002, f"unknown opcode {opcode:#x}")
        if first & 0x30:
            raise _Failure(1002, "RSV2 or RSV3 set without an extension defining them")
        if opcode == OP_CONTINUATION:
            if not self._msg_opcode:
                raise _Failure(1002, "continuation frame without a message to continue")
            if first & 0x40:
                raise _Failure(1002, "RSV1 set on a continuation frame")  # RFC 7692 §6.1
        else:
            if self._msg_opcode:
                raise _Failure(1002, "new data frame inside a fragmented message")  # §5.4
            if first & 0x40 and self._deflate is None:
                raise _Failure(1002, "RSV1 set without permessage-deflate")

    def _start_data(self, first: int, opcode: int, size: int) -> None:
        """Check a data frame's size and start its message if it is the first."""
        if size > self._max_frame:
            raise _Failure(1009, f"frame of {size} bytes over the limit of {self._max_frame}")
        if opcode != OP_CONTINUATION:
            self._msg_opcode = opcode
            self._msg_compressed = bool(first & 0x40)
            self._msg_size = 0
            self._msg_parts = []
            if opcode == OP_TEXT:
                self._decoder.reset()
        if not self._msg_compressed and self._msg_size + size > self._max_message:
            raise _Failure(1009, f"message over the limit of {self._max_message} bytes")

    def _feed(self, chunk: bytes, final: bool) -> None:
        """Add a piece of payload to the message being assembled."""
        if self._msg_compressed:
            deflate = self._deflate
            assert deflate is not None  # RSV1 was refused without it
            room = self._max_message - self._msg_size
            try:
                chunk = deflate.decompress(chunk, room + 1, final)
            except zlib.error:
                raise _Failure(1007, "invalid compressed data") from None
            if len(chunk) > room:
                raise _Failure(1009, f"message over the limit of {self._max_message} bytes")
        self._msg_size += len(chunk)
        if self._msg_opcode == OP_TEXT:
            decoder = self._decoder
            try:
                text = decoder.decode(chunk, final)
            except UnicodeDecodeError:
                raise _Failure(1007, "invalid UTF-8 in a text message") from None
            pending = decoder.getstate()[0]
            if len(pending) > 1 and pending[0] == 0xED and pending[1] > 0x9F:
                # ED A0..BF starts a UTF-16 surrogate, never valid (RFC 3629 §4);
                # the codec only says so at the third byte: fail now.
                raise _Failure(1007, "invalid UTF-8 in a text message")
            if text:
                self._msg_parts.append(text)
        elif chunk:
            self._msg_parts.append(chunk)

    def _message(self) -> Event:
        """The event of the message just completed."""
        parts = self._msg_parts
        self._msg_parts = []
        self._msg_size = 0
        opcode = self._msg_opcode
        self._msg_opcode = 0
        if opcode == OP_TEXT:
            return TextMessage("".join(parts))
        return BytesMessage(b"".join(parts))

    def _control(self, opcode: int, payload: bytes) -> Event:
        if opcode == OP_PING:
            if self._state is _OPEN:
                self._out.append(_control_frame(0x80 | OP_PONG, payload, self._client))
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        code, reason = _parse_close(payload)
        if self._state is _OPEN:
            # §5.5.1: answer with a close frame, echoing the status code.
            echo = b"" if code == 1005 else payload[:2]
            self._out.append(_control_frame(0x80 | OP_CLOSE, echo, self._client))
        self._finish(code, reason)
        return CloseReceived(code, reason)

    def _fail(self, code: int, reason: str) -> ProtocolFailure:
        """§7.1.7 Fail the WebSocket Connection: queue our close with ``code``."""
        if self._state is _OPEN:
            text = reason.encode()[: MAX_CONTROL_PAYLOAD - 2].decode(errors="ignore")
            frame = _control_frame(0x88, close_payload(code, text), self._client)
            self._out.append(frame)
        self._finish(1006, "")
        if self._msg_compressed and self._deflate is not None:
            self._deflate.reset_receive()
        return ProtocolFailure(code, reason)

    def _finish(self, code: int, reason: str) -> None:
        self._state = _CLOSED
        self.close_code = code
        self.close_reason = reason
        self._frame_left = _FINISHED
        self._recv.clear()
        self._msg_parts = []
        self._msg_size = 0
        self._msg_opcode = 0

    # --- sending -----------------------------------------------------------
    def send_text(self, text: str) -> bytes:
        """A text message as a frame (RFC 6455 §5.6)."""
        if self._state is not _OPEN:
            raise LocalProtocolError(f"cannot send a message on a {self._state.value} WebSocket")
        if type(text) is not str:
            # A TypeError, as the compiled build's argument check raises.
            raise TypeError(f"send_text() takes str, not {type(text).__name__}")
        try:
            data = text.encode()
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"text not encodable as UTF-8: {exc}") from None
        deflate = self._deflate
        if deflate is not None:
            compressed = deflate.compress(data)
            if compressed is not None:
                return _data_frame(0xC0 | OP_TEXT, compressed, self._client)
        if self._client or len(data) > 125:
            return _data_frame(0x80 | OP_TEXT, data, self._client)
        return _TEXT_HEADS[len(data)] + data

    def send_bytes(self, data: bytes | bytearray | memoryview) -> bytes:
        """A binary message as a frame (RFC 6455 §5.6)."""
        if self._state is not _OPEN:
            raise LocalProtocolError(f"cannot send a message on a {self._state.value} WebSocket")
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
            data = bytes(data)
        deflate = self._deflate
        if deflate is not None:
            compressed = deflate.compress(data)
            if compressed is not None:
                return _data_frame(0xC0 | OP_BINARY, compressed, self._client)
        if self._client or len(data) > 125:
            return _data_frame(0x80 | OP_BINARY, data, self._client)
        return _BINARY_HEADS[len(data)] + data

    def send_ping(self, payload: bytes | bytearray | memoryview = b"") -> bytes:
        """A ping frame (§5.5.2); ``payload`` at most 125 bytes."""
        return self._send_control(OP_PING, payload)

    def send_pong(self, payload: bytes | bytearray | memoryview = b"") -> bytes:
        """An unsolicited pong frame (§5.5.3), e.g. as a heartbeat."""
        return self._send_control(OP_PONG, payload)

    def _send_control(self, opcode: int, payload: bytes | bytearray | memoryview) -> bytes:
        if self._state is not _OPEN:
            raise LocalProtocolError(
                f"cannot send a ping or pong on a {self._state.value} WebSocket"
            )
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        data = bytes(payload)
        if len(data) > MAX_CONTROL_PAYLOAD:
            raise LocalProtocolError("control frame payload over 125 bytes (RFC 6455 §5.5)")
        return _control_frame(0x80 | opcode, data, self._client)

    def send_close(self, code: int = 1000, reason: str = "") -> bytes:
        """Our close frame (§5.5.1); 1005 sends one without a status code.

        Returns ``b""`` once a close frame went out already (ours, or the
        automatic echo or failure close): closing is idempotent.
        """
        payload = close_payload(code, reason)
        if self._state is not _OPEN:
            return b""
        self._state = _CLOSING
        return _control_frame(0x80 | OP_CLOSE, payload, self._client)

    def data_to_send(self) -> bytes:
        """Frames the connection queued itself (pongs, close echo, failure close)."""
        out = self._out
        if not out:
            return b""
        data = b"".join(out)
        out.clear()
        return data


def _data_frame(head: int, payload: bytes, masked: bool) -> bytes:
    size = len(payload)
    if masked:
        key = urandom(4)  # §5.3: unpredictable, fresh for every frame
        if size < 126:
            return bytes((head, 0x80 | size)) + key + apply_mask(payload, key)
        if size < 0x10000:
            return PACK_16(head, 0xFE, size) + key + apply_mask(payload, key)
        return PACK_64(head, 0xFF, size) + key + apply_mask(payload, key)
    if size < 126:
        return bytes((head, size)) + payload
    if size < 0x10000:
        return PACK_16(head, 126, size) + payload
    return PACK_64(head, 127, size) + payload


def _control_frame(head: int, payload: bytes, masked: bool) -> bytes:
    if masked:
        key = urandom(4)
        return bytes((head, 0x80 | len(payload))) + key + apply_mask(payload, key)
    return bytes((head, len(payload))) + payload


def _parse_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a received close frame (§5.5.1, §7.4)."""
    if not payload:
        return 1005, ""  # §7.1.5: no status code
    if len(payload) == 1:
        raise _Failure(1002, "close frame with a one-byte payload")
    code = (payload[0] << 8) | payload[1]
    if not is_valid_received_code(code):
        raise _Failure(1002, f"invalid close code {code}")
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        raise _Failure(1007, "invalid UTF-8 in a close reason") from None
    return code, reason
