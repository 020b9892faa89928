"""The events of one HTTP/1.1 message exchange.

A message is a head (``Request`` or ``Response``), zero or more ``Data``
events, and one ``EndOfMessage``. ``ConnectionClosed`` says the peer closed
its side. Events are plain slotted objects: they are built once per message
on the hot path, so they validate nothing themselves; the ``Connection``
validates what it receives and what it is asked to send.

Header names in received events are lower-cased bytes and values have their
surrounding whitespace removed, so a ``Request``'s ``headers`` can be handed
to an ASGI app as they are.
"""

from __future__ import annotations

__all__ = [
    "ConnectionClosed",
    "Data",
    "EndOfMessage",
    "Event",
    "HeaderList",
    "Request",
    "Response",
]

HeaderList = list[tuple[bytes, bytes]]


class Request:
    """A request head: ``GET /path?q HTTP/1.1`` and its header fields."""

    __slots__ = ("headers", "http_version", "method", "target")

    def __init__(
        self,
        method: bytes,
        target: bytes,
        headers: HeaderList,
        http_version: bytes = b"1.1",
    ) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.http_version = http_version

    def __repr__(self) -> str:
        return f"Request({self.method!r}, {self.target!r}, {self.headers!r}, {self.http_version!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Request)
            and self.method == other.method
            and self.target == other.target
            and self.headers == other.headers
            and self.http_version == other.http_version
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class Response:
    """A response head. ``status_code`` < 200 makes it an interim (1xx) response."""

    __slots__ = ("headers", "http_version", "reason", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: HeaderList,
        http_version: bytes = b"1.1",
        reason: bytes = b"",
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.http_version = http_version
        self.reason = reason

    def __repr__(self) -> str:
        return (
            f"Response({self.status_code!r}, {self.headers!r}, "
            f"{self.http_version!r}, {self.reason!r})"
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Response)
            and self.status_code == other.status_code
            and self.headers == other.headers
            and self.http_version == other.http_version
            and self.reason == other.reason
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class Data:
    """A piece of a message body, already de-chunked."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Data({self.data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Data) and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class EndOfMessage:
    """The end of a message body. ``trailers`` are kept apart, never merged into the head."""

    __slots__ = ("trailers",)

    def __init__(self, trailers: HeaderList | None = None) -> None:
        self.trailers: HeaderList = trailers if trailers is not None else []

    def __repr__(self) -> str:
        return f"EndOfMessage({self.trailers!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EndOfMessage) and self.trailers == other.trailers

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class ConnectionClosed:
    """The peer closed its side of the connection."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ConnectionClosed()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectionClosed)

    __hash__ = None  # type: ignore[assignment]  # value object


Event = Request | Response | Data | EndOfMessage | ConnectionClosed
