"""The llhttp backend: what it does beyond the shared parser tests."""

from __future__ import annotations

import pytest

from transom.exceptions import RemoteProtocolError
from transom.http._llhttp import LlhttpParser
from transom.http.parser import PythonParser


def head(wire: bytes) -> tuple[bytes, int, int]:
    return wire, 0, wire.index(b"\r\n\r\n")


def test_llhttp_parses_a_request_head() -> None:
    parsed = LlhttpParser().parse_request_head(*head(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"))
    assert parsed == (b"GET", b"/x", b"1.1", [(b"host", b"a")])


def test_llhttp_parses_a_head_inside_a_larger_buffer() -> None:
    wire = b"junk" + b"GET /x HTTP/1.0\r\nX: y\r\n\r\n" + b"more"
    parsed = LlhttpParser().parse_request_head(wire, 4, wire.index(b"\r\n\r\n"))
    assert parsed == (b"GET", b"/x", b"1.0", [(b"x", b"y")])


def test_llhttp_survives_heads_that_announce_bodies() -> None:
    parser = LlhttpParser()
    first = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
    parser.parse_request_head(*head(first))
    second = b"GET /b HTTP/1.1\r\nHost: a\r\n\r\n"
    assert parser.parse_request_head(*head(second))[1] == b"/b"


def test_llhttp_survives_an_upgrade_request() -> None:
    parser = LlhttpParser()
    upgrade = b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    assert parser.parse_request_head(*head(upgrade))[1] == b"/ws"
    assert parser.parse_request_head(*head(b"GET /b HTTP/1.1\r\n\r\n"))[1] == b"/b"


def test_llhttp_survives_an_error() -> None:
    parser = LlhttpParser()
    with pytest.raises(RemoteProtocolError):
        parser.parse_request_head(*head(b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"))
    assert parser.parse_request_head(*head(b"GET /b HTTP/1.1\r\n\r\n"))[1] == b"/b"


@pytest.mark.parametrize(
    "wire",
    [
        b"PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"get /x HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a  \r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost: a\t\r\n\r\n",
    ],
    ids=["unknown-method", "lowercase-method", "trailing-spaces", "trailing-tab"],
)
def test_llhttp_defers_to_the_reference(wire: bytes) -> None:
    assert LlhttpParser().parse_request_head(*head(wire)) == PythonParser().parse_request_head(
        *head(wire)
    )


@pytest.mark.parametrize(
    "wire",
    [b"GET  /x HTTP/1.1\r\n\r\n", b"GET /x\r\nHost: a\r\n\r\n"],
    ids=["double-space", "http09"],
)
def test_llhttp_refuses_what_the_reference_refuses(wire: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        LlhttpParser().parse_request_head(*head(wire))


def test_llhttp_parses_a_response_head() -> None:
    wire = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    parsed = LlhttpParser().parse_response_head(*head(wire))
    assert parsed == (b"1.1", 404, b"Not Found", [(b"content-length", b"0")])
