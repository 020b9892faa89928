"""Masking, frame building and close payloads (RFC 6455 §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transom.exceptions import LocalProtocolError
from transom.http.websocket import frames
from transom.http.websocket.frames import (
    OP_BINARY,
    OP_PING,
    OP_TEXT,
    apply_mask,
    build_frame,
    close_payload,
    is_valid_received_code,
)


def _slow_mask(data: bytes, mask: bytes) -> bytes:
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 64, 125, 126, 65535, 65536, 100_003])
def test_apply_mask_matches_the_definition(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    assert apply_mask(data, b"\x01\x80\xfe\x7f") == _slow_mask(data, b"\x01\x80\xfe\x7f")


@given(st.binary(max_size=frames._LANES_FROM + 10), st.binary(min_size=4, max_size=4))
def test_apply_mask_is_its_own_inverse(data: bytes, mask: bytes) -> None:
    assert apply_mask(apply_mask(data, mask), mask) == data


def test_apply_mask_both_strategies_agree() -> None:
    data = bytes(range(256)) * (frames._LANES_FROM // 256 + 1)
    assert apply_mask(data, b"abcd") == _slow_mask(data, b"abcd")
    assert apply_mask(bytearray(data[:100]), bytearray(b"abcd")) == _slow_mask(data[:100], b"abcd")


@pytest.mark.parametrize("size", [0, 1, 3, 7, 8, 9, 64, 125, 126, 511, 512, 65535, 100_003])
@pytest.mark.parametrize("key_at", [0, 2, 5])
def test_unmask_takes_the_payload_from_the_buffer(size: int, key_at: int) -> None:
    key = b"\x01\x80\xfe\x7f"
    payload = (bytes(range(256)) * (size // 256 + 1))[:size]
    buf = bytearray(b"h" * key_at + key + _slow_mask(payload, key) + b"next frame")
    assert frames.unmask(buf, key_at, size) == payload
    assert frames.py_unmask(buf, key_at, size) == payload


@given(st.binary(max_size=2 * frames._LANES_FROM), st.binary(min_size=4, max_size=4))
def test_the_c_masking_matches_the_python_reference(data: bytes, mask: bytes) -> None:
    """The compiled build's C functions against the Python ones (the reference)."""
    expected = _slow_mask(data, mask)
    assert frames.py_apply_mask(data, mask) == expected
    assert frames.py_unmask(bytearray(b"xy" + mask + expected), 2, len(data)) == data
    try:
        from transom.http.websocket import _mask
    except ImportError:
        assert frames.unmask is frames.py_unmask  # the pure build
        return
    assert frames.unmask is _mask.unmask and frames.apply_mask is _mask.apply_mask
    assert _mask.apply_mask(data, mask) == expected
    assert _mask.apply_mask(memoryview(bytearray(data)), bytearray(mask)) == expected
    assert _mask.unmask(bytearray(b"xy" + mask + expected + b"z"), 2, len(data)) == data


@pytest.mark.parametrize("version", ["python", "used"])
def test_masking_refuses_bad_arguments_in_every_build(version: str) -> None:
    apply = frames.py_apply_mask if version == "python" else frames.apply_mask
    unmask = frames.py_unmask if version == "python" else frames.unmask
    with pytest.raises(ValueError, match="4 bytes"):
        apply(b"data", b"abc")
    with pytest.raises(ValueError, match="past the buffer"):
        unmask(bytearray(10), 2, 5)  # 2 + 4 + 5 > 10
    with pytest.raises(ValueError, match="past the buffer"):
        unmask(bytearray(10), -1, 1)


def test_the_c_masking_refuses_bad_arguments() -> None:
    _mask = pytest.importorskip("transom.http.websocket._mask", reason="the pure-Python build")
    with pytest.raises(TypeError):
        _mask.unmask("not a buffer", 0, 0)
    with pytest.raises(TypeError):
        _mask.apply_mask(b"x")


def test_build_frame_rfc_examples() -> None:
    # RFC 6455 §5.7.
    assert build_frame(OP_TEXT, b"Hello") == b"\x81\x05\x48\x65\x6c\x6c\x6f"
    masked = build_frame(OP_TEXT, b"Hello", mask=b"\x37\xfa\x21\x3d")
    assert masked == b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
    assert build_frame(OP_TEXT, b"Hel", fin=False) == b"\x01\x03\x48\x65\x6c"
    assert build_frame(0, b"lo") == b"\x80\x02\x6c\x6f"
    assert build_frame(OP_PING, b"Hello") == b"\x89\x05\x48\x65\x6c\x6c\x6f"
    assert build_frame(OP_BINARY, bytes(256))[:4] == b"\x82\x7e\x01\x00"
    assert build_frame(OP_BINARY, bytes(65536))[:10] == b"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00"


def test_build_frame_rsv_bits_and_opcode() -> None:
    assert build_frame(OP_TEXT, b"", rsv1=True, rsv2=True, rsv3=True)[0] == 0xF1
    assert build_frame(0xB, b"")[0] == 0x8B


def test_build_frame_refuses_a_short_mask() -> None:
    with pytest.raises(LocalProtocolError):
        build_frame(OP_TEXT, b"x", mask=b"abc")


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        (999, False),
        (1000, True),
        (1003, True),
        (1004, False),
        (1005, False),
        (1006, False),
        (1007, True),
        (1011, True),
        (1014, True),
        (1015, False),
        (1016, False),
        (2999, False),
        (3000, True),
        (4999, True),
        (5000, False),
    ],
)
def test_is_valid_received_code(code: int, valid: bool) -> None:
    assert is_valid_received_code(code) is valid


def test_close_payload() -> None:
    assert close_payload(1000, "") == b"\x03\xe8"
    assert close_payload(4000, "é") == b"\x0f\xa0\xc3\xa9"
    assert close_payload(1005, "") == b""
    assert close_payload(1000, "x" * 123) == b"\x03\xe8" + b"x" * 123


@pytest.mark.parametrize(
    ("code", "reason"),
    [(1005, "why"), (1006, ""), (1004, ""), (2000, ""), (1000, "x" * 124), (1000, "é" * 62)],
    ids=["1005-with-reason", "1006", "1004", "2000", "reason-124", "reason-124-utf8"],
)
def test_close_payload_refuses(code: int, reason: str) -> None:
    with pytest.raises(LocalProtocolError):
        close_payload(code, reason)


def test_close_payload_refuses_wrong_types() -> None:
    with pytest.raises(TypeError, match="int"):
        close_payload("1000", "")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(TypeError, match="str"):
        close_payload(1000, b"x")  # type: ignore[arg-type]  # misuse on purpose
    with pytest.raises(TypeError, match="str"):
        close_payload(1005, b"x")  # type: ignore[arg-type]  # misuse on purpose
