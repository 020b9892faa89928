"""``transom http`` over TLS: client certificates, ``--ssl``, ``--default-scheme`` and ``https``."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from .servers import RawServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure"


async def answer_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request(reader)
    writer.write(OK)
    await writer.drain()
    writer.close()


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server(raw_server: Callable[..., RawServer], ca: trustme.CA, client_cert: bool) -> RawServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    if client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return raw_server(answer_ok, ssl=context)


def run(*argv: str, command: str = "http") -> subprocess.CompletedProcess[str]:
    code = (
        f"import sys; from transom.client.cli import {command}_command as c; "
        "sys.exit(c(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def test_cli_tls_client_certificate(
    raw_server: Callable[..., RawServer], ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    server = _server(raw_server, ca, client_cert=True)
    leaf = ca.issue_cert("client@example.org")
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    url = f"https://localhost:{server.port}/"
    with_cert = run("--verify", ca_file, "--cert", str(cert), "--cert-key", str(key), url)
    assert (with_cert.returncode, with_cert.stdout) == (0, "secure")
    without = run("--verify", ca_file, url)
    assert without.returncode == 1


@pytest.mark.parametrize(("version", "code"), [("tls1.3", 0), ("tls1.2", 1)])
def test_cli_tls_ssl_version(
    raw_server: Callable[..., RawServer], ca: trustme.CA, ca_file: str, version: str, code: int
) -> None:
    server = _server(raw_server, ca, client_cert=False)
    result = run("--ssl", version, "--verify", ca_file, f"https://localhost:{server.port}/")
    assert result.returncode == code


def test_cli_tls_default_scheme_and_https_command(
    raw_server: Callable[..., RawServer], ca: trustme.CA, ca_file: str
) -> None:
    server = _server(raw_server, ca, client_cert=False)
    target = f"localhost:{server.port}/"
    assert run("--default-scheme", "https", "--verify", ca_file, target).stdout == "secure"
    assert run("--verify", ca_file, target, command="https").stdout == "secure"
