"""TLS: verification on by default, CA bundles, verify=False, client certificates, SNI."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from transom.client import AsyncClient, Client
from transom.exceptions import ConfigurationError, ConnectError

from .servers import RawServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure"


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_path(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture
def tls_server(
    raw_server: Callable[..., RawServer], ca: trustme.CA
) -> Iterator[tuple[RawServer, list[str | None]]]:
    """A TLS server for localhost; the list collects the SNI names it saw."""
    names: list[str | None] = []
    context = _server_context(ca, "localhost")
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,func-returns-value]
    server = raw_server(answer_ok, ssl=context)
    yield server, names


async def test_tls_verifies_with_ca_bundle_and_sends_sni(
    tls_server: tuple[RawServer, list[str | None]], ca_path: str
) -> None:
    server, names = tls_server
    async with AsyncClient(verify=ca_path) as client:
        response = await client.get(f"https://localhost:{server.port}/")
    assert response.text == "secure"
    assert names == ["localhost"]


def test_tls_sync_client_verifies_with_ca_bundle(
    tls_server: tuple[RawServer, list[str | None]], ca_path: str
) -> None:
    server, _ = tls_server
    with Client(verify=ca_path) as client:
        assert client.get(f"https://localhost:{server.port}/").text == "secure"
        assert client.get(f"https://localhost:{server.port}/").text == "secure"
    assert server.connections == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_tls_untrusted_certificate_refused_by_default(
    tls_server: tuple[RawServer, list[str | None]], kind: str
) -> None:
    server, _ = tls_server
    url = f"https://localhost:{server.port}/"
    with pytest.raises(ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        if kind == "sync":
            with Client() as client:
                client.get(url)
        else:
            async with AsyncClient() as client:
                await client.get(url)


async def test_tls_verify_false_accepts_any_certificate(
    tls_server: tuple[RawServer, list[str | None]],
) -> None:
    server, _ = tls_server
    async with AsyncClient(verify=False) as client:
        response = await client.get(f"https://localhost:{server.port}/")
    assert response.text == "secure"


async def test_tls_hostname_mismatch_refused(
    raw_server: Callable[..., RawServer], ca: trustme.CA, ca_path: str
) -> None:
    server = raw_server(answer_ok, ssl=_server_context(ca, "other.example"))
    async with AsyncClient(verify=ca_path) as client:
        with pytest.raises(ConnectError, match="certificate"):
            await client.get(f"https://localhost:{server.port}/")


async def test_tls_client_certificate(
    raw_server: Callable[..., RawServer], ca: trustme.CA, ca_path: str, tmp_path: Path
) -> None:
    context = _server_context(ca, "localhost")
    context.verify_mode = ssl.CERT_REQUIRED
    ca.configure_trust(context)
    server = raw_server(answer_ok, ssl=context)
    client_cert = ca.issue_cert("client@example.org")
    cert_path = tmp_path / "client.pem"
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    async with AsyncClient(verify=ca_path, cert=str(cert_path)) as client:
        response = await client.get(f"https://localhost:{server.port}/")
    assert response.text == "secure"


async def test_tls_ssl_context_used_as_given(
    tls_server: tuple[RawServer, list[str | None]], ca: trustme.CA
) -> None:
    server, _ = tls_server
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with AsyncClient(verify=context) as client:
        assert (await client.get(f"https://localhost:{server.port}/")).text == "secure"


async def test_tls_missing_ca_bundle_is_a_configuration_error(
    tls_server: tuple[RawServer, list[str | None]],
) -> None:
    server, _ = tls_server
    async with AsyncClient(verify="/no/such/ca.pem") as client:
        with pytest.raises(ConfigurationError, match="no such CA bundle"):
            await client.get(f"https://localhost:{server.port}/")
