"""WebSocket frames on the wire (RFC 6455 §5): masking, headers, close payloads.

Theory of operation
-------------------
A frame is a 2-byte head (FIN, RSV1-3, opcode; MASK bit and a 7-bit
length), an extended length (16 bits after 126, 64 bits after 127), a
4-byte masking key when the MASK bit is set, and the payload::

    0x81 0x05 b"hello"                      # FIN + text, unmasked, 5 bytes
    0x81 0x85 <key:4> <masked payload:5>    # the same from a client

Parsing lives in ``connection.py``, where it reads straight from the
receive buffer; this module holds what both directions share: the fast
masking function, frame building (``build_frame``, general enough to build
invalid frames for tests), and the close-frame payload rules of §5.5.1 and
§7.4.

Masking (§5.3) XORs the payload with the 4-byte key repeated. Pure Python
has no vectorised XOR on bytes, but it has two whole-buffer operations that
run in C: ``int.from_bytes`` / XOR / ``to_bytes`` over the whole payload
(fastest for small payloads: three C calls), and ``bytes.translate`` over
each of the four byte lanes ``data[i::4]`` (fastest for large ones: the
big-int conversions grow slower per byte). ``py_apply_mask`` picks by size;
the crossover was measured (see ``_LANES_FROM``). ``unmask`` takes a frame's
payload straight from the receive buffer.

The compiled build adds ``_mask``, the same two functions in C (8 bytes per
step; a 64-byte frame costs some 200 instructions instead of 5,000, a MiB a
fraction of a millisecond instead of milliseconds). Where it exists it is
used; the Python functions here stay the reference, and the tests compare
the two.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from types import ModuleType
from typing import Final

from transom.exceptions import LocalProtocolError

__all__ = [
    "MAX_CONTROL_PAYLOAD",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "apply_mask",
    "build_frame",
    "close_payload",
    "is_valid_received_code",
    "mask_in_place",
    "py_apply_mask",
    "py_unmask",
    "unmask",
]

# RFC 6455 §5.2 opcodes.
OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

MAX_CONTROL_PAYLOAD: Final = 125  # §5.5: control frames carry at most 125 payload bytes

PACK_16: Final = struct.Struct("!BBH").pack  # head byte, 126 (| MASK), 16-bit length
PACK_64: Final = struct.Struct("!BBQ").pack  # head byte, 127 (| MASK), 64-bit length

# Payloads this long or longer are masked lane by lane with bytes.translate
# (measured on CPython 3.11: equal at 512 bytes; at 64 bytes the int way
# takes 2/3 of the time, at 1 MiB the lanes take under 1/3).
_LANES_FROM: Final = 512
_Data = bytes | bytearray | memoryview
_Key = bytes | bytearray
# _XOR_TABLES[k] maps every byte b to b ^ k.
_XOR_TABLES: Final = tuple(bytes(b ^ k for b in range(256)) for k in range(256))
# For a masked payload of 0-125 bytes: what turns the 32-bit key into the
# key repeated over whole words, and the bytes of the payload itself.
_KEY_TIMES: Final = tuple(
    sum(1 << (32 * word) for word in range((size + 3) // 4)) for size in range(126)
)
_LOW_BYTES: Final = tuple((1 << (8 * size)) - 1 for size in range(126))
# Bound once: compiled, ``int.from_bytes`` would be a method looked up by name per call.
_from_bytes: Final = int.from_bytes


def py_apply_mask(data: bytes | bytearray | memoryview, mask: bytes | bytearray) -> bytes:
    """``apply_mask`` in Python: the reference, and the pure-Python build's.

    >>> py_apply_mask(py_apply_mask(b"hello", b"abcd"), b"abcd")
    b'hello'
    """
    if len(mask) != 4:
        raise ValueError("a masking key is 4 bytes")
    size = len(data)
    if size < _LANES_FROM:
        if not size:
            return b""
        key = int.from_bytes(mask * (size >> 2) + mask[: size & 3], "little")
        return (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")
    return _lanes(bytearray(data), mask)


def py_unmask(buf: bytearray, key_at: int, size: int) -> bytes:
    """``unmask`` in Python: the reference, and the pure-Python build's.

    >>> py_unmask(bytearray(b"\\x81\\x82abcd" + py_apply_mask(b"hi", b"abcd")), 2, 2)
    b'hi'
    """
    start = key_at + 4
    end = start + size
    if key_at < 0 or size < 0 or end > len(buf):
        raise ValueError("unmask(): key and payload past the buffer's end")
    if size < 126:
        # The key and the payload as one int (little-endian: the key in the
        # low 32 bits); the key times 0x...0000000100000001 is the key repeated.
        frame = _from_bytes(buf[key_at:end], "little")
        mask = (frame & 0xFFFFFFFF) * _KEY_TIMES[size]
        return ((frame >> 32 ^ mask) & _LOW_BYTES[size]).to_bytes(size, "little")
    if size < _LANES_FROM:
        key = buf[key_at:start]
        mask = _from_bytes(key * (size >> 2) + key[: size & 3], "little")
        return (_from_bytes(buf[start:end], "little") ^ mask).to_bytes(size, "little")
    return _lanes(buf[start:end], buf[key_at:start])


def _lanes(out: bytearray, mask: bytes | bytearray) -> bytes:
    """Mask ``out`` (overwritten) lane by lane with ``bytes.translate``."""
    for lane in range(4):
        out[lane::4] = out[lane::4].translate(_XOR_TABLES[mask[lane]])
    return bytes(out)


def _c_module() -> ModuleType | None:
    """``_mask``, the C versions, where the compiled build made it."""
    try:
        from transom.http.websocket import _mask
    except ImportError:
        return None
    return _mask


_C: Final = _c_module()
#: ``data`` XOR the 4-byte ``mask`` repeated (RFC 6455 §5.3); its own inverse.
apply_mask: Final[Callable[[_Data, _Key], bytes]] = py_apply_mask if _C is None else _C.apply_mask
#: The payload of a masked frame held in a buffer: ``unmask(buf, key_at, size)``,
#: its 4-byte key at ``key_at``, then ``size`` payload bytes.
unmask: Final[Callable[[bytearray, int, int], bytes]] = py_unmask if _C is None else _C.unmask
#: ``apply_mask`` for a large ``bytearray`` the caller gives up (it may be
#: overwritten): one copy fewer in pure Python.
mask_in_place: Final[Callable[[bytearray, _Key], bytes]] = _lanes if _C is None else _C.apply_mask


def build_frame(
    opcode: int,
    payload: bytes | bytearray | memoryview,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: bytes | None = None,
) -> bytes:
    """One frame as bytes, masked with the 4-byte ``mask`` when given.

    Nothing is checked beyond the field widths, so tests can build frames a
    valid peer never sends (unknown opcodes, long control frames, RSV bits).

    >>> build_frame(OP_TEXT, b"hi")
    b'\\x81\\x02hi'
    """
    head = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | (0x20 if rsv2 else 0)
    head |= (0x10 if rsv3 else 0) | (opcode & 0x0F)
    size = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if size < 126:
        start = bytes((head, mask_bit | size))
    elif size < 0x10000:
        start = PACK_16(head, mask_bit | 126, size)
    else:
        start = PACK_64(head, mask_bit | 127, size)
    if mask is None:
        return start + payload
    if len(mask) != 4:
        raise LocalProtocolError("a masking key is 4 bytes")
    return start + mask + apply_mask(payload, mask)


def is_valid_received_code(code: int) -> bool:
    """Whether a close frame may carry ``code`` (RFC 6455 §7.4.1, §7.4.2 and
    the IANA registry: 1012-1014 were added; 1004-1006 and 1015 are never
    sent in a frame)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def close_payload(code: int, reason: str) -> bytes:
    """The payload of a close frame we send: 2-byte code + UTF-8 reason.

    ``code`` 1005 means a close frame without a status code (and so no
    reason). Raises ``LocalProtocolError`` for a code that may not be sent
    or a reason over 123 bytes (the payload limit of §5.5 less the code),
    ``TypeError`` for a code that is not an int or a reason that is not a str.
    """
    # TypeError for a wrong type, as the compiled build's argument check raises.
    if not isinstance(code, int):
        raise TypeError(f"close code must be int, not {type(code).__name__}")
    if not isinstance(reason, str):
        raise TypeError(f"close reason must be str, not {type(reason).__name__}")
    if code == 1005:
        if reason:
            raise LocalProtocolError("a close reason needs a status code (not 1005)")
        return b""
    if not is_valid_received_code(code):
        raise LocalProtocolError(f"close code {code!r} may not be sent (RFC 6455 §7.4)")
    encoded = reason.encode("utf-8")
    if len(encoded) > MAX_CONTROL_PAYLOAD - 2:
        raise LocalProtocolError("close reason longer than 123 bytes (RFC 6455 §5.5)")
    return code.to_bytes(2, "big") + encoded
