"""Fixtures for the sans-IO core: every connection test runs on both parser backends."""

from __future__ import annotations

import pytest

from transom.http.connection import NEED_DATA, PAUSED, Connection, Limits, Role
from transom.http.events import ConnectionClosed, Event

BACKENDS = ["python", "llhttp"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The parser backend under test; every test that takes it runs twice."""
    return str(request.param)


def drain(conn: Connection) -> list[Event]:
    """Every event up to the next ``NEED_DATA`` or ``PAUSED`` (not included)
    or up to ``ConnectionClosed`` (included)."""
    events: list[Event] = []
    while True:
        event = conn.next_event()
        if event is NEED_DATA or event is PAUSED:
            return events
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)
        if isinstance(event, ConnectionClosed):
            return events


def server(backend: str, data: bytes = b"", limits: Limits | None = None) -> Connection:
    conn = Connection(Role.SERVER, backend=backend, limits=limits)
    if data:
        conn.receive_data(data)
    return conn


def client(backend: str, limits: Limits | None = None) -> Connection:
    return Connection(Role.CLIENT, backend=backend, limits=limits)
