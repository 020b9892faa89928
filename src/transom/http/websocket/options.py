"""What one side wants of permessage-deflate (RFC 7692 §7.1): ``DeflateOptions``.

A plain frozen dataclass, kept out of the compiled ``deflate`` module (as
``limits.py`` is) so that it validates and pickles (``--workers`` and
``--reload`` hand the server's settings to child processes) in exactly one
way in every build. ``transom.http.websocket.deflate`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from transom.exceptions import ConfigurationError

__all__ = ["SERVER_DEFLATE", "DeflateOptions"]


@dataclass(frozen=True, slots=True)
class DeflateOptions:
    """permessage-deflate settings of our side (RFC 7692 §7.1).

    ``server_*`` / ``client_*`` name the side that compresses. Window bits
    are 9..15 (zlib cannot compress raw deflate with 8). ``compress_level``
    is zlib's 0..9, 1 by default: on text-like messages of 1 MiB level 1
    compresses 2.5-4.5 times faster than zlib's default 6, for output 8-20%
    larger, and a server pays that CPU on every message it sends (aiohttp
    chose the same). Messages shorter than ``min_size`` bytes are sent
    uncompressed. ``mem_level`` is zlib's memLevel (1..9, 8 by default) for
    our compressor.

    Memory: a compressor holds about ``2 ** (server_max_window_bits + 2) +
    2 ** (mem_level + 9)`` bytes (256 KiB at 15 and 8), the decompressor
    ``2 ** window bits`` (32 KiB at 15), for as long as the connection
    lives when the context is taken over. A server with many connections
    wants them small: ``SERVER_DEFLATE`` (12, 12 and 5: about 36 KiB) is the
    server's default, as the ``websockets`` library's is.
    """

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int = 15
    client_max_window_bits: int = 15
    compress_level: int = 1
    min_size: int = 128
    mem_level: int = 8

    def __post_init__(self) -> None:
        for name in ("server_max_window_bits", "client_max_window_bits"):
            value = getattr(self, name)
            if type(value) is not int or not 9 <= value <= 15:
                raise ConfigurationError(f"DeflateOptions.{name} must be 9..15, not {value!r}")
        if type(self.compress_level) is not int or not 0 <= self.compress_level <= 9:
            raise ConfigurationError(
                f"DeflateOptions.compress_level must be 0..9, not {self.compress_level!r}"
            )
        if type(self.mem_level) is not int or not 1 <= self.mem_level <= 9:
            raise ConfigurationError(
                f"DeflateOptions.mem_level must be 1..9, not {self.mem_level!r}"
            )
        if type(self.min_size) is not int or self.min_size < 0:
            raise ConfigurationError(f"DeflateOptions.min_size must be >= 0, not {self.min_size!r}")


#: The server's default: windows of 4 KiB both ways (the client's only when
#: it offers ``client_max_window_bits``, as browsers do) and memLevel 5.
SERVER_DEFLATE = DeflateOptions(server_max_window_bits=12, client_max_window_bits=12, mem_level=5)
