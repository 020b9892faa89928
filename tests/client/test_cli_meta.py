"""``transom http --meta`` / ``-vv``: elapsed time, and the connection each response came over."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .servers import ServerThread


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSOM_CONFIG_DIR", str(tmp_path / "config"))


def http(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "transom", "http", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def _meta(text: str) -> list[dict[str, str]]:
    """Each metadata block of the output, as a dict."""
    blocks = re.findall(r"(Elapsed time: .*?\n)\n", text, re.DOTALL)
    return [dict(line.split(": ", 1) for line in block.splitlines()) for block in blocks]


@pytest.mark.parametrize("flag", ["--meta", "-m", "-vv"])
def test_cli_meta_shows_the_connection(transom_server: ServerThread, flag: str) -> None:
    result = http(flag, f":{transom_server.port}/plaintext")
    assert result.returncode == 0, result.stderr
    (meta,) = _meta(result.stdout)
    assert re.fullmatch(r"\d+\.\d{6}s", meta["Elapsed time"])
    assert meta["Remote"] == f"http://localhost:{transom_server.port}"
    assert meta["Remote address"] in (
        f"127.0.0.1:{transom_server.port}",
        f"[::1]:{transom_server.port}",
    )
    assert meta["Connection"] == "new"
    assert meta["Protocol"] == "HTTP/1.1"


def test_cli_meta_of_a_redirect_shows_the_reused_connection(transom_server: ServerThread) -> None:
    url = f":{transom_server.port}/redirect/302?to=/plaintext"
    result = http("--follow", "--all", "-m", url)
    assert result.returncode == 0, result.stderr
    hop, final = _meta(result.stdout)
    assert (hop["Connection"], final["Connection"]) == ("new", "reused (kept alive)")
    assert hop["Remote address"] == final["Remote address"]


def test_cli_meta_in_colour(transom_server: ServerThread) -> None:
    result = http("--pretty", "colors", "-m", f":{transom_server.port}/plaintext")
    assert "\x1b[36mRemote address\x1b[0m: " in result.stdout
    assert "\x1b[36mConnection\x1b[0m: new" in result.stdout
