"""Bounds on what a peer may send in an HTTP/1.1 message.

A plain frozen dataclass, kept out of the compiled connection module so that
it validates and pickles (``--workers`` and ``--reload`` hand the server's
settings to child processes) in exactly one way in every build.
"""

from __future__ import annotations

from dataclasses import dataclass

from transom.exceptions import ConfigurationError

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a peer may send. A breach raises ``RemoteProtocolError``
    with the status a server answers it with."""

    max_request_line: int = 8190  # request-line / status-line bytes -> 414
    max_header_bytes: int = 65536  # whole head (and trailer block) bytes -> 431
    # Header fields -> 431. Generous: browsers behind corporate proxies send 60-100;
    # max_header_bytes bounds the work a head can cost.
    max_header_count: int = 256
    max_body_size: int | None = 100 * 1024 * 1024  # bytes of body -> 413; None: unbounded

    def __post_init__(self) -> None:
        for name, least in (
            ("max_request_line", 1),
            ("max_header_bytes", 1),
            ("max_header_count", 0),
            ("max_body_size", 0),
        ):
            value = getattr(self, name)
            if value is None and name == "max_body_size":
                continue
            if type(value) is not int or value < least:
                raise ConfigurationError(f"Limits.{name} must be an int >= {least}, not {value!r}")
