"""Fixtures: the test app on uvicorn and on transom's server, and raw servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .servers import Handler, RawServer, ServerThread
from .testapp import app


@pytest.fixture(scope="session")
def uvicorn_server() -> Iterator[ServerThread]:
    server = ServerThread("uvicorn", app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def transom_server() -> Iterator[ServerThread]:
    server = ServerThread("transom", app)
    yield server
    server.stop()


@pytest.fixture(params=["uvicorn", "transom"])
def server(request: Any) -> ServerThread:
    """The test app on each server in turn."""
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], RawServer]]:
    """``raw_server(handler)``: a RawServer stopped at the end of the test."""
    started: list[RawServer] = []

    def start(handler: Handler, **kwargs: Any) -> RawServer:
        server = RawServer(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
