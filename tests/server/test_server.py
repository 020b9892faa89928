"""Bind, serve, shut down gracefully; TLS and Unix sockets."""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from transom._types import Receive, Scope, Send
from transom.exceptions import ConfigurationError
from transom.server import Server, ServerConfig

from .rawhttp import get, hello_app, scope_app


def slow_app(gate: asyncio.Event) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await gate.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"finished"})

    return app


async def test_server_shutdown_lets_in_flight_request_finish(
    serve: Any, client_factory: Any
) -> None:
    gate = asyncio.Event()
    server = await serve(slow_app(gate))
    client = await client_factory(server.port)
    client.send(get("/"))
    await asyncio.sleep(0.05)
    server.request_shutdown()
    await asyncio.sleep(0.05)
    gate.set()
    response = await client.response()
    assert (response.status, response.body) == (200, b"finished")
    assert response.header(b"connection") == b"close"
    assert await client.is_closed()


async def test_server_shutdown_closes_idle_keep_alive_after_its_grace(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(hello_app, keep_alive_timeout=30)
    client = await client_factory(server.port)
    assert (await client.request(get("/"))).status == 200
    server.request_shutdown()
    assert await client.read_until_closed() == b""


async def test_server_shutdown_timeout_drops_stuck_requests(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(slow_app(asyncio.Event()), shutdown_timeout=0.2)
    client = await client_factory(server.port)
    client.send(get("/"))
    await asyncio.sleep(0.05)
    server.request_shutdown()
    assert await client.read_until_closed() == b""


async def test_server_stops_accepting_on_shutdown(serve: Any, client_factory: Any) -> None:
    server = await serve(hello_app)
    port = server.port
    server.request_shutdown()
    await asyncio.sleep(0.2)
    with pytest.raises(OSError):
        await client_factory(port)


async def test_server_port_in_use_is_configuration_error(serve: Any, client_factory: Any) -> None:
    first = await serve(hello_app)
    with pytest.raises(ConfigurationError, match="cannot listen"):
        await Server(ServerConfig(hello_app, port=first.port)).serve()


async def test_server_sends_date_and_optional_server_header(
    serve: Any, client_factory: Any
) -> None:
    server = await serve(hello_app, server_header=True)
    client = await client_factory(server.port)
    response = await client.request(get("/"))
    assert response.header(b"server") == b"transom"
    assert (response.header(b"date") or b"").endswith(b" GMT")
    await client.close()


@pytest.fixture(scope="module")
def certificate() -> Iterator[tuple[trustme.CA, str, str]]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    with tempfile.TemporaryDirectory() as tmp:
        certfile, keyfile = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(certfile)
        cert.private_key_pem.write_to_path(keyfile)
        yield ca, certfile, keyfile


async def test_server_tls_serves_https(serve: Any, client_factory: Any, certificate: Any) -> None:
    ca, certfile, keyfile = certificate
    server = await serve(scope_app, ssl_certfile=certfile, ssl_keyfile=keyfile)
    context = ssl.create_default_context()
    ca.configure_trust(context)
    client = await client_factory(server.port, ssl_context=context)
    scope = (await client.request(get("/secure"))).json()
    assert (scope["scheme"], scope["path"]) == ("https", "/secure")
    await client.close()


async def test_server_tls_bad_key_is_configuration_error(certificate: Any) -> None:
    _, certfile, _ = certificate
    config = ServerConfig(hello_app, port=0, ssl_certfile=certfile, ssl_keyfile=__file__)
    with pytest.raises(ConfigurationError, match="TLS"):
        await Server(config).serve()


async def test_server_unix_socket(serve: Any, client_factory: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "transom.sock")
        server = await serve(scope_app, uds=path)
        client = await client_factory(uds=path)
        scope = (await client.request(get("/over-uds"))).json()
        assert scope["path"] == "/over-uds"
        assert scope["client"] is None
        assert scope["server"] == [path, None]
        await client.close()
        server.request_shutdown()
        for _ in range(100):
            if not os.path.exists(path):
                break
            await asyncio.sleep(0.02)
        assert not os.path.exists(path)


@pytest.fixture(scope="module")
def encrypted_key(certificate: Any) -> Iterator[str]:
    from cryptography.hazmat.primitives import serialization

    _, _, keyfile = certificate
    with open(keyfile, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "encrypted.pem")
        with open(path, "wb") as f:
            f.write(pem)
        yield path


async def test_server_tls_key_with_password(
    serve: Any, client_factory: Any, certificate: Any, encrypted_key: str
) -> None:
    ca, certfile, _ = certificate
    server = await serve(
        hello_app, ssl_certfile=certfile, ssl_keyfile=encrypted_key, ssl_keyfile_password="s3cret"
    )
    context = ssl.create_default_context()
    ca.configure_trust(context)
    client = await client_factory(server.port, ssl_context=context)
    assert (await client.request(get("/"))).body == b"hello"


async def test_server_tls_wrong_key_password(certificate: Any, encrypted_key: str) -> None:
    _, certfile, _ = certificate
    config = ServerConfig(
        hello_app,
        port=0,
        ssl_certfile=certfile,
        ssl_keyfile=encrypted_key,
        ssl_keyfile_password="wrong",
    )
    with pytest.raises(ConfigurationError, match="TLS"):
        await Server(config).serve()


async def test_server_tick_refreshes_date_once_a_second(
    serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve(hello_app)
    assert server.state is not None
    monkeypatch.setattr("transom.server.server.time.time", lambda: 1_000_000_000.4)
    server._tick()
    first = server.state.default_headers
    assert first == [(b"date", b"Sun, 09 Sep 2001 01:46:40 GMT")]
    server._tick()
    assert server.state.default_headers is first  # same second: nothing rebuilt
    monkeypatch.setattr("transom.server.server.time.time", lambda: 1_000_000_001.0)
    server._tick()
    assert server.state.default_headers == [(b"date", b"Sun, 09 Sep 2001 01:46:41 GMT")]
