"""The events of a WebSocket connection (RFC 6455 §5.6, §5.5).

``WebSocketConnection.next_event()`` returns one of these, or ``None`` when
it needs more bytes (or the connection is closed). They are plain slotted
objects, built once per message on the hot path, so they validate nothing:
the connection validated what it received before building one.
"""

from __future__ import annotations

__all__ = [
    "BytesMessage",
    "CloseReceived",
    "Event",
    "Ping",
    "Pong",
    "ProtocolFailure",
    "TextMessage",
]


class TextMessage:
    """A whole text message (opcode 0x1), reassembled and decoded."""

    __slots__ = ("data",)

    def __init__(self, data: str) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"TextMessage({self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextMessage) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class BytesMessage:
    """A whole binary message (opcode 0x2), reassembled."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"BytesMessage({self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BytesMessage) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class Ping:
    """A ping (RFC 6455 §5.5.2). Its pong is already queued in ``data_to_send()``."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"Ping({self.payload!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ping) and self.payload == other.payload

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class Pong:
    """A pong (RFC 6455 §5.5.3), solicited or not."""

    __slots__ = ("payload",)

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def __repr__(self) -> str:
        return f"Pong({self.payload!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pong) and self.payload == other.payload

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class CloseReceived:
    """The peer's close frame (``code`` 1005 when it carried none), or EOF
    before any close frame (``code`` 1006, ``reason`` ""). The last event."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"CloseReceived({self.code!r}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CloseReceived)
            and self.code == other.code
            and self.reason == other.reason
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class ProtocolFailure:
    """The peer broke the protocol; a close frame with ``code`` is queued in
    ``data_to_send()`` and the TCP connection should be closed after it is
    flushed (RFC 6455 §7.1.7). The last event."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason

    def __repr__(self) -> str:
        return f"ProtocolFailure({self.code!r}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ProtocolFailure)
            and self.code == other.code
            and self.reason == other.reason
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


Event = TextMessage | BytesMessage | Ping | Pong | CloseReceived | ProtocolFailure
