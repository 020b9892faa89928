"""Connection in the server role: requests in, responses out (RFC 9112)."""

from __future__ import annotations

import pytest

from tests.http.conftest import drain, server
from transom.exceptions import ConfigurationError, LocalProtocolError, RemoteProtocolError
from transom.http import writer
from transom.http.connection import NEED_DATA, PAUSED, Connection, Limits, Role, State
from transom.http.events import ConnectionClosed, Data, EndOfMessage, Request, Response

GET = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"


def request_of(events: list[object]) -> Request:
    head = events[0]
    assert isinstance(head, Request)
    return head


def test_connection_server_parses_a_get(backend: str) -> None:
    conn = server(backend, GET)
    assert conn.next_event() == Request(
        b"GET", b"/plaintext", [(b"host", b"127.0.0.1:8080")], b"1.1"
    )
    assert conn.next_event() == EndOfMessage()
    assert conn.next_event() is PAUSED
    assert conn.their_state is State.DONE
    assert conn.their_http_version == b"1.1"
    assert conn.their_method == b"GET"


def test_connection_server_lowercases_names_and_strips_values(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.1\r\nHost:  a.example \t\r\nX-Thing:\tv  w\r\n\r\n")
    assert request_of(drain(conn)).headers == [(b"host", b"a.example"), (b"x-thing", b"v  w")]


def test_connection_server_needs_data_for_a_partial_head(backend: str) -> None:
    conn = server(backend, GET[:20])
    assert conn.next_event() is NEED_DATA
    conn.receive_data(GET[20:])
    assert isinstance(conn.next_event(), Request)


def test_connection_server_accepts_a_head_byte_by_byte(backend: str) -> None:
    conn = server(backend)
    events = []
    for i in range(len(GET)):
        conn.receive_data(GET[i : i + 1])
        events += drain(conn)
    assert events == [
        Request(b"GET", b"/plaintext", [(b"host", b"127.0.0.1:8080")]),
        EndOfMessage(),
    ]


def test_connection_server_reads_a_content_length_body(backend: str) -> None:
    conn = server(backend, b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
    assert drain(conn)[1:] == [Data(b"hello"), EndOfMessage()]


def test_connection_server_reads_a_body_in_pieces(backend: str) -> None:
    conn = server(backend, b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe")
    assert drain(conn)[1:] == [Data(b"he")]
    conn.receive_data(b"llo")
    assert drain(conn) == [Data(b"llo"), EndOfMessage()]


def test_connection_server_reads_a_chunked_body_with_trailers(backend: str) -> None:
    conn = server(
        backend,
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nChecksum: abc\r\n\r\n",
    )
    events = drain(conn)
    assert events[1:] == [Data(b"hello"), Data(b" world"), EndOfMessage([(b"checksum", b"abc")])]
    assert (b"checksum", b"abc") not in request_of(events).headers


def test_connection_server_reads_chunked_split_at_every_byte(backend: str) -> None:
    wire = (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\nA\r\n0123456789\r\n0\r\nX: y\r\n\r\n"
    )
    conn = server(backend)
    events = []
    for i in range(len(wire)):
        conn.receive_data(wire[i : i + 1])
        events += drain(conn)
    body = b"".join(e.data for e in events if isinstance(e, Data))
    assert body == b"hello0123456789"
    assert events[-1] == EndOfMessage([(b"x", b"y")])


def test_connection_server_accepts_leading_empty_lines(backend: str) -> None:
    conn = server(backend, b"\r\n\r\n" + GET)
    assert isinstance(conn.next_event(), Request)


def test_connection_server_refuses_endless_empty_lines(backend: str) -> None:
    conn = server(backend, b"\r\n" * 50)
    with pytest.raises(RemoteProtocolError) as caught:
        conn.next_event()
    assert caught.value.status_code == 400


def test_connection_server_pauses_between_pipelined_requests(backend: str) -> None:
    conn = server(backend, GET + b"GET /two HTTP/1.1\r\nHost: a\r\n\r\n")
    assert request_of(drain(conn)).target == b"/plaintext"
    assert conn.next_event() is PAUSED
    assert conn.trailing_data[0].startswith(b"GET /two")
    conn.send_response(Response(200, []), b"one")
    conn.start_next_cycle()
    assert request_of(drain(conn)).target == b"/two"


def test_connection_server_answers_sixteen_pipelined_requests(backend: str) -> None:
    conn = server(backend, GET * 16)
    out = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            break
        if event is PAUSED:
            conn.start_next_cycle()
        elif isinstance(event, Request):
            out.append(conn.send_response(Response(200, []), b"ok"))
    assert len(out) == 16
    assert b"".join(out).count(b"HTTP/1.1 200 OK\r\n") == 16


def test_connection_server_send_response_adds_content_length(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(200, [(b"content-type", b"text/plain")]), b"Hello")
    assert wire == b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nHello"
    assert conn.our_state is State.DONE
    assert conn.keep_alive


def test_connection_server_send_response_keeps_a_correct_content_length(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(200, [(b"content-length", b"5")]), b"Hello")
    assert wire == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nHello"


@pytest.mark.parametrize("declared", [b"4", b"6"], ids=["too-long", "too-short"])
def test_connection_server_send_response_refuses_a_wrong_content_length(
    backend: str, declared: bytes
) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, [(b"content-length", declared)]), b"Hello")
    assert conn.our_state is State.ERROR
    assert not conn.keep_alive


def test_connection_server_send_response_uses_a_custom_reason(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(200, [], reason=b"Fine"), b"")
    assert wire.startswith(b"HTTP/1.1 200 Fine\r\n")


def test_connection_server_send_response_knows_unregistered_statuses(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    assert conn.send_response(Response(299, []), b"").startswith(b"HTTP/1.1 299 \r\n")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"x", b"a\r\nSet-Cookie: evil=1"),
        (b"x", b"a\nb"),
        (b"x", b"a\rb"),
        (b"x", b"a\x00b"),
        (b"x y", b"v"),
        (b"x:", b"v"),
        (b"", b"v"),
        (b"x\r\n", b"v"),
    ],
    ids=[
        "crlf-value",
        "lf-value",
        "cr-value",
        "nul-value",
        "space-name",
        "colon-name",
        "empty-name",
        "crlf-name",
    ],
)
def test_connection_server_refuses_header_injection(
    backend: str, name: bytes, value: bytes
) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, [(name, value)]), b"")


def test_connection_server_field_line_cache_still_checks_every_new_value(backend: str) -> None:
    # A valid field is remembered as a wire line; a different value for the
    # same name is a new field and is checked again.
    for value in (b"fine", b"fine"):
        conn = server(backend, GET)
        drain(conn)
        wire = conn.send_response(Response(200, [(b"x-cached", value)]), b"")
        assert b"x-cached: fine\r\n" in wire
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, [(b"x-cached", b"fine\r\nx-evil: 1")]), b"")


@pytest.mark.parametrize(
    "field",
    [[b"x-list", b"v"], (b"x-array", bytearray(b"v")), (b"x-three", b"v", b"w"), ("x-str", "v")],
    ids=["list-pair", "bytearray-value", "triple", "str-pair"],
)
def test_connection_server_odd_fields_take_the_checked_path(backend: str, field: object) -> None:
    conn = server(backend, GET)
    drain(conn)
    try:
        wire = conn.send_response(Response(200, [field]), b"")  # type: ignore[list-item]
    except LocalProtocolError:
        assert conn.our_state is State.ERROR
    else:
        assert wire.startswith(b"HTTP/1.1 200 OK\r\n") and b"x-" in wire


def test_connection_server_field_line_cache_is_bounded(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "FIELD_LINES", {})
    for i in range(writer.MAX_FIELD_LINES + 10):
        conn = server(backend, GET)
        drain(conn)
        conn.send_response(Response(200, [(b"etag", b'"%d"' % i)]), b"")
    assert 0 < len(writer.FIELD_LINES) <= writer.MAX_FIELD_LINES


def test_connection_server_refuses_crlf_in_the_reason(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, [], reason=b"OK\r\nX: y"), b"")


def test_connection_server_drops_the_body_of_a_head_response(backend: str) -> None:
    conn = server(backend, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    drain(conn)
    wire = conn.send_response(Response(200, []), b"Hello")
    assert wire == b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"


def test_connection_server_head_response_keeps_its_content_length(backend: str) -> None:
    conn = server(backend, b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    drain(conn)
    conn.send(Response(200, [(b"content-length", b"1000")]))
    assert conn.send(Data(b"ignored")) == b""
    assert conn.send(EndOfMessage()) == b""
    assert conn.our_state is State.DONE


@pytest.mark.parametrize("status", [204, 304])
def test_connection_server_drops_the_body_of_bodiless_statuses(backend: str, status: int) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(status, []), b"Hello")
    assert wire.endswith(b"\r\n\r\n")
    assert b"Hello" not in wire
    assert b"content-length" not in wire


def test_connection_server_drops_content_length_from_a_204(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(204, [(b"content-length", b"0")]), b"")
    assert wire == b"HTTP/1.1 204 No Content\r\n\r\n"


def test_connection_server_streams_unknown_length_as_chunked(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    head = conn.send(Response(200, []))
    assert head == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    assert conn.send(Data(b"hello")) == b"5\r\nhello\r\n"
    assert conn.send(Data(b"")) == b""
    assert conn.send(EndOfMessage([(b"x-sum", b"1")])) == b"0\r\nx-sum: 1\r\n\r\n"
    assert conn.keep_alive


def test_connection_server_streams_to_http10_until_close(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.0\r\n\r\n")
    drain(conn)
    head = conn.send(Response(200, []))
    assert b"transfer-encoding" not in head
    assert b"connection: close\r\n" in head
    assert conn.send(Data(b"hello")) == b"hello"
    assert conn.send(EndOfMessage()) == b""
    assert conn.our_state is State.MUST_CLOSE
    assert not conn.keep_alive


def test_connection_server_http10_closes_by_default(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.0\r\n\r\n")
    drain(conn)
    assert not conn.keep_alive
    wire = conn.send_response(Response(200, []), b"x")
    assert b"connection: close\r\n" in wire
    with pytest.raises(LocalProtocolError):
        conn.start_next_cycle()


def test_connection_server_http10_keep_alive_is_repeated(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET)
    drain(conn)
    assert conn.keep_alive
    wire = conn.send_response(Response(200, []), b"x")
    assert b"connection: keep-alive\r\n" in wire
    conn.start_next_cycle()
    assert isinstance(conn.next_event(), Request)


def test_connection_server_http10_gets_no_interim_response(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.0\r\n\r\n")
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(103, []))


def test_connection_server_connection_close_ends_keep_alive(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n" + GET)
    drain(conn)
    assert not conn.keep_alive
    assert conn.next_event() is PAUSED
    wire = conn.send_response(Response(200, []), b"")
    assert b"connection: close\r\n" in wire
    assert conn.our_state is State.MUST_CLOSE
    assert conn.their_state is State.MUST_CLOSE


def test_connection_server_app_connection_close_ends_keep_alive(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(200, [(b"connection", b"close")]), b"")
    assert wire.count(b"connection: close") == 1
    assert not conn.keep_alive


def test_connection_server_reports_eof_after_the_cycle(backend: str) -> None:
    conn = server(backend, GET)
    conn.receive_data(b"")
    drain(conn)
    assert conn.next_event() is PAUSED
    conn.send_response(Response(200, []), b"")
    conn.start_next_cycle()
    assert conn.next_event() == ConnectionClosed()
    assert conn.their_state is State.CLOSED


def test_connection_server_eof_in_a_head_is_an_error(backend: str) -> None:
    conn = server(backend, GET[:10])
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    assert conn.their_state is State.ERROR


def test_connection_server_eof_in_a_body_is_an_error(backend: str) -> None:
    conn = server(backend, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc")
    conn.receive_data(b"")
    with pytest.raises(RemoteProtocolError):
        drain(conn)


def test_connection_server_error_state_is_sticky(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.1\r\n\r\n")
    with pytest.raises(RemoteProtocolError):
        conn.next_event()
    with pytest.raises(RemoteProtocolError):
        conn.next_event()


def test_connection_server_send_continue_once_for_http11(backend: str) -> None:
    conn = server(
        backend,
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    )
    drain(conn)
    assert conn.expects_continue
    assert conn.send_continue() == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert conn.send_continue() == b""
    assert not conn.expects_continue


def test_connection_server_no_continue_for_http10(backend: str) -> None:
    conn = server(backend, b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    drain(conn)
    assert not conn.expects_continue
    assert conn.send_continue() == b""


def test_connection_server_no_continue_after_the_response(backend: str) -> None:
    conn = server(
        backend,
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    )
    drain(conn)
    wire = conn.send_response(Response(413, []), b"")
    assert conn.send_continue() == b""
    # The body never came: the connection cannot be reused.
    assert b"connection: close\r\n" in wire
    assert not conn.keep_alive


def test_connection_server_sends_interim_responses(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    assert conn.send(Response(103, [(b"link", b"</a.css>")])) == (
        b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n"
    )
    assert conn.our_state is State.IDLE
    assert conn.send_response(Response(200, []), b"").startswith(b"HTTP/1.1 200 OK")


def test_connection_server_refuses_a_second_response(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    conn.send_response(Response(200, []), b"")
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, []), b"")


def test_connection_server_refuses_a_response_before_a_request(backend: str) -> None:
    conn = server(backend)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(200, []), b"")


def test_connection_server_refuses_to_send_requests(backend: str) -> None:
    conn = server(backend)
    with pytest.raises(LocalProtocolError):
        conn.send(Request(b"GET", b"/", [(b"host", b"a")]))


def test_connection_server_refuses_more_data_than_declared(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    conn.send(Response(200, [(b"content-length", b"3")]))
    assert conn.send(Data(b"ab")) == b"ab"
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"cd"))
    assert conn.our_state is State.ERROR


def test_connection_server_refuses_an_early_end_of_message(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    conn.send(Response(200, [(b"content-length", b"3")]))
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage())


def test_connection_server_start_next_cycle_needs_both_sides_done(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.start_next_cycle()


def test_connection_server_refuses_non_events(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send("HTTP/1.1 200 OK")  # type: ignore[arg-type]


def test_connection_server_unread_body_closes_the_connection(backend: str) -> None:
    conn = server(backend, b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
    assert isinstance(conn.next_event(), Request)
    wire = conn.send_response(Response(200, []), b"")
    assert b"connection: close\r\n" in wire
    assert not conn.keep_alive


def test_connection_backend_names_the_parser(backend: str) -> None:
    assert Connection(Role.SERVER, backend=backend).backend == backend


def test_connection_default_backend_is_llhttp() -> None:
    assert Connection(Role.SERVER).backend == "llhttp"


def test_connection_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend"):
        Connection(Role.SERVER, backend="nope")


def test_connection_receive_after_eof_is_refused(backend: str) -> None:
    conn = server(backend)
    conn.receive_data(b"")
    with pytest.raises(LocalProtocolError):
        conn.receive_data(b"x")


def test_connection_limits_are_configurable(backend: str) -> None:
    conn = server(backend, GET, limits=Limits(max_header_count=0))
    with pytest.raises(RemoteProtocolError) as caught:
        conn.next_event()
    assert caught.value.status_code == 431


def exchange(conn: Connection, response: Response, body: bytes = b"") -> tuple[Request, bytes]:
    events = drain(conn)
    wire = conn.send_response(response, body)
    assert conn.next_event() is PAUSED
    conn.start_next_cycle()
    return request_of(events), wire


def test_connection_server_repeated_heads_give_fresh_events(backend: str) -> None:
    conn = server(backend, GET * 3)
    first, _ = exchange(conn, Response(200, []))
    first.headers.append((b"x-added", b"by the app"))
    second, _ = exchange(conn, Response(200, []))
    assert second == Request(b"GET", b"/plaintext", [(b"host", b"127.0.0.1:8080")])
    assert second.headers is not first.headers
    third, _ = exchange(conn, Response(200, []))
    assert third == second


def test_connection_server_repeated_head_after_another_request(backend: str) -> None:
    post = b"POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"
    conn = server(backend, GET + post + GET)
    exchange(conn, Response(200, []))
    assert conn.their_method == b"GET"
    exchange(conn, Response(200, []))
    assert conn.their_method == b"POST"
    again, _ = exchange(conn, Response(200, []))
    assert again.method == conn.their_method == b"GET"


def test_connection_server_repeated_head_with_connection_close(backend: str) -> None:
    close = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    conn = server(backend, close + close)
    drain(conn)
    assert b"connection: close" in conn.send_response(Response(200, []), b"")
    assert not conn.keep_alive


def test_connection_server_repeated_response_heads_are_identical(backend: str) -> None:
    conn = server(backend, GET * 3)
    headers = [(b"content-type", b"text/plain")]
    _, one = exchange(conn, Response(200, list(headers)), b"abc")
    _, two = exchange(conn, Response(200, list(headers)), b"xyz")
    _, three = exchange(conn, Response(200, list(headers)), b"longer")
    assert one == b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nabc"
    assert two == one.replace(b"abc", b"xyz")
    assert three.endswith(b"content-length: 6\r\n\r\nlonger")


def test_connection_server_repeated_requests_each_give_the_same_events(backend: str) -> None:
    conn = server(backend, GET * 3)
    headers = [(b"content-type", b"text/plain")]
    seen = [exchange(conn, Response(200, list(headers)), b"abc") for _ in range(3)]
    expected = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nabc"
    assert [wire for _, wire in seen] == [expected] * 3
    requests = [request for request, _ in seen]
    assert requests == [Request(b"GET", b"/plaintext", [(b"host", b"127.0.0.1:8080")])] * 3
    assert requests[0].headers is not requests[1].headers  # fresh objects each time


def test_connection_server_list_fields_changed_in_place_are_not_reused(backend: str) -> None:
    conn = server(backend, GET * 2)
    field = [b"x-state", b"one"]
    _, one = exchange(conn, Response(200, [field]))  # type: ignore[list-item]
    field[1] = b"two"
    _, two = exchange(conn, Response(200, [field]))  # type: ignore[list-item]
    assert b"x-state: one" in one
    assert b"x-state: two" in two


def test_connection_server_changed_status_is_not_reused(backend: str) -> None:
    conn = server(backend, GET * 2)
    exchange(conn, Response(200, []), b"a")
    _, wire = exchange(conn, Response(404, []), b"a")
    assert wire.startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_connection_server_send_response_encodes_an_app_chunked_body(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    wire = conn.send_response(Response(200, [(b"transfer-encoding", b"chunked")]), b"abc")
    assert wire == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"


def test_connection_server_app_chunked_to_http10_is_close_delimited(backend: str) -> None:
    conn = server(backend, b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    drain(conn)
    wire = conn.send_response(Response(200, [(b"transfer-encoding", b"chunked")]), b"abc")
    assert wire == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc"
    assert not conn.keep_alive


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-length", b"1"), (b"transfer-encoding", b"chunked")],
        [(b"content-length", b"x1")],
        [(b"content-length", b"1"), (b"content-length", b"1")],
        [(b"transfer-encoding", b"gzip")],
    ],
    ids=["cl-and-te", "cl-not-digits", "cl-twice", "te-gzip"],
)
def test_connection_server_refuses_invalid_framing_from_the_app(
    backend: str, headers: list[tuple[bytes, bytes]]
) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send(Response(200, headers))


@pytest.mark.parametrize("status", [100, 101, 103], ids=["100", "101", "103"])
def test_connection_server_send_response_refuses_interim_statuses(
    backend: str, status: int
) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send_response(Response(status, []), b"")


def test_connection_server_refuses_switching_protocols(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError, match="101"):
        conn.send(Response(101, [(b"upgrade", b"websocket")]))


def test_connection_server_refuses_body_before_head(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send(Data(b"x"))


def test_connection_server_refuses_end_before_head(backend: str) -> None:
    conn = server(backend, GET)
    drain(conn)
    with pytest.raises(LocalProtocolError):
        conn.send(EndOfMessage())


def test_connection_server_send_connection_closed(backend: str) -> None:
    conn = server(backend, GET)
    assert conn.send(ConnectionClosed()) == b""
    assert conn.our_state is State.CLOSED
    assert not conn.keep_alive


def test_connection_server_keeps_reporting_closed(backend: str) -> None:
    conn = server(backend)
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed()
    assert conn.next_event() == ConnectionClosed()


def test_connection_server_refuses_a_large_trailer_section(backend: str) -> None:
    wire = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + b"a" * 300
    conn = server(backend, wire, limits=Limits(max_header_bytes=200))
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 431


def test_connection_server_refuses_a_large_complete_trailer_section(backend: str) -> None:
    wire = (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: "
        + b"a" * 300
        + b"\r\n\r\n"
    )
    conn = server(backend, wire, limits=Limits(max_header_bytes=200))
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 431


def test_connection_server_refuses_too_many_trailers(backend: str) -> None:
    wire = (
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        + b"X: 1\r\n" * 5
        + b"\r\n"
    )
    conn = server(backend, wire, limits=Limits(max_header_count=3))
    with pytest.raises(RemoteProtocolError) as caught:
        drain(conn)
    assert caught.value.status_code == 431


def test_connection_server_buffered_counts_pipelined_bytes(backend: str) -> None:
    conn = server(backend, GET + b"GET /2")
    drain(conn)
    assert conn.buffered == len(b"GET /2") == len(conn.trailing_data[0])


def test_connection_server_trailers_trickle_in(backend: str) -> None:
    conn = server(backend, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
    events = drain(conn)
    for byte in b"A: 1\r\nB: 2\r\n\r\n":
        conn.receive_data(bytes([byte]))
        events += drain(conn)
    assert events[-1] == EndOfMessage([(b"a", b"1"), (b"b", b"2")])


def test_connection_server_bare_lf_in_trickled_trailers(backend: str) -> None:
    conn = server(backend, b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n")
    drain(conn)
    conn.receive_data(b"A: 1\r\n")
    drain(conn)
    conn.receive_data(b"B: 2\n")
    with pytest.raises(RemoteProtocolError):
        drain(conn)


@pytest.mark.parametrize(
    "settings",
    [
        {"max_request_line": 0},
        {"max_header_bytes": -1},
        {"max_header_count": -1},
        {"max_body_size": -5},
        {"max_request_line": 1.5},
    ],
    ids=["zero-line", "negative-head", "negative-count", "negative-body", "float-line"],
)
def test_connection_limits_refuse_invalid_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match="Limits"):
        Limits(**settings)  # type: ignore[arg-type]
