"""Connection in the client role: requests out, responses in (RFC 9112 §6.3)."""

from __future__ import annotations

import pytest

from tests.http.conftest import client, drain
from transom.exceptions import LocalProtocolError, RemoteProtocolError
from transom.http.connection import NEED_DATA, PAUSED, Connection, Limits, Role, State
from transom.http.events import ConnectionClosed, Data, EndOfMessage, Request, Response

GET = Request(b"GET", b"/", [(b"host", b"example.com")])


def sent(backend: str, request: Request = GET, body: bytes = b"") -> Connection:
    conn = client(backend)
    conn.send_request(request, body)
    return conn


def body_of(events: list[object]) -> bytes:
    return b"".join(e.data for e in events if isinstance(e, Data))


def test_connection_client_writes_a_get(backend: str) -> None:
    conn = client(backend)
    assert conn.send_request(GET) == b"GET / HTTP/1.1\r\nhost: example.com\r\n\r\n"
    assert conn.our_state is State.DONE


def test_connection_client_adds_content_length_to_a_post(backend: str) -> None:
    conn = client(backend)
    wire = conn.send_request(Request(b"POST", b"/f", [(b"host", b"a")]), b"")
    assert wire == b"POST /f HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n"


def test_connection_client_streams_a_chunked_request(backend: str) -> None:
    conn = client(backend)
    head = conn.send(Request(b"PUT", b"/f", [(b"host", b"a"), (b"transfer-encoding", b"chunked")]))
    assert head.endswith(b"transfer-encoding: chunked\r\n\r\n")
    assert conn.send(Data(b"abc")) == b"3\r\nabc\r\n"
    assert conn.send(EndOfMessage()) == b"0\r\n\r\n"


def test_connection_client_streams_a_content_length_request(backend: str) -> None:
    conn = client(backend)
    conn.send(Request(b"PUT", b"/f", [(b"host", b"a"), (b"content-length", b"3")]))
    assert conn.send(Data(b"ab")) + conn.send(Data(b"c")) == b"abc"
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"d"))


def test_connection_client_refuses_chunked_over_http10(backend: str) -> None:
    conn = client(backend)
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"POST", b"/", [(b"transfer-encoding", b"chunked")], b"1.0"))


def test_connection_client_refuses_a_body_without_framing(backend: str) -> None:
    conn = client(backend)
    conn.send(GET)
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"x"))


def test_connection_client_needs_a_host_on_http11(backend: str) -> None:
    with pytest.raises(LocalProtocolError):
        client(backend).send(Request(b"GET", b"/", []))


@pytest.mark.parametrize(
    ("method", "target"),
    [(b"GE T", b"/"), (b"GET", b"/a b"), (b"GET", b"/\r\nX: y"), (b"", b"/"), (b"GET", b"")],
    ids=["space-method", "space-target", "crlf-target", "empty-method", "empty-target"],
)
def test_connection_client_refuses_invalid_request_lines(
    backend: str, method: bytes, target: bytes
) -> None:
    with pytest.raises(LocalProtocolError):
        client(backend).send(Request(method, target, [(b"host", b"a")]))


def test_connection_client_refuses_header_injection(backend: str) -> None:
    with pytest.raises(LocalProtocolError):
        client(backend).send(Request(b"GET", b"/", [(b"host", b"a\r\nX: y")]))


def test_connection_client_reads_a_content_length_response(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello")
    events = drain(conn)
    assert events == [
        Response(200, [(b"content-length", b"5"), (b"x", b"y")], b"1.1", b"OK"),
        Data(b"hello"),
        EndOfMessage(),
    ]
    assert conn.their_state is State.DONE
    assert conn.keep_alive
    conn.start_next_cycle()
    assert conn.our_state is State.IDLE


def test_connection_client_reads_a_chunked_response(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\nServer-Timing: db;dur=5\r\n\r\n"
    )
    events = drain(conn)
    assert body_of(events) == b"abcde"
    assert events[-1] == EndOfMessage([(b"server-timing", b"db;dur=5")])


def test_connection_client_reads_a_close_delimited_response(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n\r\nsome")
    assert body_of(drain(conn)) == b"some"
    conn.receive_data(b" more")
    assert drain(conn) == [Data(b" more")]
    conn.receive_data(b"")
    assert conn.next_event() == EndOfMessage()
    assert not conn.keep_alive
    assert conn.their_state is State.MUST_CLOSE
    assert conn.next_event() == ConnectionClosed()
    assert conn.their_state is State.CLOSED


def test_connection_client_http10_response_closes(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    events = drain(conn)
    assert body_of(events) == b"ok"
    assert conn.their_http_version == b"1.0"
    assert not conn.keep_alive


def test_connection_client_http10_keep_alive_response_stays_open(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")
    drain(conn)
    assert conn.keep_alive


def test_connection_client_http10_close_delimited(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.0 200 OK\r\n\r\nall of it")
    conn.receive_data(b"")
    assert body_of(drain(conn)) == b"all of it"


def test_connection_client_head_response_has_no_body(backend: str) -> None:
    conn = sent(backend, Request(b"HEAD", b"/", [(b"host", b"a")]))
    conn.receive_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    events = drain(conn)
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert conn.keep_alive
    conn.start_next_cycle()
    conn.send_request(Request(b"HEAD", b"/", [(b"host", b"a")]))
    assert [type(e) for e in drain(conn)] == [Response, EndOfMessage]


@pytest.mark.parametrize("status", [204, 304])
def test_connection_client_bodiless_statuses(backend: str, status: int) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 %d X\r\nContent-Length: 5\r\n\r\n" % status)
    events = drain(conn)
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert conn.keep_alive


def test_connection_client_interim_responses_precede_the_final_one(backend: str) -> None:
    conn = sent(backend, Request(b"POST", b"/", [(b"host", b"a"), (b"expect", b"100-continue")]))
    conn.receive_data(
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
    )
    events = drain(conn)
    statuses = [e.status_code for e in events if isinstance(e, Response)]
    assert statuses == [100, 103, 201]
    assert isinstance(events[-1], EndOfMessage)


def test_connection_client_short_body_at_eof_is_an_error(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError):
        drain(conn)
    assert conn.their_state is State.ERROR


def test_connection_client_eof_in_a_chunked_body_is_an_error(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab")
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError):
        drain(conn)


@pytest.mark.parametrize(
    "wire",
    [
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 099 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    ],
    ids=[
        "four-digit-status",
        "two-digit-status",
        "alpha-status",
        "status-below-100",
        "double-space",
        "lowercase-version",
        "not-http",
        "space-in-name",
        "obs-fold",
        "two-content-lengths",
        "cl-and-te",
        "te-gzip",
        "te-in-http10",
        "switching",
    ],
)
def test_connection_client_refuses_invalid_responses(backend: str, wire: bytes) -> None:
    conn = sent(backend)
    conn.receive_data(wire)
    with pytest.raises(RemoteProtocolError):
        drain(conn)


def test_connection_client_unknown_version_is_505(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/2.0 200 OK\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 505


def test_connection_client_status_without_reason(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
    events = drain(conn)
    assert events[0] == Response(200, [(b"content-length", b"0")], b"1.1", b"")


def test_connection_client_oversized_headers_are_refused(backend: str) -> None:
    conn = client(backend, limits=Limits(max_header_bytes=200))
    conn.send_request(GET)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300)
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 431


def test_connection_client_too_many_headers_are_refused(backend: str) -> None:
    conn = client(backend, limits=Limits(max_header_count=2))
    conn.send_request(GET)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 3 + b"\r\n")
    with pytest.raises(RemoteProtocolError):
        drain(conn)


def test_connection_client_data_before_a_request_is_an_error(backend: str) -> None:
    conn = client(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_connection_client_eof_while_idle_is_closed(backend: str) -> None:
    conn = client(backend)
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed()


def test_connection_client_waits_for_the_response(backend: str) -> None:
    conn = sent(backend)
    assert conn.next_event() is NEED_DATA
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-")
    assert conn.next_event() is NEED_DATA


def test_connection_client_early_response_while_sending(backend: str) -> None:
    conn = client(backend)
    conn.send(Request(b"PUT", b"/", [(b"host", b"a"), (b"content-length", b"100")]))
    conn.receive_data(
        b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    events = drain(conn)
    assert isinstance(events[0], Response)
    assert events[0].status_code == 413
    assert not conn.keep_alive


def test_connection_client_pauses_after_the_response(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    drain(conn)
    assert conn.next_event() is PAUSED


def test_connection_client_connection_close_request_ends_keep_alive(backend: str) -> None:
    conn = sent(backend, Request(b"GET", b"/", [(b"host", b"a"), (b"connection", b"close")]))
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    drain(conn)
    assert not conn.keep_alive
    assert conn.our_state is State.MUST_CLOSE
    with pytest.raises(LocalProtocolError):
        conn.start_next_cycle()


def test_connection_client_refuses_a_second_request(backend: str) -> None:
    conn = sent(backend)
    with pytest.raises(LocalProtocolError):
        conn.send_request(GET)


def test_connection_client_refuses_to_send_responses(backend: str) -> None:
    with pytest.raises(LocalProtocolError):
        client(backend).send(Response(200, []))


def test_connection_client_http10_request(backend: str) -> None:
    conn = client(backend)
    wire = conn.send_request(Request(b"GET", b"/", [], b"1.0"))
    assert wire == b"GET / HTTP/1.0\r\n\r\n"
    assert not conn.keep_alive


def test_connection_client_sends_trailers(backend: str) -> None:
    conn = client(backend)
    conn.send(Request(b"POST", b"/", [(b"host", b"a"), (b"transfer-encoding", b"chunked")]))
    assert conn.send(EndOfMessage([(b"x-sum", b"9")])) == b"0\r\nx-sum: 9\r\n\r\n"


def test_connection_client_refuses_trailers_without_chunked(backend: str) -> None:
    conn = client(backend)
    conn.send(Request(b"POST", b"/", [(b"host", b"a"), (b"content-length", b"0")]))
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage([(b"x-sum", b"9")]))


def test_connection_client_refuses_a_response_over_the_body_limit(backend: str) -> None:
    conn = client(backend, limits=Limits(max_body_size=10))
    conn.send_request(GET)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n")
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 413


def test_connection_client_refuses_a_close_delimited_body_over_the_limit(backend: str) -> None:
    conn = client(backend, limits=Limits(max_body_size=10))
    conn.send_request(GET)
    conn.receive_data(b"HTTP/1.1 200 OK\r\n\r\n" + b"a" * 11)
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 413


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([(b"content-length", b"1"), (b"transfer-encoding", b"chunked")], "both"),
        ([(b"content-length", b"-1")], "Content-Length"),
        ([(b"transfer-encoding", b"gzip, chunked")], "only 'chunked'"),
        ([(b"host", b"b")], "exactly one Host"),
    ],
    ids=["cl-and-te", "cl-negative", "te-gzip", "two-hosts"],
)
def test_connection_client_refuses_invalid_request_framing(
    backend: str, headers: list[tuple[bytes, bytes]], message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        client(backend).send(Request(b"POST", b"/", [(b"host", b"a"), *headers]))


def test_connection_client_connection_close_header_ends_keep_alive(backend: str) -> None:
    conn = client(backend)
    conn.send(Request(b"GET", b"/", [(b"host", b"a"), (b"Connection", b"close")]))
    assert not conn.keep_alive


def test_connection_client_connect_success_is_a_tunnel(backend: str) -> None:
    conn = sent(backend, Request(b"CONNECT", b"example.com:443", [(b"host", b"example.com:443")]))
    conn.receive_data(b"HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01tls bytes")
    events = drain(conn)
    assert [type(e) for e in events] == [Response, EndOfMessage]
    assert conn.trailing_data == (b"\x16\x03\x01tls bytes", False)
    assert not conn.keep_alive


def test_connection_client_connect_refusal_has_a_body(backend: str) -> None:
    conn = sent(backend, Request(b"CONNECT", b"example.com:443", [(b"host", b"example.com:443")]))
    conn.receive_data(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno")
    assert body_of(drain(conn)) == b"no"


def test_connection_client_long_status_line_is_named(backend: str) -> None:
    conn = client(backend, limits=Limits(max_request_line=20))
    conn.send_request(GET)
    conn.receive_data(b"HTTP/1.1 200 " + b"O" * 40 + b"\r\n\r\n")
    with pytest.raises(RemoteProtocolError, match="status line too long"):
        drain(conn)


def test_connection_client_send_request_chunks_a_body_the_caller_marked_chunked(
    backend: str,
) -> None:
    conn = Connection(Role.CLIENT, backend=backend)
    headers = [(b"host", b"a"), (b"transfer-encoding", b"chunked")]
    wire = conn.send_request(Request(b"POST", b"/", headers), b"hi")
    assert wire.endswith(b"\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
    assert conn.our_state is State.DONE


@pytest.mark.parametrize(
    "headers",
    [
        [[b"host", b"a"]],  # a list pair
        [(b"host", b"a"), [b"x-list", b"v"]],
        [(b"host", bytearray(b"a"))],
    ],
    ids=["list-host", "list-field", "bytearray-host"],
)
def test_connection_client_takes_unhashable_header_pairs(backend: str, headers: list) -> None:
    for _ in range(2):  # the second time, whatever was remembered is used
        conn = Connection(Role.CLIENT, backend=backend)
        wire = conn.send_request(Request(b"GET", b"/", headers), b"")
        assert wire.startswith(b"GET / HTTP/1.1\r\nhost: a\r\n")


def test_connection_client_counts_a_remembered_host(backend: str) -> None:
    host = (b"host", b"remembered.example")
    Connection(Role.CLIENT, backend=backend).send_request(Request(b"GET", b"/", [host]))
    conn = Connection(Role.CLIENT, backend=backend)
    with pytest.raises(LocalProtocolError, match="exactly one Host"):
        conn.send_request(Request(b"GET", b"/", [host, host]))
    conn = Connection(Role.CLIENT, backend=backend)
    with pytest.raises(LocalProtocolError, match="exactly one Host"):
        conn.send_request(Request(b"GET", b"/", [(b"x", b"y")]))


def test_connection_client_reads_a_higher_minor_version_as_http11(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.2 200 OK\r\nContent-Length: 2\r\n\r\nok")
    events = drain(conn)
    assert isinstance(events[0], Response)
    assert events[0].http_version == b"1.1"
    assert conn.keep_alive
    assert body_of(events) == b"ok"


def test_connection_client_refuses_http2_responses(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 505


def test_connection_client_bounds_chunk_extensions(backend: str) -> None:
    conn = sent(backend)
    conn.receive_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n")
    conn.receive_data((b"1;" + b"e" * 4000 + b"\r\nx\r\n") * 17)  # 68,000 > 65,536 bytes
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 413
