"""The access log: one line per response, nothing when it is off."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from .rawhttp import get, hello_app


async def test_accesslog_one_line_per_response(
    serve: Any, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="transom.access")
    server = await serve(hello_app, access_log=True)
    client = await client_factory(server.port)
    await client.request(get("/notes?page=2"))
    await client.request(get("/missing", method="HEAD"), head=True)
    lines = [r.getMessage() for r in caplog.records if r.name == "transom.access"]
    assert len(lines) == 2
    assert lines[0].startswith("127.0.0.1:")
    assert '"GET /notes?page=2 HTTP/1.1" 200 5 ' in lines[0]
    assert lines[0].endswith("ms")
    assert '"HEAD /missing HTTP/1.1" 200' in lines[1]


async def test_accesslog_off_logs_nothing(
    serve: Any, client_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="transom.access")
    server = await serve(hello_app, access_log=False)
    client = await client_factory(server.port)
    await client.request(get("/"))
    assert [r for r in caplog.records if r.name == "transom.access"] == []
