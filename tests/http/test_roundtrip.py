"""parse(write(message)) == message, for requests and responses, on both backends,
however the byte stream is cut into ``receive_data`` calls."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.conftest import BACKENDS
from transom.http.connection import NEED_DATA, PAUSED, Connection, Role
from transom.http.events import Data, EndOfMessage, Event, HeaderList, Request, Response

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
FRAMING = {b"host", b"content-length", b"transfer-encoding", b"connection", b"expect"}

tokens = st.text(TCHARS, min_size=1, max_size=12).map(str.encode)
names = tokens.filter(lambda name: name not in FRAMING)
# A field value: visible ASCII and obs-text, inner spaces and tabs, no
# whitespace at either end (a parser strips it).
values = st.binary(max_size=30).map(
    lambda raw: bytes(
        b for b in raw if b == 0x20 or b == 0x09 or 0x21 <= b <= 0x7E or b >= 0x80
    ).strip(b" \t")
)
fields = st.lists(st.tuples(names, values), max_size=8)
methods = st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS"]) | tokens.map(
    bytes.upper
)
targets = st.text("abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%", max_size=40).map(
    lambda path: b"/" + path.encode()
)
bodies = st.lists(st.binary(min_size=1, max_size=64), max_size=4)
trailers = st.lists(st.tuples(names, values), max_size=3)
cuts = st.lists(st.integers(min_value=0, max_value=4000), max_size=6)
backends = st.sampled_from(BACKENDS)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def split(wire: bytes, at: list[int]) -> list[bytes]:
    """``wire`` cut at the given points; no piece is empty (``b""`` would mean EOF)."""
    points = sorted({cut % (len(wire) + 1) for cut in at})
    pieces = [wire[i:j] for i, j in zip([0, *points], [*points, len(wire)], strict=True)]
    return [piece for piece in pieces if piece]


def receive_all(conn: Connection, pieces: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for piece in pieces:
        conn.receive_data(piece)
        while (event := conn.next_event()) is not NEED_DATA and event is not PAUSED:
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)
    return events


def body_and_end(events: list[Event]) -> tuple[bytes, list[Event]]:
    body = b"".join(e.data for e in events if isinstance(e, Data))
    return body, [e for e in events if not isinstance(e, Data)]


@SETTINGS
@given(backends, methods, targets, fields, bodies, trailers, st.booleans(), cuts)
def test_roundtrip_request(
    backend: str,
    method: bytes,
    target: bytes,
    headers: HeaderList,
    body: list[bytes],
    trailer: HeaderList,
    chunked: bool,
    at: list[int],
) -> None:
    framing = (
        [(b"transfer-encoding", b"chunked")]
        if chunked
        else [(b"content-length", b"%d" % sum(map(len, body)))]
    )
    request = Request(method, target, [(b"host", b"example.com"), *headers, *framing])
    sender = Connection(Role.CLIENT, backend=backend)
    wire = sender.send(request)
    for piece in body:
        wire += sender.send(Data(piece))
    wire += sender.send(EndOfMessage(trailer if chunked else []))

    events = receive_all(Connection(Role.SERVER, backend=backend), split(wire, at))
    received_body, others = body_and_end(events)
    assert others == [request, EndOfMessage(trailer if chunked else [])]
    assert received_body == b"".join(body)


@SETTINGS
@given(
    backends,
    st.integers(min_value=200, max_value=599).filter(lambda s: s not in (204, 304)),
    st.text("abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=20).map(
        lambda reason: reason.strip().encode() or b"X"
    ),
    fields,
    bodies,
    trailers,
    st.booleans(),
    cuts,
)
def test_roundtrip_response(
    backend: str,
    status: int,
    reason: bytes,
    headers: HeaderList,
    body: list[bytes],
    trailer: HeaderList,
    chunked: bool,
    at: list[int],
) -> None:
    framing = (
        [(b"transfer-encoding", b"chunked")]
        if chunked
        else [(b"content-length", b"%d" % sum(map(len, body)))]
    )
    response = Response(status, [*headers, *framing], b"1.1", reason)
    request = Request(b"GET", b"/", [(b"host", b"a")])
    server = Connection(Role.SERVER, backend=backend)
    client = Connection(Role.CLIENT, backend=backend)
    server.receive_data(client.send_request(request))
    assert server.next_event() == request
    wire = server.send(response)
    for piece in body:
        wire += server.send(Data(piece))
    wire += server.send(EndOfMessage(trailer if chunked else []))

    events = receive_all(client, split(wire, at))
    received_body, others = body_and_end(events)
    assert others == [response, EndOfMessage(trailer if chunked else [])]
    assert received_body == b"".join(body)


@SETTINGS
@given(backends, st.lists(targets, min_size=1, max_size=6), cuts)
def test_roundtrip_pipelined_requests(backend: str, paths: list[bytes], at: list[int]) -> None:
    requests = [Request(b"GET", path, [(b"host", b"a")]) for path in paths]
    wire = b"".join(Connection(Role.CLIENT, backend=backend).send_request(r) for r in requests)
    server = Connection(Role.SERVER, backend=backend)
    seen: list[Event] = []
    for piece in split(wire, at):
        server.receive_data(piece)
        while True:
            event = server.next_event()
            if event is NEED_DATA:
                break
            if event is PAUSED:
                server.start_next_cycle()
                continue
            assert not isinstance(event, type(NEED_DATA))
            seen.append(event)
            if isinstance(event, EndOfMessage):
                server.send_response(Response(200, []), b"")
    assert [e for e in seen if isinstance(e, Request)] == requests
