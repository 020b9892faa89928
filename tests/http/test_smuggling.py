"""Differential corpus: both parser backends give every input the same verdict.

Each input is fed to a server-role (or client-role) connection on each
backend; the outcome is the list of events of up to four pipelined
exchanges, or the ``RemoteProtocolError`` status that ended them. The two
backends must agree, and splitting the input at any byte boundary must not
change the outcome. The corpus holds valid requests, malformed ones and the
classic request-smuggling vectors (CL.TE, TE.CL, TE.TE obfuscations, bare
LF and CR, obs-fold, chunk-size tricks).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.test_parser import ACCEPTED, REFUSED
from transom.exceptions import RemoteProtocolError
from transom.http.connection import NEED_DATA, PAUSED, Connection, Role
from transom.http.events import ConnectionClosed, Data, EndOfMessage, Request, Response

Outcome = list[object]
POST = b"POST / HTTP/1.1\r\nHost: a\r\n"
GET = b"GET / HTTP/1.1\r\nHost: a\r\n"
CHUNKED_POST = POST + b"Transfer-Encoding: chunked\r\n\r\n"

SMUGGLING = [
    (
        "cl-te",
        POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
    ),
    (
        "te-cl",
        POST + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    ),
    (
        "te-space-colon",
        POST + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    ),
    ("te-tab-value", POST + b"Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n"),
    (
        "te-xchunked",
        POST + b"Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\nabcd",
    ),
    (
        "te-obs-fold",
        POST + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-leading-space-line",
        POST + b" Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-bare-lf",
        POST + b"X: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-bare-cr",
        POST + b"X: y\rTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-two-values",
        POST + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
    ),
    ("te-quoted", b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "chunked"\r\n\r\n0\r\n\r\n'),
    (
        "te-chunked-comma-space",
        POST + b"Transfer-Encoding: chunked , \r\n\r\n0\r\n\r\n",
    ),
    ("te-empty-element-first", POST + b"Transfer-Encoding: , chunked\r\n\r\n0\r\n\r\n"),
    (
        "te-empty-elements-gzip",
        POST + b"Transfer-Encoding: ,gzip, ,\r\nContent-Length: 4\r\n\r\nabcd",
    ),
    (
        "te-empty-element-split-fields",
        POST + b"Transfer-Encoding: ,\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("te-nul", POST + b"Transfer-Encoding: chunked\x00\r\n\r\n0\r\n\r\n"),
    ("cl-leading-space-line", POST + b" Content-Length: 3\r\n\r\nabc"),
    ("cl-space-colon", POST + b"Content-Length : 3\r\n\r\nabc"),
    ("cl-tab", POST + b"Content-Length:\t3\t\r\n\r\nabc"),
    (
        "cl-then-pipelined",
        POST + b"Content-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "chunked-then-pipelined",
        CHUNKED_POST + b"3\r\nabc\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "chunk-size-0x",
        CHUNKED_POST + b"0x3\r\nabc\r\n0\r\n\r\n",
    ),
    (
        "chunk-size-overflow-wrap",
        CHUNKED_POST + b"10000000000000003\r\nabc\r\n0\r\n\r\n",
    ),
    (
        "chunk-lf-only",
        CHUNKED_POST + b"3\nabc\n0\n\n",
    ),
    (
        "chunk-ext-bare-cr",
        CHUNKED_POST + b"3;x\ry\r\nabc\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-many-lines",
        CHUNKED_POST + (b"1;" + b"e" * 4000 + b"\r\nx\r\n") * 20 + b"0\r\n\r\n",
    ),
    (
        "http12-pipelined",
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\nGET /2 HTTP/1.2\r\nHost: a\r\n\r\n",
    ),
    ("http12-chunked", CHUNKED_POST.replace(b"1.1", b"1.2") + b"2\r\nhi\r\n0\r\n\r\n"),
    ("fragment", b"GET /a#/../admin HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("fragment-pipelined", GET + b"\r\nGET /#x HTTP/1.1\r\nHost: a\r\n\r\n"),
    (
        "chunk-missing-crlf",
        CHUNKED_POST + b"3\r\nabcGET / HTTP/1.1\r\n\r\n",
    ),
    (
        "chunk-trailer-cl",
        CHUNKED_POST + b"0\r\nContent-Length: 5\r\n\r\nhello",
    ),
    (
        "get-with-body",
        GET + b"Content-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "http10-then-11",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "expect-continue",
        POST + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
    ),
    ("host-with-at", b"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"),
    ("host-absolute-mismatch", b"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n"),
    ("header-name-utf8", GET + b"\xe2\x80\x8bX: y\r\n\r\n"),
    ("method-nul", b"G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-nul", b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("target-tab", b"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("leading-crlf", b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("leading-lf", b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("leading-space", b" GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    ("tls-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ("garbage", b"\x00\x01\x02\x03\r\n\r\n"),
    ("only-crlfcrlf", b"\r\n\r\n"),
    (
        "connection-close-pipelined",
        GET + b"Connection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    ("connection-list", GET + b"Connection: keep-alive, Close\r\n\r\n"),
    (
        "upgrade-then-bytes",
        GET
        + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "connect-then-bytes",
        b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
    ),
    (
        "post-cl-then-post",
        POST
        + b"Content-Length: 1\r\n\r\nxPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\ny",
    ),
]

REQUEST_CORPUS = [(i, w) for i, w, _ in REFUSED] + list(ACCEPTED) + SMUGGLING

RESPONSES = [
    ("ok-cl", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    (
        "ok-chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nT: 1\r\n\r\n",
    ),
    ("ok-close", b"HTTP/1.1 200 OK\r\n\r\nuntil close"),
    ("no-reason", b"HTTP/1.1 204\r\n\r\n"),
    ("empty-reason", b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
    ("reason-obs-text", b"HTTP/1.1 200 \xc3\x93K\r\nContent-Length: 0\r\n\r\n"),
    ("interim", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ("http10", b"HTTP/1.0 200 OK\r\n\r\nbody"),
    ("http09-like", b"HTTP/0.9 200 OK\r\n\r\n"),
    ("http2", b"HTTP/2 200 OK\r\n\r\n"),
    ("http12", b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("http20", b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("te-empty-element", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n"),
    (
        "chunk-ext-many-lines",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + (b"1;" + b"e" * 4000 + b"\r\nx\r\n") * 20
        + b"0\r\n\r\n",
    ),
    (
        "cl-te",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("two-cl", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
    ("bad-status", b"HTTP/1.1 2x0 OK\r\n\r\n"),
    ("status-099", b"HTTP/1.1 099 Low\r\n\r\n"),
    ("obs-fold", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"),
    ("bare-lf", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    ("trailing-ws", b"HTTP/1.1 200 OK\r\nX: y \r\nContent-Length: 0\r\n\r\n"),
    ("nul-value", b"HTTP/1.1 200 OK\r\nX: a\x00\r\nContent-Length: 0\r\n\r\n"),
    ("space-before-colon", b"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n"),
    ("cl-plus", b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok"),
    ("te-gzip", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx"),
    ("304-with-cl", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
    ("short-body", b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"),
    ("empty-head", b"\r\n\r\n"),
    ("empty-line-first", b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
]


def serve_outcome(backend: str, pieces: list[bytes]) -> Outcome:
    """Events of up to four exchanges on a server connection, or the error status."""
    conn = Connection(Role.SERVER, backend=backend)
    outcome: Outcome = []
    exchanges = 0
    try:
        for piece in [*pieces, b""]:
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                if event is PAUSED:
                    if not conn.keep_alive or exchanges == 4:
                        return outcome
                    conn.start_next_cycle()
                    continue
                outcome.append(event)
                if isinstance(event, ConnectionClosed):
                    return outcome
                if isinstance(event, Request):
                    exchanges += 1
                elif isinstance(event, EndOfMessage):
                    conn.send_response(Response(200, []), b"")
    except RemoteProtocolError as error:
        outcome.append(("error", error.status_code))
    return outcome


def client_outcome(backend: str, pieces: list[bytes]) -> Outcome:
    conn = Connection(Role.CLIENT, backend=backend)
    conn.send_request(Request(b"GET", b"/", [(b"host", b"a")]))
    outcome: Outcome = []
    try:
        for piece in [*pieces, b""]:
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is NEED_DATA or event is PAUSED:
                    break
                outcome.append(event)
                if isinstance(event, ConnectionClosed):
                    return outcome
    except RemoteProtocolError as error:
        outcome.append(("error", error.status_code))
    return outcome


def merged(outcome: Outcome) -> Outcome:
    """Join adjacent Data events: how a body is cut into events may follow the input."""
    result: Outcome = []
    for event in outcome:
        if isinstance(event, Data) and result and isinstance(result[-1], Data):
            result[-1] = Data(result[-1].data + event.data)
        else:
            result.append(event)
    return result


@pytest.mark.parametrize("wire", [w for _, w in REQUEST_CORPUS], ids=[i for i, _ in REQUEST_CORPUS])
def test_smuggling_backends_agree_on_requests(wire: bytes) -> None:
    assert serve_outcome("llhttp", [wire]) == serve_outcome("python", [wire])


def cuts(wire: bytes) -> range:
    """Every split point of a short input; of a long one (tens of KB, where every
    point would cost minutes: each split re-parses the whole input), every 61st,
    a stride prime to the repeated units the long inputs are made of."""
    return range(1, len(wire), 1 if len(wire) <= 4096 else 61)


@pytest.mark.parametrize("wire", [w for _, w in SMUGGLING], ids=[i for i, _ in SMUGGLING])
def test_smuggling_verdict_survives_any_split(wire: bytes) -> None:
    whole = merged(serve_outcome("python", [wire]))
    for backend in ("python", "llhttp"):
        for cut in cuts(wire):
            assert merged(serve_outcome(backend, [wire[:cut], wire[cut:]])) == whole, (backend, cut)


@pytest.mark.parametrize("wire", [w for _, w in RESPONSES], ids=[i for i, _ in RESPONSES])
def test_smuggling_backends_agree_on_responses(wire: bytes) -> None:
    whole = merged(client_outcome("python", [wire]))
    assert merged(client_outcome("llhttp", [wire])) == whole
    for cut in cuts(wire):
        assert merged(client_outcome("llhttp", [wire[:cut], wire[cut:]])) == whole, cut


def test_smuggling_no_vector_yields_two_readings() -> None:
    # The CL.TE and TE.CL vectors must be refused outright, not framed one way.
    for name in ("cl-te", "te-cl", "te-xchunked", "te-obs-fold", "te-bare-lf", "te-bare-cr"):
        wire = dict(SMUGGLING)[name]
        assert serve_outcome("python", [wire])[-1] == ("error", 400), name


# Fragments that request-smuggling and parser-confusion inputs are made of.
FRAGMENTS = [
    b"GET",
    b"POST",
    b"get",
    b" ",
    b"  ",
    b"\t",
    b"/",
    b"/a?b",
    b"*",
    b"http://h/",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/2.0",
    b"HTTP/1.2",
    b"#",
    b"/#f",
    b"\r\n",
    b"\r",
    b"\n",
    b"\x00",
    b"\x7f",
    b"\xff",
    b":",
    b" :",
    b"Host: a",
    b"Host: a b",
    b"Content-Length: 3",
    b"Content-Length: +3",
    b"Content-Length: 3, 3",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Transfer-Encoding: chunked, chunked",
    b"Transfer-Encoding: , chunked",
    b"Transfer-Encoding: ,",
    b"Connection: close",
    b"Expect: 100-continue",
    b"X: y",
    b"X: y ",
    b"\r\n\r\n",
    b"0\r\n\r\n",
    b"3\r\nabc\r\n",
    b"3;e=1\r\nabc\r\n",
    b"1;" + b"e" * 3000 + b"\r\nx\r\n",
    b"ffffffffffffffffff\r\n",
    b"abc",
]

fuzz_requests = st.builds(
    lambda start, rest: start + b"".join(rest),
    st.sampled_from(
        [
            b"GET / HTTP/1.1\r\nHost: a\r\n",
            b"POST / HTTP/1.1\r\nHost: a\r\n",
            b"GET / HTTP/1.0\r\n",
            b"",
        ]
    ),
    st.lists(st.sampled_from(FRAGMENTS), max_size=14),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_requests, st.integers(min_value=0, max_value=200))
def test_smuggling_backends_agree_on_fuzzed_requests(wire: bytes, cut: int) -> None:
    expected = merged(serve_outcome("python", [wire]))
    assert merged(serve_outcome("llhttp", [wire])) == expected
    cut %= len(wire) + 1
    if 0 < cut < len(wire):
        assert merged(serve_outcome("llhttp", [wire[:cut], wire[cut:]])) == expected


fuzz_responses = st.builds(
    lambda start, rest: start + b"".join(rest),
    st.sampled_from([b"HTTP/1.1 200 OK\r\n", b"HTTP/1.0 200 OK\r\n", b"HTTP/1.1 ", b""]),
    st.lists(
        st.sampled_from([*FRAGMENTS, b"204", b"100 Continue", b"HTTP/1.1 200", b" OK"]),
        max_size=14,
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fuzz_responses, st.integers(min_value=0, max_value=200))
def test_smuggling_backends_agree_on_fuzzed_responses(wire: bytes, cut: int) -> None:
    expected = merged(client_outcome("python", [wire]))
    assert merged(client_outcome("llhttp", [wire])) == expected
    cut %= len(wire) + 1
    if 0 < cut < len(wire):
        assert merged(client_outcome("llhttp", [wire[:cut], wire[cut:]])) == expected
