"""Content-Encoding, text and line decoders."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from transom.client.decoders import LineDecoder, TextDecoder, content_decoder
from transom.exceptions import DecodingError

TEXT = b"the quick brown fox " * 50


def _in_pieces(decoder: object, data: bytes, size: int = 7) -> bytes:
    out = b"".join(decoder.decode(data[i : i + size]) for i in range(0, len(data), size))  # type: ignore[attr-defined]
    return out + decoder.flush()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)[2:-4]),
        ("br", brotli.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),
    ],
    ids=["gzip", "deflate-zlib", "deflate-raw", "br", "stacked"],
)
def test_decoder_streams(coding: str, data: bytes) -> None:
    decoder = content_decoder(coding)
    assert decoder is not None
    assert _in_pieces(decoder, data) == TEXT


def test_decoder_unknown_coding_left_alone() -> None:
    assert content_decoder("compress") is None
    assert content_decoder(None) is None


def test_decoder_invalid_gzip_raises() -> None:
    decoder = content_decoder("gzip")
    assert decoder is not None
    with pytest.raises(DecodingError, match="gzip"):
        decoder.decode(b"not gzip at all")


def test_text_decoder_keeps_split_characters() -> None:
    data = "héllo wörld".encode()
    decoder = TextDecoder("utf-8")
    text = "".join(decoder.decode(data[i : i + 1]) for i in range(len(data))) + decoder.flush()
    assert text == "héllo wörld"


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        (["a\nb\n"], ["a", "b"]),
        (["a\r", "\nb"], ["a", "b"]),
        (["par", "tial\r\nnext"], ["partial", "next"]),
        (["x\ry\r"], ["x", "y"]),
        (["\n\n"], ["", ""]),
    ],
    ids=["lf", "split-crlf", "split-line", "cr", "empty-lines"],
)
def test_line_decoder(chunks: list[str], lines: list[str]) -> None:
    decoder = LineDecoder()
    out = [line for chunk in chunks for line in decoder.decode(chunk)] + decoder.flush()
    assert out == lines
