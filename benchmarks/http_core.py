"""Per-request cost of the sans-IO HTTP/1.1 core, server role, both backends.

Measures what a server does for each request: ``receive_data``, then
``next_event`` until ``PAUSED`` (Request, EndOfMessage, PAUSED),
``send_response`` and ``start_next_cycle``, plus the ``next_event`` that
finds ``NEED_DATA``. Two shapes: one request per ``receive_data``
(keep-alive), and 16 pipelined requests in one ``receive_data`` whose 16
responses are joined into one write.

Rows marked "distinct" give every request its own target, as varied
traffic does; the others repeat one request, as a load generator does. Both
parse and check every head.

    python benchmarks/http_core.py [--rounds N]
"""

from __future__ import annotations

import argparse
import itertools
import timeit

from transom.http.connection import NEED_DATA, PAUSED, Connection, Role
from transom.http.events import Request, Response

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
BROWSER_REQUEST = (
    b"GET /plaintext HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n\r\n"
)
HEADERS = [(b"content-type", b"text/plain; charset=utf-8")]
BODY = b"Hello, World!"


def serve(conn: Connection, data: bytes) -> bytes:
    """What a server's data_received does: every complete exchange, in order."""
    conn.receive_data(data)
    out = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA:
            break
        if event is PAUSED:
            conn.start_next_cycle()
            continue
        if type(event) is Request:
            out.append(conn.send_response(Response(200, HEADERS), BODY))
    return b"".join(out)


def distinct(request: bytes, count: int) -> list[bytes]:
    """``count`` variants of ``request``, each with its own target."""
    return [request.replace(b"/plaintext", b"/plaintext?i=%d" % i, 1) for i in range(count)]


def measure(backend: str, requests: list[bytes], depth: int, rounds: int) -> float:
    """Microseconds per request; each receive_data carries ``depth`` requests."""
    conn = Connection(Role.SERVER, backend=backend)
    batches = [b"".join(requests[i : i + depth]) for i in range(0, len(requests), depth)]
    for batch in batches:
        assert serve(conn, batch).count(b"HTTP/1.1 200 OK\r\n") == depth
    cycle = itertools.cycle(batches)
    seconds = min(timeit.repeat(lambda: serve(conn, next(cycle)), number=rounds, repeat=25))
    return seconds / (rounds * depth) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3200)
    args = parser.parse_args()
    shapes = [
        ("plaintext GET", [REQUEST] * 32),
        ("plaintext GET, distinct", distinct(REQUEST, 32)),
        ("browser GET", [BROWSER_REQUEST] * 32),
        ("browser GET, distinct", distinct(BROWSER_REQUEST, 32)),
    ]
    for name, requests in shapes:
        for backend in ("llhttp", "python"):
            single = measure(backend, requests, 1, args.rounds)
            pipelined = measure(backend, requests, 16, max(args.rounds // 16, 1))
            print(
                f"{name:26} {backend:7} single: {single:5.2f} us/request   "
                f"16 pipelined: {pipelined:5.2f} us/request"
            )


if __name__ == "__main__":
    main()
