"""The writer: heads, chunks and error responses; no CR, LF or NUL gets through."""

from __future__ import annotations

import pytest

from transom.exceptions import LocalProtocolError
from transom.http import writer


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (b"Content-Length", writer.KIND_CONTENT_LENGTH),
        (b"transfer-encoding", writer.KIND_TRANSFER_ENCODING),
        (b"CONNECTION", writer.KIND_CONNECTION),
        (b"x-custom", writer.KIND_OTHER),
    ],
    ids=["content-length", "transfer-encoding", "connection", "other"],
)
def test_writer_header_kind_classifies_names(name: bytes, kind: int) -> None:
    assert writer.header_kind(name) == kind


@pytest.mark.parametrize(
    "name",
    [b"", b"a b", b"a:b", b"a\r\nb", b"a\x00", b"caf\xe9", "str-name"],
    ids=["empty", "space", "colon", "crlf", "nul", "non-ascii", "str"],
)
def test_writer_header_kind_refuses_non_tokens(name: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="token"):
        writer.header_kind(name)


def test_writer_check_head_accepts_exact_lines() -> None:
    head = b"HTTP/1.1 200 OK\r\nx: y\r\n\r\n"
    assert writer.check_head(head, 3) is head


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nx: y\r\nz: w\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx: y\nz\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx: y\rz\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nx: y\x00\r\n\r\n",
    ],
    ids=["extra-line", "bare-lf", "bare-cr", "nul"],
)
def test_writer_check_head_refuses_injection(head: bytes) -> None:
    with pytest.raises(LocalProtocolError, match="CR, LF or NUL"):
        writer.check_head(head, 3)


def test_writer_status_line_uses_the_standard_phrase() -> None:
    assert writer.status_line(404, b"") == b"HTTP/1.1 404 Not Found\r\n"
    assert writer.status_line(404, b"Nope") == b"HTTP/1.1 404 Nope\r\n"


@pytest.mark.parametrize("status", [99, 1000, "200"], ids=["low", "high", "str"])
def test_writer_status_line_refuses_invalid_codes(status: int) -> None:
    with pytest.raises(LocalProtocolError):
        writer.status_line(status, b"x")


def test_writer_request_line() -> None:
    assert writer.request_line(b"GET", b"/a?b", b"1.1") == b"GET /a?b HTTP/1.1\r\n"


def test_writer_request_line_refuses_unknown_versions() -> None:
    with pytest.raises(LocalProtocolError):
        writer.request_line(b"GET", b"/", b"2.0")


def test_writer_chunk_frames_data() -> None:
    assert writer.chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert writer.chunk(b"") == b""


def test_writer_last_chunk_carries_trailers() -> None:
    assert writer.last_chunk([]) == b"0\r\n\r\n"
    assert writer.last_chunk([(b"x-sum", b"1")]) == b"0\r\nx-sum: 1\r\n\r\n"


@pytest.mark.parametrize(
    "trailer",
    [(b"content-length", b"1"), (b"x", b"a\r\nb")],
    ids=["framing-name", "crlf-value"],
)
def test_writer_last_chunk_refuses_bad_trailers(trailer: tuple[bytes, bytes]) -> None:
    with pytest.raises(LocalProtocolError):
        writer.last_chunk([trailer])


@pytest.mark.parametrize("status", [400, 413, 414, 431, 501, 505])
def test_writer_error_response_is_complete_and_closes(status: int) -> None:
    wire = writer.error_response(status)
    head, _, body = wire.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 %d " % status)
    assert b"connection: close" in lines
    assert b"content-length: %d" % len(body) in lines
    assert body.endswith(b"\n")


def test_writer_error_response_names_the_problem() -> None:
    assert writer.error_response(431).endswith(b"Request Header Fields Too Large\n")


def test_writer_error_response_for_an_unregistered_status() -> None:
    assert writer.error_response(499).startswith(b"HTTP/1.1 499 Error\r\n")
