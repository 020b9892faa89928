"""What one side wants of permessage-deflate (RFC 7692 §7.1): ``DeflateOptions``.

A plain frozen dataclass, kept out of the compiled ``deflate`` module (as
``limits.py`` is) so that it validates and pickles (``--workers`` and
``--reload`` hand the server's settings to child processes) in exactly one
way in every build. ``transom.http.websocket.deflate`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from transom.exceptions import ConfigurationError

__all__ = ["DeflateOptions"]


@dataclass(frozen=True, slots=True)
class DeflateOptions:
    """permessage-deflate settings of our side (RFC 7692 §7.1).

    ``server_*`` / ``client_*`` name the side that compresses. Window bits
    are 9..15 (zlib cannot compress raw deflate with 8). ``compress_level``
    is zlib's 0..9, 1 by default: on text-like messages of 1 MiB level 1
    compresses 2.5-4.5 times faster than zlib's default 6, for output 8-20%
    larger, and a server pays that CPU on every message it sends (aiohttp
    chose the same). Messages shorter than ``min_size`` bytes are sent
    uncompressed.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    compress_level: int = 1
    min_size: int = 128

    def __post_init__(self) -> None:
        for name in ("server_max_window_bits", "client_max_window_bits"):
            value = getattr(self, name)
            if type(value) is not int or not 9 <= value <= 15:
                raise ConfigurationError(f"DeflateOptions.{name} must be 9..15, not {value!r}")
        if type(self.compress_level) is not int or not 0 <= self.compress_level <= 9:
            raise ConfigurationError(
                f"DeflateOptions.compress_level must be 0..9, not {self.compress_level!r}"
            )
        if type(self.min_size) is not int or self.min_size < 0:
            raise ConfigurationError(f"DeflateOptions.min_size must be >= 0, not {self.min_size!r}")
