"""The permessage-deflate extension (RFC 7692): negotiation and (de)compression.

Theory of operation
-------------------
``DeflateOptions`` are one side's wishes; ``PerMessageDeflate`` is what the
handshake agreed, seen from our side ("send" = what we compress, "receive"
= what the peer compresses), and does the work for the connection.

Negotiation (RFC 7692 §5, §7.1). The client offers its options
(``client_offer``); ``client_max_window_bits`` is always offered, with no
value at 15, so the server may shrink our window. The server
(``server_negotiate``) takes the first offer whose parameters are all
known, unrepeated and valid (an invalid offer is declined, §5.1, and the
next one tried) and answers with:

* ``server_no_context_takeover`` when offered or wanted by us;
* ``client_no_context_takeover`` when offered or wanted by us (a server may
  ask for it unasked, §7.1.1.2);
* ``server_max_window_bits=min(offered, ours)``, or ours alone below 15;
* ``client_max_window_bits=N`` only if the client offered the parameter,
  with N = min(its value or 15, ours), when that is below 15.

The client (``client_accept``) fails the handshake for an answer with a
parameter it did not offer, repeated or invalid, or one that ignores what
it asked for (a ``server_max_window_bits`` above its offer, a missing
``server_no_context_takeover``).

Window bits 8. zlib cannot produce raw deflate with a 256-byte window
(deflateInit2 refuses windowBits -8). When the peer limits *our* window to
8 bits we still accept, and honour it by sending every message
uncompressed (RSV1 clear), which §6 allows and uses no window at all. We
never ask for 8 ourselves (``DeflateOptions`` takes 9..15). For
decompression any window of 9..15 bits also inflates streams made with a
smaller window, so 8 there is simply read as 9.

Compression (§7.2.1). A message is compressed and flushed with
Z_SYNC_FLUSH, whose output always ends with the empty stored block
``00 00 ff ff``; those four bytes are removed. Without context takeover,
Z_FULL_FLUSH is used instead: the same tail, and the compressor forgets
the previous messages, as a fresh one would, without reallocating it.
Messages under ``min_size`` bytes go out uncompressed: deflate's block
overhead usually makes them bigger, and it costs more time than it saves.

Decompression (§7.2.2). The tail is appended back after the last frame.
``decompress`` is called on each piece as it arrives with ``max_length`` =
the bytes the message may still grow, plus one: a small frame that would
inflate past the limit (a "deflate bomb") is refused after inflating at
most limit + 1 bytes. The peer's context is kept across messages unless it
ended its stream (BFINAL), when a fresh decompressor starts; a peer
without context takeover needs no reset on our side, since its messages
never refer to earlier ones.
"""

from __future__ import annotations

import zlib
from typing import Final

from transom.http.websocket._fields import Extension, parse_extensions

# DeflateOptions lives in options.py, a plain module: this one is compiled
# (transom._build.COMPILED_MODULES), and a compiled frozen dataclass neither
# validates nor pickles as the server's settings need.
from transom.http.websocket.options import DeflateOptions

__all__ = [
    "EXTENSION_NAME",
    "DeflateOptions",
    "PerMessageDeflate",
    "client_accept",
    "client_offer",
    "server_negotiate",
]

EXTENSION_NAME: Final = "permessage-deflate"
_TAIL: Final = b"\x00\x00\xff\xff"  # RFC 7692 §7.2.1: the empty stored block a sync flush ends with
_PARAMS: Final = frozenset(
    (
        "server_no_context_takeover",
        "client_no_context_takeover",
        "server_max_window_bits",
        "client_max_window_bits",
    )
)
_WINDOW_VALUES: Final = {str(bits): bits for bits in range(8, 16)}  # §7.1.2: 8..15, no leading zero


class PerMessageDeflate:
    """The negotiated extension, from our side: compresses what we send and
    decompresses what we receive."""

    __slots__ = (
        "_compressor",
        "_decompressor",
        "_flush_mode",
        "_level",
        "_mem_level",
        "_receive_bits",
        "min_size",
        "receive_max_window_bits",
        "receive_no_context_takeover",
        "send_max_window_bits",
        "send_no_context_takeover",
    )

    def __init__(
        self,
        *,
        send_no_context_takeover: bool = False,
        receive_no_context_takeover: bool = False,
        send_max_window_bits: int = 15,
        receive_max_window_bits: int = 15,
        compress_level: int = 1,
        min_size: int = 128,
        mem_level: int = 8,
    ) -> None:
        self.send_no_context_takeover = send_no_context_takeover
        self.receive_no_context_takeover = receive_no_context_takeover
        self.send_max_window_bits = send_max_window_bits
        self.receive_max_window_bits = receive_max_window_bits
        self.min_size = min_size
        self._level = compress_level
        self._mem_level = mem_level
        # Z_FULL_FLUSH: same tail as Z_SYNC_FLUSH, and the history is dropped.
        self._flush_mode = zlib.Z_FULL_FLUSH if send_no_context_takeover else zlib.Z_SYNC_FLUSH
        self._compressor: zlib._Compress | None = None
        if send_max_window_bits < 9:
            self.min_size = -1  # never compress: see "Window bits 8" above
        self._receive_bits = max(receive_max_window_bits, 9)
        self._decompressor = zlib.decompressobj(-self._receive_bits)

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflate(send_no_context_takeover={self.send_no_context_takeover!r}, "
            f"receive_no_context_takeover={self.receive_no_context_takeover!r}, "
            f"send_max_window_bits={self.send_max_window_bits!r}, "
            f"receive_max_window_bits={self.receive_max_window_bits!r})"
        )

    def compress(self, data: bytes) -> bytes | None:
        """The compressed payload of a message, or ``None`` to send it as is."""
        if len(data) < self.min_size or self.min_size < 0:
            return None
        compressor = self._compressor
        if compressor is None:
            compressor = self._compressor = zlib.compressobj(
                self._level, zlib.DEFLATED, -self.send_max_window_bits, self._mem_level
            )
        out = compressor.compress(data) + compressor.flush(self._flush_mode)
        return out[:-4] if out.endswith(_TAIL) else out

    def decompress(self, data: bytes, max_length: int, final: bool) -> bytes:
        """Inflate one piece of a message, producing at most ``max_length``
        bytes (0: no bound); ``final`` for its last piece. ``zlib.error`` if
        the data is not valid deflate."""
        decompressor = self._decompressor
        if not final:
            return decompressor.decompress(data, max_length) if data else b""
        # RFC 7692 §7.2.2: the sender dropped the empty block's 00 00 ff ff;
        # inflating it with the last piece is one call (the copy of a small
        # message costs less than a second call).
        out = decompressor.decompress(data + _TAIL, max_length)
        if decompressor.eof:  # the peer ended its stream with BFINAL
            self._decompressor = zlib.decompressobj(-self._receive_bits)
        return out

    def reset_receive(self) -> None:
        """Forget a message whose decompression was abandoned."""
        self._decompressor = zlib.decompressobj(-self._receive_bits)


# --- negotiation -------------------------------------------------------------


def client_offer(options: DeflateOptions) -> bytes:
    """The Sec-WebSocket-Extensions value a client sends (RFC 7692 §5, §7.1)."""
    parts = [EXTENSION_NAME]
    if options.server_no_context_takeover:
        parts.append("server_no_context_takeover")
    if options.client_no_context_takeover:
        parts.append("client_no_context_takeover")
    if options.server_max_window_bits < 15:
        parts.append(f"server_max_window_bits={options.server_max_window_bits}")
    if options.client_max_window_bits < 15:
        parts.append(f"client_max_window_bits={options.client_max_window_bits}")
    else:
        parts.append("client_max_window_bits")  # we can use a smaller window if asked
    return "; ".join(parts).encode()


def _params(params: list[tuple[str, str | None]]) -> dict[str, int | None]:
    """Check permessage-deflate parameters (§7.1); ``ValueError`` if invalid.

    Window bits become ints; a bare ``client_max_window_bits`` is ``None``.
    """
    found: dict[str, int | None] = {}
    for name, value in params:
        if name not in _PARAMS:
            raise ValueError(f"unknown permessage-deflate parameter {name!r}")
        if name in found:
            raise ValueError(f"permessage-deflate parameter {name!r} repeated")
        if name.endswith("_no_context_takeover"):
            if value is not None:
                raise ValueError(f"{name} takes no value")
            found[name] = None
        elif value is None:
            if name == "server_max_window_bits":
                raise ValueError("server_max_window_bits needs a value")
            found[name] = None
        elif value in _WINDOW_VALUES:
            found[name] = _WINDOW_VALUES[value]
        else:
            raise ValueError(f"{name}={value!r} is not 8..15")
    return found


def server_negotiate(
    values: list[bytes], options: DeflateOptions
) -> tuple[bytes, PerMessageDeflate] | None:
    """Answer a client's Sec-WebSocket-Extensions fields: the response value
    and the extension, or ``None`` when no permessage-deflate offer is
    acceptable. A malformed field is ``ValueError``."""
    extensions: list[Extension] = parse_extensions(values)
    for name, raw in extensions:
        if name != EXTENSION_NAME:
            continue
        try:
            offer = _params(raw)
        except ValueError:
            continue  # RFC 7692 §5.1: decline this offer, consider the next
        return _answer(offer, options)
    return None


def _answer(
    offer: dict[str, int | None], options: DeflateOptions
) -> tuple[bytes, PerMessageDeflate]:
    parts = [EXTENSION_NAME]
    server_nct = "server_no_context_takeover" in offer or options.server_no_context_takeover
    client_nct = "client_no_context_takeover" in offer or options.client_no_context_takeover
    if server_nct:
        parts.append("server_no_context_takeover")
    if client_nct:
        parts.append("client_no_context_takeover")
    server_bits = min(offer.get("server_max_window_bits") or 15, options.server_max_window_bits)
    if server_bits < 15 or "server_max_window_bits" in offer:
        parts.append(f"server_max_window_bits={server_bits}")
    client_bits = 15
    if "client_max_window_bits" in offer:
        client_bits = min(offer["client_max_window_bits"] or 15, options.client_max_window_bits)
        if client_bits < 15:
            parts.append(f"client_max_window_bits={client_bits}")
    extension = PerMessageDeflate(
        send_no_context_takeover=server_nct,
        receive_no_context_takeover=client_nct,
        send_max_window_bits=server_bits,
        receive_max_window_bits=client_bits,
        compress_level=options.compress_level,
        min_size=options.min_size,
        mem_level=options.mem_level,
    )
    return "; ".join(parts).encode(), extension


def client_accept(values: list[bytes], options: DeflateOptions | None) -> PerMessageDeflate | None:
    """Check a server's Sec-WebSocket-Extensions fields against our offer
    (made from ``options``; ``None``: we offered nothing). Returns the
    extension, ``None`` if the server declined, or raises ``ValueError``."""
    extensions = parse_extensions(values)
    if not extensions:
        return None
    if options is None:
        raise ValueError("the server chose an extension we did not offer")
    if len(extensions) > 1 or extensions[0][0] != EXTENSION_NAME:
        names = ", ".join(name for name, _ in extensions)
        raise ValueError(f"the server chose extensions we did not offer: {names}")
    answer = _params(extensions[0][1])
    if options.server_no_context_takeover and "server_no_context_takeover" not in answer:
        raise ValueError("the server ignored server_no_context_takeover")
    if "server_max_window_bits" in answer:
        server_bits = answer["server_max_window_bits"] or 15
        if server_bits > options.server_max_window_bits:
            raise ValueError(f"server_max_window_bits={server_bits} is above our offer")
    elif options.server_max_window_bits < 15:
        raise ValueError("the server ignored server_max_window_bits")
    else:
        server_bits = 15
    client_bits = options.client_max_window_bits
    if "client_max_window_bits" in answer:
        asked = answer["client_max_window_bits"]
        if asked is None:
            raise ValueError("client_max_window_bits needs a value in a response")
        if asked > client_bits:
            raise ValueError(f"client_max_window_bits={asked} is above our offer")
        client_bits = asked
    return PerMessageDeflate(
        send_no_context_takeover=(
            "client_no_context_takeover" in answer or options.client_no_context_takeover
        ),
        receive_no_context_takeover="server_no_context_takeover" in answer,
        send_max_window_bits=client_bits,
        receive_max_window_bits=server_bits,
        compress_level=options.compress_level,
        min_size=options.min_size,
        mem_level=options.mem_level,
    )
