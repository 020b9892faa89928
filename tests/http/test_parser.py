"""Request and response heads, on both parser backends: what is accepted, what is refused.

The verdicts are those of RFC 9112 and RFC 9110 where they say MUST; a
refusal is a ``RemoteProtocolError`` whose ``status_code`` a server answers
with.
"""

from __future__ import annotations

import pytest

from tests.http.conftest import drain, server
from transom.exceptions import RemoteProtocolError
from transom.http.connection import NEED_DATA, Limits
from transom.http.events import Request, Response
from transom.http.parser import PythonParser, parse_fields, split_target

H = b"Host: a\r\n"
POST = b"POST / HTTP/1.1\r\nHost: a\r\n"
GET = b"GET / HTTP/1.1\r\nHost: a\r\n"
CHUNKED_POST = POST + b"Transfer-Encoding: chunked\r\n\r\n"

REFUSED = [
    # id, wire, status
    (
        "cl-and-te",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    ),
    (
        "te-and-cl",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
        400,
    ),
    (
        "duplicate-cl",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\n",
        400,
    ),
    (
        "conflicting-cl",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
        400,
    ),
    ("cl-list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3, 3\r\n\r\n", 400),
    ("cl-plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +3\r\n\r\n", 400),
    ("cl-minus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -3\r\n\r\n", 400),
    ("cl-inner-space", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1 2\r\n\r\n", 400),
    ("cl-hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x10\r\n\r\n", 400),
    ("cl-empty", b"POST / HTTP/1.1\r\n" + H + b"Content-Length:\r\n\r\n", 400),
    (
        "cl-overflow",
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n",
        400,
    ),
    ("cl-unicode-digit", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \xd9\xa3\r\n\r\n", 400),
    ("te-gzip", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 400),
    (
        "te-chunked-not-last",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, gzip\r\n\r\n",
        400,
    ),
    (
        "te-chunked-twice",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, chunked\r\n\r\n",
        400,
    ),
    (
        "te-two-fields",
        b"POST / HTTP/1.1\r\n"
        + H
        + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
    ),
    ("te-only-commas", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: , ,\r\n\r\n", 400),
    ("te-empty", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n\r\n", 400),
    (
        "te-empty-elements-chunked-not-last",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: , chunked, , gzip\r\n\r\n",
        400,
    ),
    (
        "te-empty-elements-chunked-twice",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, , chunked\r\n\r\n",
        400,
    ),
    ("te-identity", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n", 400),
    ("te-xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n", 400),
    (
        "te-gzip-chunked",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n",
        501,
    ),
    ("te-in-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n b\r\n\r\n", 400),
    ("obs-fold-tab", b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n\tb\r\n\r\n", 400),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    ("tab-before-colon", b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400),
    ("space-in-name", b"GET / HTTP/1.1\r\n" + H + b"X Y: a\r\n\r\n", 400),
    ("empty-name", b"GET / HTTP/1.1\r\n" + H + b": a\r\n\r\n", 400),
    ("no-colon", b"GET / HTTP/1.1\r\n" + H + b"Xyz\r\n\r\n", 400),
    ("bare-cr-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\rb\r\n\r\n", 400),
    ("bare-lf-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\nb\r\n\r\n", 400),
    ("bare-lf-line-ends", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("nul-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x00b\r\n\r\n", 400),
    ("control-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x01b\r\n\r\n", 400),
    ("del-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\x7fb\r\n\r\n", 400),
    ("nul-in-name", b"GET / HTTP/1.1\r\n" + H + b"X\x00: a\r\n\r\n", 400),
    ("non-ascii-name", b"GET / HTTP/1.1\r\n" + H + b"X\xc3\xa9: a\r\n\r\n", 400),
    ("lowercase-method", b"get / HTTP/1.1\r\n" + H + b"\r\n", 200),  # a token; just unknown
    ("method-with-slash", b"GE/T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("empty-method", b" / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("double-space", b"GET  / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("space-after-version", b"GET / HTTP/1.1 \r\n" + H + b"\r\n", 400),
    ("tab-separator", b"GET\t/ HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("no-target", b"GET HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("space-in-target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("non-ascii-target", b"GET /\xff HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("del-in-target", b"GET /a\x7f HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("relative-target", b"GET a/b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("asterisk-for-get", b"GET * HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-userinfo", b"GET http://user@evil/x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-no-authority", b"GET http:///x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-bad-scheme", b"GET 1http://a/x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("authority-for-get", b"GET a:80 HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("lowercase-version", b"GET / http/1.1\r\n" + H + b"\r\n", 400),
    ("version-no-minor", b"GET / HTTP/1\r\n" + H + b"\r\n", 400),
    ("version-two-digits", b"GET / HTTP/1.10\r\n" + H + b"\r\n", 400),
    ("no-version", b"GET /\r\n" + H + b"\r\n", 400),
    ("http09", b"GET / HTTP/0.9\r\n" + H + b"\r\n", 505),
    ("http20", b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    ("http21", b"GET / HTTP/2.1\r\n" + H + b"\r\n", 505),
    ("fragment", b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment-empty", b"GET /a# HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment-after-query", b"GET /a?b=1#c HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment-absolute", b"GET http://a/b#c HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("http30", b"GET / HTTP/3.0\r\n" + H + b"\r\n", 505),
    ("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("missing-host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two-hosts", GET + b"Host: b\r\n\r\n", 400),
    ("two-equal-hosts", GET + b"Host: a\r\n\r\n", 400),
    ("host-with-path", b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
    ("host-with-userinfo", b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
    ("host-with-space", b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    ("host-bad-port", b"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400),
    ("host-two-ports", b"GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400),
    ("host-in-http10-twice", b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400),
]

ACCEPTED = [
    ("simple", b"GET / HTTP/1.1\r\n" + H + b"\r\n"),
    ("http10-no-host", b"GET / HTTP/1.0\r\n\r\n"),
    ("absolute-form", b"GET http://example.com/x?y HTTP/1.1\r\nHost: other\r\n\r\n"),
    ("absolute-query-only", b"GET http://example.com?q HTTP/1.1\r\nHost: e\r\n\r\n"),
    ("absolute-https-port", b"GET https://[::1]:8443/ HTTP/1.1\r\nHost: e\r\n\r\n"),
    ("asterisk-options", b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n"),
    ("authority-connect", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
    ("unknown-method", b"PURGE /x HTTP/1.1\r\n" + H + b"\r\n"),
    ("token-method", b"X-CUSTOM_1.0 /x HTTP/1.1\r\n" + H + b"\r\n"),
    ("empty-host", b"GET / HTTP/1.1\r\nHost:\r\n\r\n"),
    ("ipv6-host", b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
    ("obs-text-value", b"GET / HTTP/1.1\r\n" + H + b"X: caf\xe9\r\n\r\n"),
    ("empty-value", b"GET / HTTP/1.1\r\n" + H + b"X:\r\n\r\n"),
    ("tab-in-value", b"GET / HTTP/1.1\r\n" + H + b"X: a\tb\r\n\r\n"),
    ("quotes-in-target", b'GET /a"b{c}|d HTTP/1.1\r\n' + H + b"\r\n"),
    ("cl-zero", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n"),
    ("cl-leading-zeros", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 003\r\n\r\nabc"),
    (
        "te-chunked-case",
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
    ),
    ("http12", b"GET / HTTP/1.2\r\n" + H + b"\r\n"),
    ("http19", b"GET / HTTP/1.9\r\n" + H + b"\r\n"),
    ("te-leading-empty-element", CHUNKED_POST.replace(b"chunked", b", chunked") + b"0\r\n\r\n"),
    ("te-trailing-empty-element", CHUNKED_POST.replace(b"chunked", b"chunked,") + b"0\r\n\r\n"),
    ("te-empty-elements", CHUNKED_POST.replace(b"chunked", b" ,, chunked ,") + b"0\r\n\r\n"),
    ("fragment-char-encoded", b"GET /a%23b HTTP/1.1\r\n" + H + b"\r\n"),
    (
        "upgrade-request",
        b"GET / HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    ),
]


@pytest.mark.parametrize(
    ("wire", "status"), [(w, s) for _, w, s in REFUSED], ids=[i for i, _, _ in REFUSED]
)
def test_parser_refuses_invalid_requests(backend: str, wire: bytes, status: int) -> None:
    conn = server(backend, wire)
    if status == 200:
        assert isinstance(conn.next_event(), Request)
        return
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == status


@pytest.mark.parametrize("wire", [w for _, w in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_parser_accepts_valid_requests(backend: str, wire: bytes) -> None:
    events = drain(server(backend, wire))
    assert isinstance(events[0], Request)


def test_parser_keeps_the_absolute_target(backend: str) -> None:
    events = drain(server(backend, b"GET http://example.com/x?y HTTP/1.1\r\nHost: o\r\n\r\n"))
    assert isinstance(events[0], Request)
    assert events[0].target == b"http://example.com/x?y"


def test_parser_keeps_obs_text_bytes(backend: str) -> None:
    events = drain(server(backend, GET + b"X: caf\xe9\r\n\r\n"))
    assert isinstance(events[0], Request)
    assert events[0].headers[1] == (b"x", b"caf\xe9")


@pytest.mark.parametrize(
    ("limits", "wire", "status"),
    [
        (Limits(max_request_line=20), b"GET /" + b"a" * 30 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (Limits(max_request_line=20), b"GET /" + b"a" * 30, 414),
        (
            Limits(max_header_bytes=100),
            GET + b"X: " + b"a" * 200 + b"\r\n\r\n",
            431,
        ),
        (Limits(max_header_bytes=100), GET + b"X: " + b"a" * 200, 431),
        (
            Limits(max_header_count=3),
            GET + b"X: 1\r\n" * 3 + b"\r\n",
            431,
        ),
        (
            Limits(max_body_size=10),
            POST + b"Content-Length: 11\r\n\r\n",
            413,
        ),
        (
            Limits(max_body_size=10),
            CHUNKED_POST + b"6\r\naaaaaa\r\n6\r\n",
            413,
        ),
    ],
    ids=[
        "line-complete",
        "line-partial",
        "head-complete",
        "head-partial",
        "count",
        "cl-body",
        "chunked-body",
    ],
)
def test_parser_enforces_limits(backend: str, limits: Limits, wire: bytes, status: int) -> None:
    conn = server(backend, wire, limits=limits)
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == status


def test_parser_body_limit_none_is_unbounded(backend: str) -> None:
    wire = POST + b"Content-Length: 20\r\n\r\n" + b"a" * 20
    events = drain(server(backend, wire, limits=Limits(max_body_size=None)))
    assert len(events) == 3


CHUNKED = CHUNKED_POST


@pytest.mark.parametrize(
    "body",
    [
        b"g\r\nabc\r\n0\r\n\r\n",
        b"-1\r\na\r\n0\r\n\r\n",
        b"+1\r\na\r\n0\r\n\r\n",
        b"0x1\r\na\r\n0\r\n\r\n",
        b" 1\r\na\r\n0\r\n\r\n",
        b"1 \r\na\r\n0\r\n\r\n",
        b"\r\na\r\n0\r\n\r\n",
        b"11111111111111111\r\n",
        b"ffffffffffffffffff\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"3\r\nabc\n0\r\n\r\n",
        b"3\nabc\r\n0\r\n\r\n",
        b"1;" + b"a" * 5000 + b"\r\n",
        b"1;a=\x01\r\na\r\n0\r\n\r\n",
        b"1;=a\r\na\r\n0\r\n\r\n",
        b"0\r\nX : y\r\n\r\n",
        b"0\r\nX: y\n\r\n",
    ],
    ids=[
        "not-hex",
        "negative",
        "plus",
        "0x-prefix",
        "leading-space",
        "trailing-space",
        "empty-size",
        "overflow-17-digits",
        "overflow-huge",
        "data-too-long",
        "bare-lf-after-data",
        "bare-lf-after-size",
        "extension-too-long",
        "extension-control",
        "extension-no-name",
        "bad-trailer",
        "bare-lf-in-trailer",
    ],
)
def test_parser_refuses_invalid_chunks(backend: str, body: bytes) -> None:
    conn = server(backend, CHUNKED + body)
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 400


def test_parser_accepts_chunk_extensions(backend: str) -> None:
    body = b'3;a=1;b="x y" ; c\r\nabc\r\n0;z\r\n\r\n'
    events = drain(server(backend, CHUNKED + body))
    assert [type(e).__name__ for e in events] == ["Request", "Data", "EndOfMessage"]


def test_parser_reads_the_reason_phrase() -> None:
    version, status, reason, headers = PythonParser().parse_response_head(
        b"HTTP/1.1 404 Not Found\r\nX: y", 0, 28
    )
    assert (version, status, reason, headers) == (b"1.1", 404, b"Not Found", [(b"x", b"y")])


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (b"X-A: v", (b"x-a", b"v")),
        (b"X-A:v", (b"x-a", b"v")),
        (b"X-A: \t v w \t ", (b"x-a", b"v w")),
        (b"X-A:", (b"x-a", b"")),
        (b"X-A: \t ", (b"x-a", b"")),
        (b"X-A: a:b: c", (b"x-a", b"a:b: c")),
        (b"X-A: \x80\xff ", (b"x-a", b"\x80\xff")),
    ],
    ids=["plain", "no-ows", "ows-both-sides", "empty", "only-ows", "colons", "obs-text"],
)
def test_parser_splits_field_lines(backend: str, line: bytes, field: tuple[bytes, bytes]) -> None:
    request = drain(server(backend, b"GET / HTTP/1.1\r\nHost: a\r\n" + line + b"\r\n\r\n"))[0]
    assert isinstance(request, Request)
    assert request.headers == [(b"host", b"a"), field]


def test_parser_parse_fields_refuses_junk() -> None:
    with pytest.raises(RemoteProtocolError):
        parse_fields(b"no colon here", 0, 13)


@pytest.mark.parametrize(
    ("target", "parts"),
    [
        (b"/", (None, None, b"/", b"")),
        (b"/a?b=1&c", (None, None, b"/a", b"b=1&c")),
        (b"HTTP://Example.com", (b"http", b"Example.com", b"/", b"")),
        (b"http://example.com?q", (b"http", b"example.com", b"/", b"q")),
        (b"https://[::1]:8443/p/q?x", (b"https", b"[::1]:8443", b"/p/q", b"x")),
        (b"example.com:443", (None, b"example.com:443", b"", b"")),
        (b"*", (None, None, b"*", b"")),
    ],
    ids=[
        "root",
        "query",
        "absolute-no-path",
        "absolute-query-only",
        "ipv6",
        "authority",
        "asterisk",
    ],
)
def test_parser_split_target(target: bytes, parts: tuple[object, ...]) -> None:
    assert split_target(target) == parts


@pytest.mark.parametrize(
    ("wire", "status"),
    [
        (b"GET /\r\n", 400),
        (b"hello\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n", 505),
        (b"PRI * HTTP/2.0\r\n", 505),
        (b"\r\nGET / HTTP/1.1 x\r\n", 400),
    ],
    ids=["http09", "not-http", "http2-partial", "h2-preface-line", "after-empty-line"],
)
def test_parser_judges_the_request_line_before_the_head_ends(
    backend: str, wire: bytes, status: int
) -> None:
    conn = server(backend, wire)
    with pytest.raises(RemoteProtocolError) as caught:
        conn.next_event()
    assert caught.value.status_code == status


def test_parser_waits_for_the_rest_of_a_valid_head(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.1\r\nHost: a\r\n")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"X: y\r\n")
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"\r\n")
    assert isinstance(conn.next_event(), Request)


def test_parser_waits_for_the_rest_of_a_higher_minor_version_head(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.2\r\nHost: a\r\n")
    assert conn.next_event() is NEED_DATA


@pytest.mark.parametrize("minor", [b"2", b"9"])
def test_parser_processes_a_higher_minor_version_as_http11(backend: str, minor: bytes) -> None:
    # RFC 9112 §2.3: the highest minor version we support, with its defaults
    # (keep-alive, chunked bodies, Host required).
    wire = CHUNKED_POST.replace(b"HTTP/1.1", b"HTTP/1." + minor) + b"1\r\nx\r\n0\r\n\r\n"
    conn = server(backend, wire)
    events = drain(conn)
    assert isinstance(events[0], Request)
    assert events[0].http_version == b"1.1"
    assert conn.their_http_version == b"1.1"
    assert conn.keep_alive


def test_parser_http12_still_needs_a_host(backend: str) -> None:
    with pytest.raises(RemoteProtocolError) as caught:
        drain(server(backend, b"GET / HTTP/1.2\r\n\r\n"))
    assert caught.value.status_code == 400


def test_parser_keeps_empty_transfer_encoding_elements_in_the_head(backend: str) -> None:
    conn = server(backend, POST + b"Transfer-Encoding: , chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    events = drain(conn)
    assert isinstance(events[0], Request)
    assert (b"transfer-encoding", b", chunked") in events[0].headers
    assert [type(e).__name__ for e in events] == ["Request", "Data", "EndOfMessage"]


def test_parser_bounds_chunk_extensions_over_a_message(backend: str) -> None:
    # Each line is short enough; together they pass the head's byte limit.
    extension = b";ext=" + b"e" * 995
    conn = server(backend, CHUNKED, limits=Limits(max_header_bytes=10_000))
    drain(conn)
    conn.receive_data((b"1" + extension + b"\r\nx\r\n") * 10)
    assert len(drain(conn)) == 10  # exactly the limit: 10 x 1000 bytes
    conn.receive_data(b"1;e\r\nx\r\n")
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 413


def test_parser_chunk_extension_budget_is_per_message(backend: str) -> None:
    extension = b";ext=" + b"e" * 995
    one = CHUNKED + (b"1" + extension + b"\r\nx\r\n") * 8 + b"0\r\n\r\n"
    conn = server(backend, one + one, limits=Limits(max_header_bytes=10_000))
    for _ in range(2):
        events = drain(conn)
        assert len(events) == 10
        conn.send_response(Response(200, []), b"")
        conn.start_next_cycle()


def test_parser_refuses_a_megabyte_of_extensions_on_one_chunk(backend: str) -> None:
    conn = server(backend, CHUNKED + b"1" + b";ext=value" * 100_000 + b"\r\nx\r\n0\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 400


def test_parser_accepts_a_hundred_ordinary_headers_by_default(backend: str) -> None:
    fields = b"".join(b"X-Forwarded-Thing-%d: value-%d-abcdefghij\r\n" % (i, i) for i in range(99))
    events = drain(server(backend, GET + fields + b"\r\n"))
    assert isinstance(events[0], Request)
    assert len(events[0].headers) == 100


def test_parser_header_count_default_is_256(backend: str) -> None:
    assert Limits().max_header_count == 256
    fields = b"X: y\r\n" * 256  # 257 with Host
    with pytest.raises(RemoteProtocolError) as caught:
        drain(server(backend, GET + fields + b"\r\n"))
    assert caught.value.status_code == 431


def test_parser_body_received_counts_bytes_that_came(backend: str) -> None:
    conn = server(backend, POST + b"Content-Length: 10\r\n\r\nabc")
    drain(conn)
    assert conn.body_received == 3
    conn.receive_data(b"defghij")
    drain(conn)
    assert conn.body_received == 10
    conn = server(backend, CHUNKED + b"a\r\nabc")  # a 10-byte chunk, 3 of them here
    drain(conn)
    assert conn.body_received == 3
    conn.receive_data(b"defghij\r\n2\r\nkl\r\n")
    drain(conn)
    assert conn.body_received == 12
