"""Bounds on what a WebSocket peer may send.

A plain frozen dataclass, kept out of the compiled connection module (as
``transom.http.limits`` is for HTTP/1.1) so that it validates and pickles
(``--workers`` and ``--reload`` hand the server's settings to child
processes) in exactly one way in every build.
"""

from __future__ import annotations

from dataclasses import dataclass

from transom.exceptions import ConfigurationError

__all__ = ["WebSocketLimits"]


@dataclass(frozen=True, slots=True)
class WebSocketLimits:
    """Bounds on what a peer may send; a breach fails the connection with 1009."""

    max_frame_size: int = 16 * 1024 * 1024  # payload bytes of one frame, on the wire
    max_message_size: int = 16 * 1024 * 1024  # a whole message, reassembled and inflated
    # High-water mark in bytes: the I/O layer stops reading while
    # ``buffered`` is above it (not enforced here: the core never refuses input).
    max_queue: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_frame_size", "max_message_size", "max_queue"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ConfigurationError(
                    f"WebSocketLimits.{name} must be an int >= 1, not {value!r}"
                )
